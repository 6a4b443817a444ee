package dev.stateprobe.events;

import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.report.Logfmt;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes events.k8s.io/v1 Events, aggregating repeats of the same (object, reason) within a series
 * window into one Event whose {@code series.count} grows, as client-go's recorder does: a flapping
 * drift must not flood etcd.
 *
 * <p>Across restarts: an Event's name is deterministic, from the object, its UID, the reason and
 * the series window its series began in ({@link #eventName}). The first time this process writes an
 * (object, reason) it reads the Events of the current and the previous window by name; one whose
 * series began less than a window ago is continued (its count + 1), so a restarted agent adds to
 * the series its predecessor began instead of starting a second one. Only {@code series} is
 * patched: events.k8s.io/v1 refuses a change of {@code note} (or any other field) in an update, so
 * a repeat's note is the first one's.
 */
public final class EventRecorder {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  /** Repeats within this window join the first event's series. */
  static final Duration SERIES_WINDOW = Duration.ofMinutes(10);

  private static final int MAX_TRACKED = 1024;
  static final String CONTROLLER = "stateprobe.dev/agent";
  private static final DateTimeFormatter MICRO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSX")
          .withZone(java.time.ZoneOffset.UTC);

  /** Normal or Warning, as Kubernetes spells them. */
  public enum Type {
    NORMAL("Normal"),
    WARNING("Warning");

    final String value;

    Type(String value) {
      this.value = value;
    }
  }

  private record Key(String namespace, String kind, String name, String uid, String reason) {}

  private record Series(String eventName, Instant first, int count) {}

  private final KubernetesClient client;
  private final WorkerExecutor worker;
  private final String nodeName;
  private final Metrics metrics;
  private final Clock clock;

  /** Touched only by the ordered worker tasks (one at a time); locked for memory visibility. */
  private final Map<Key, Series> recent =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Series> eldest) {
          return size() > MAX_TRACKED;
        }
      };

  public EventRecorder(
      KubernetesClient client,
      WorkerExecutor worker,
      String nodeName,
      Metrics metrics,
      Clock clock) {
    this.client = client;
    this.worker = worker;
    this.nodeName = nodeName;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** An event about a pod; the future always succeeds. */
  public Future<Void> pod(PodRef pod, Type type, String reason, String action, String note) {
    ObjectReference ref =
        new ObjectReferenceBuilder()
            .withApiVersion("v1")
            .withKind("Pod")
            .withNamespace(pod.namespace())
            .withName(pod.name())
            .withUid(pod.uid())
            .build();
    return emit(
        new Key(pod.namespace(), "Pod", pod.name(), pod.uid(), reason),
        ref,
        type,
        reason,
        action,
        note);
  }

  /** An event about this node (in namespace {@code default}, where Kubernetes puts them). */
  public Future<Void> node(Type type, String reason, String action, String note) {
    ObjectReference ref =
        new ObjectReferenceBuilder()
            .withApiVersion("v1")
            .withKind("Node")
            .withName(nodeName)
            .build();
    return emit(new Key("default", "Node", nodeName, "", reason), ref, type, reason, action, note);
  }

  private Future<Void> emit(
      Key key, ObjectReference regarding, Type type, String reason, String action, String note) {
    Instant now = clock.instant();
    String truncated = note.length() > 1024 ? note.substring(0, 1021) + "..." : note;
    // Ordered: the series of a key is decided and written one emit at a time, so a repeat finds
    // the event the emit before it created; unordered on a pool of two threads it could not.
    return worker
        .<Void>executeBlocking(
            () -> {
              write(key, regarding, type, reason, action, truncated, now);
              metrics.event(reason);
              return null;
            },
            true)
        .otherwise(
            t -> {
              LOG.warn(
                  "event=event_write_failed reason={} regarding={}/{} error=\"{}\"",
                  reason,
                  Logfmt.value(key.namespace()),
                  Logfmt.value(key.name()),
                  Logfmt.escaped(Objects.toString(t.getMessage(), t.toString())));
              synchronized (recent) {
                // The series may not exist server-side: look it up again next time.
                recent.remove(key);
              }
              return null;
            });
  }

  /** Continues this key's series if one is live (ours, or a predecessor's), else begins one. */
  private void write(
      Key key,
      ObjectReference regarding,
      Type type,
      String reason,
      String action,
      String note,
      Instant now) {
    Series prior;
    synchronized (recent) {
      prior = recent.get(key);
    }
    if (prior == null) {
      // This process has not written the key yet: a predecessor may have.
      prior = find(key, now).orElse(null);
    }
    if (prior != null && live(prior, now) && continueSeries(key, prior, now)) {
      return;
    }
    Series fresh = new Series(eventName(key, now), now, 1);
    Event e =
        new EventBuilder()
            .withNewMetadata()
            .withName(fresh.eventName())
            .withNamespace(key.namespace())
            .endMetadata()
            .withEventTime(new MicroTime(MICRO.format(now)))
            .withReportingController(CONTROLLER)
            .withReportingInstance(CONTROLLER + "-" + nodeName)
            .withAction(action)
            .withReason(reason)
            .withType(type.value)
            .withRegarding(regarding)
            .withNote(note)
            .build();
    try {
      client.events().v1().events().inNamespace(key.namespace()).resource(e).create();
      remember(key, fresh);
    } catch (KubernetesClientException ex) {
      if (ex.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw ex;
      }
      // Written in this window by another process of this agent after we looked: join it.
      Series existing =
          read(key, fresh.eventName())
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "event " + fresh.eventName() + " exists and is gone"));
      if (!continueSeries(key, existing, now)) {
        throw new IllegalStateException("event " + fresh.eventName() + " vanished while joined");
      }
    }
  }

  private static boolean live(Series s, Instant now) {
    return Duration.between(s.first(), now).compareTo(SERIES_WINDOW) < 0;
  }

  /**
   * The series a predecessor began for this key and that is still live: its name holds the window
   * it began in, which is this one or the one before.
   */
  private Optional<Series> find(Key key, Instant now) {
    for (Instant in : List.of(now, now.minus(SERIES_WINDOW))) {
      Optional<Series> s = read(key, eventName(key, in)).filter(x -> live(x, now));
      if (s.isPresent()) {
        return s;
      }
    }
    return Optional.empty();
  }

  private Optional<Series> read(Key key, String name) {
    Event e = client.events().v1().events().inNamespace(key.namespace()).withName(name).get();
    if (e == null || e.getEventTime() == null || e.getEventTime().getTime() == null) {
      return Optional.empty();
    }
    Instant first = Instant.parse(e.getEventTime().getTime());
    int count =
        e.getSeries() == null || e.getSeries().getCount() == null ? 1 : e.getSeries().getCount();
    return Optional.of(new Series(name, first, count));
  }

  /**
   * Adds one to a series written before; false when its event is gone (deleted by the API server's
   * event TTL, or by a person), so that a new one is written instead.
   */
  private boolean continueSeries(Key key, Series prior, Instant now) {
    Series next = new Series(prior.eventName(), prior.first(), prior.count() + 1);
    String patch =
        "{\"series\":{\"count\":"
            + next.count()
            + ",\"lastObservedTime\":\""
            + MICRO.format(now)
            + "\"}}";
    // On a bare withName(...), fabric8 GETs the Event before a string patch: a stub carrying
    // only the name saves that read, and a PATCH of an Event that is gone answers 404 by itself.
    Event target =
        new EventBuilder()
            .withNewMetadata()
            .withName(next.eventName())
            .withNamespace(key.namespace())
            .endMetadata()
            .build();
    try {
      client
          .events()
          .v1()
          .events()
          .inNamespace(key.namespace())
          .resource(target)
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        synchronized (recent) {
          recent.remove(key);
        }
        return false;
      }
      throw e;
    }
    remember(key, next);
    return true;
  }

  private void remember(Key key, Series s) {
    synchronized (recent) {
      recent.put(key, s);
    }
  }

  /**
   * {@code <object>.<reason>.<identity>.<window>}: deterministic, so that a restarted agent finds
   * the series its predecessor began. The identity (a digest of namespace, kind, name and UID)
   * keeps a recreated pod's events apart from its predecessor's; the reason is there because two
   * reasons about one object can be written at the same instant; the window (the number of series
   * windows since the epoch) gives a series that ended a successor with a name of its own.
   */
  static String eventName(Key key, Instant seriesStart) {
    long window = seriesStart.getEpochSecond() / SERIES_WINDOW.toSeconds();
    String identity =
        String.format(
            java.util.Locale.ROOT,
            "%08x",
            (key.namespace() + "/" + key.kind() + "/" + key.name() + "/" + key.uid()).hashCode());
    String reason = key.reason().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    if (reason.length() > 30) {
      reason = reason.substring(0, 30);
    }
    String base = key.name().length() > 200 ? key.name().substring(0, 200) : key.name();
    return base + "." + reason + "." + identity + "." + Long.toHexString(window);
  }

  /** The name of the series a pod's event of {@code reason} begun at {@code start} has. */
  static String podEventName(PodRef pod, String reason, Instant start) {
    return eventName(new Key(pod.namespace(), "Pod", pod.name(), pod.uid(), reason), start);
  }
}
