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
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes events.k8s.io/v1 Events, aggregating repeats of the same (object, reason) within a series
 * window into one Event whose {@code series.count} grows, as client-go's recorder does: a flapping
 * drift must not flood etcd.
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
    Series series;
    boolean repeat;
    synchronized (recent) {
      Series prior = recent.get(key);
      repeat = prior != null && Duration.between(prior.first(), now).compareTo(SERIES_WINDOW) < 0;
      series =
          repeat
              ? new Series(prior.eventName(), prior.first(), prior.count() + 1)
              : new Series(eventName(regarding.getName(), reason, now), now, 1);
      recent.put(key, series);
    }
    String truncated = note.length() > 1024 ? note.substring(0, 1021) + "..." : note;
    // Ordered: a repeat patches the event that the first write creates; unordered on a pool of
    // two threads the patch could run before the create and find nothing.
    return worker
        .<Void>executeBlocking(
            () -> {
              if (repeat && patchSeries(key, series, now, truncated)) {
                metrics.event(reason);
                return null;
              }
              Series fresh = repeat ? restart(key, regarding, now) : series;
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
                      .withNote(truncated)
                      .build();
              client.events().v1().events().inNamespace(key.namespace()).resource(e).create();
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
                // The series may not exist server-side: start a new one next time.
                recent.remove(key);
              }
              return null;
            });
  }

  /**
   * Adds one to the series of an event written before; false when that event is gone (deleted by
   * the API server's event TTL, or by a person), so that a new one is written instead.
   */
  private boolean patchSeries(Key key, Series series, Instant now, String note) {
    String patch =
        "{\"series\":{\"count\":"
            + series.count()
            + ",\"lastObservedTime\":\""
            + MICRO.format(now)
            + "\"},\"note\":"
            + jsonString(note)
            + "}";
    // On a bare withName(...), fabric8 GETs the Event before a string patch, and the role grants
    // no events get (RbacIT): a stub carrying only the name is enough, and a PATCH of an Event
    // that is gone answers 404 by itself.
    Event target =
        new EventBuilder()
            .withNewMetadata()
            .withName(series.eventName())
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
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /** A new series for {@code key}, starting now, in place of one whose event is gone. */
  private Series restart(Key key, ObjectReference regarding, Instant now) {
    Series fresh = new Series(eventName(regarding.getName(), key.reason(), now), now, 1);
    synchronized (recent) {
      recent.put(key, fresh);
    }
    return fresh;
  }

  /**
   * {@code <object>.<hex microseconds>.<reason>}: the reason is part of it because two reasons
   * about one object can be written at the same instant (one cycle, an injected clock), and the
   * second would otherwise be refused as AlreadyExists and lost.
   */
  static String eventName(String objectName, String reason, Instant now) {
    String suffix =
        Long.toHexString(ChronoUnit.MICROS.between(Instant.EPOCH, now))
            + "."
            + reason.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    String base = objectName.length() > 200 ? objectName.substring(0, 200) : objectName;
    return base + "." + suffix;
  }

  private static String jsonString(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
