package dev.stateprobe.report;

import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.policy.PodPolicy;
import dev.stateprobe.view.PodRecord;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.json.JsonFactory;

/** Renders the agent's JSON documents. Thread-safe. */
public final class Reports {
  private final JsonFactory factory = new JsonFactory();

  /**
   * {@code /v1/drifts}: the shape others script against. {@code drifts} must already be in key
   * order (kind, namespace, name, uid), as the tracker returns them.
   *
   * @param observedAt the time of the last cycle; {@code null} before the first one
   */
  public String drifts(
      String node, boolean trusted, Instant observedAt, List<TrackedDrift> drifts) {
    return drifts(node, trusted, observedAt, drifts, d -> PodPolicy.DEFAULT);
  }

  /**
   * {@code /v1/drifts} with each entry's consistency policy: {@code policy} (its name, {@code null}
   * when none selects the pod) and {@code level}.
   */
  public String drifts(
      String node,
      boolean trusted,
      Instant observedAt,
      List<TrackedDrift> drifts,
      Function<TrackedDrift, PodPolicy> policies) {
    return render(
        g -> {
          g.writeStartObject();
          g.writeStringProperty("node", node);
          g.writeBooleanProperty("trusted", trusted);
          writeInstant(g, "observedAt", observedAt);
          g.writeArrayPropertyStart("drifts");
          for (TrackedDrift d : drifts) {
            g.writeStartObject();
            driftFields(g, d);
            PodPolicy p = policies.apply(d);
            if (p.policy().isPresent()) {
              g.writeStringProperty("policy", p.policy().get());
            } else {
              g.writeNullProperty("policy");
            }
            g.writeStringProperty("level", p.level().wireName());
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        });
  }

  /** What a repair script reads on stdin and from {@code STATE_PROBE_DRIFT_FILE}. */
  public String scriptDrift(String node, String job, TrackedDrift drift) {
    return render(
        g -> {
          g.writeStartObject();
          driftFields(g, drift);
          g.writeStringProperty("node", node);
          g.writeStringProperty("job", job);
          g.writeEndObject();
        });
  }

  private static void driftFields(JsonGenerator g, TrackedDrift d) {
    g.writeStringProperty("kind", d.drift().kind().wireName());
    g.writeStringProperty("state", d.state().wireName());
    g.writeStringProperty("namespace", d.drift().target().namespace());
    g.writeStringProperty("name", d.drift().target().name());
    g.writeStringProperty("uid", d.drift().target().uid());
    writeInstant(g, "firstObservedAt", d.firstObservedAt());
    writeInstant(g, "confirmedAt", d.confirmedAt());
    g.writeNumberProperty("observations", d.observations());
    g.writeStringProperty("detail", d.drift().detail());
  }

  /** One view's line in {@code /v1/views}. */
  public record ViewSummary(
      String name,
      boolean available,
      int pods,
      Instant observedAt,
      Double ageSeconds,
      String resourceVersion,
      String checksum,
      Map<String, Object> extra) {}

  /** {@code /v1/views}: counts, ages, resourceVersion and a checksum of each view. */
  public String views(String node, long cycle, Instant now, List<ViewSummary> views) {
    return render(
        g -> {
          g.writeStartObject();
          g.writeStringProperty("node", node);
          g.writeNumberProperty("cycle", cycle);
          writeInstant(g, "now", now);
          g.writeObjectPropertyStart("views");
          for (ViewSummary v : views) {
            g.writeObjectPropertyStart(v.name());
            g.writeBooleanProperty("available", v.available());
            g.writeNumberProperty("pods", v.pods());
            writeInstant(g, "observedAt", v.observedAt());
            if (v.ageSeconds() == null) {
              g.writeNullProperty("ageSeconds");
            } else {
              g.writeNumberProperty("ageSeconds", v.ageSeconds());
            }
            if (v.resourceVersion() != null) {
              g.writeStringProperty("resourceVersion", v.resourceVersion());
            }
            if (v.checksum() != null) {
              g.writeStringProperty("checksum", v.checksum());
            }
            for (Map.Entry<String, Object> e : v.extra().entrySet()) {
              g.writeName(e.getKey());
              writeScalar(g, e.getValue());
            }
            g.writeEndObject();
          }
          g.writeEndObject();
          g.writeEndObject();
        });
  }

  /** A small JSON object of scalars, e.g. {@code /readyz} detail. */
  public String object(Map<String, ?> fields) {
    return render(
        g -> {
          g.writeStartObject();
          for (Map.Entry<String, ?> e : fields.entrySet()) {
            g.writeName(e.getKey());
            writeScalar(g, e.getValue());
          }
          g.writeEndObject();
        });
  }

  /**
   * An order-independent digest of a view's records over what the detector compares, so that the
   * API and kubelet views of a node that agrees digest the same (and two agents, or two moments,
   * can compare views without shipping them). Hex, 16 digits.
   *
   * <p>An ordinary pod counts with its UID, labels, own annotations, spec, status and
   * deletionTimestamp (the fields {@code StaleKubeletView} compares; never the resourceVersion,
   * which the kubelet keeps from its first copy). A static pod and its mirror pod count only by the
   * static pod's UID (the mirror's {@code config.mirror}): the API side has a UID and annotations
   * of its own, and the pair is matched, not compared.
   */
  public static String checksum(Iterable<PodRecord> pods) {
    long sum = 0;
    for (PodRecord p : pods) {
      long h;
      if (p.isMirror() || p.isStatic()) {
        h = (p.isMirror() ? p.configMirror() : p.staticKey()).hashCode() * 0x9E3779B97F4A7C15L + 1;
      } else {
        h = p.uid().hashCode();
        h = h * 0x9E3779B97F4A7C15L + p.specHash();
        h = h * 0x9E3779B97F4A7C15L + p.statusHash();
        h = h * 0x9E3779B97F4A7C15L + p.labelsHash();
        h = h * 0x9E3779B97F4A7C15L + p.annotationsHash();
        h =
            h * 0x9E3779B97F4A7C15L
                + (p.deletionTimestamp() == null ? 0 : p.deletionTimestamp().hashCode());
      }
      sum += h ^ (h >>> 29);
    }
    return String.format("%016x", sum);
  }

  @SuppressWarnings("unchecked")
  private static void writeScalar(JsonGenerator g, Object value) {
    switch (value) {
      case null -> g.writeNull();
      case Boolean b -> g.writeBoolean(b);
      case Integer i -> g.writeNumber(i);
      case Long l -> g.writeNumber(l);
      case Double d -> g.writeNumber(d);
      case Instant i -> g.writeString(i.toString());
      case List<?> list -> {
        g.writeStartArray();
        for (Object o : list) {
          writeScalar(g, o);
        }
        g.writeEndArray();
      }
      case Map<?, ?> map -> {
        g.writeStartObject();
        for (Map.Entry<String, ?> e : ((Map<String, ?>) map).entrySet()) {
          g.writeName(e.getKey());
          writeScalar(g, e.getValue());
        }
        g.writeEndObject();
      }
      default -> g.writeString(value.toString());
    }
  }

  private static void writeInstant(JsonGenerator g, String name, Instant value) {
    if (value == null) {
      g.writeNullProperty(name);
    } else {
      g.writeStringProperty(name, value.toString());
    }
  }

  @FunctionalInterface
  private interface Body {
    void write(JsonGenerator g);
  }

  private String render(Body body) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = factory.createGenerator(ObjectWriteContext.empty(), out)) {
      body.write(g);
    }
    return out.toString();
  }
}
