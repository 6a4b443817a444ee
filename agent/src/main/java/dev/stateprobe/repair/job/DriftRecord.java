package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.TrackedDrift;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code spec.drift}: the confirmed drift as it was when the record was made.
 *
 * @param kind the drift kind's wire name ({@link DriftKind#wireName()})
 * @param apiResourceVersion the pod's resourceVersion in the API server's view; null when the API
 *     server has no such pod (an orphan)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record DriftRecord(
    String kind,
    TargetRef target,
    String detail,
    Instant firstObservedAt,
    Instant confirmedAt,
    int observations,
    String apiResourceVersion) {

  public DriftRecord {
    Objects.requireNonNull(kind, "spec.drift.kind");
    Objects.requireNonNull(target, "spec.drift.target");
    Objects.requireNonNull(detail, "spec.drift.detail");
    Objects.requireNonNull(firstObservedAt, "spec.drift.firstObservedAt");
    Objects.requireNonNull(confirmedAt, "spec.drift.confirmedAt");
    if (DriftKind.fromWireName(kind).isEmpty()) {
      throw new IllegalArgumentException("spec.drift.kind: unknown drift kind " + kind);
    }
    if (observations < 1) {
      throw new IllegalArgumentException(
          "spec.drift.observations must be >= 1, was " + observations);
    }
  }

  /** The record of a confirmed drift; {@code apiResourceVersion} may be empty. */
  public static DriftRecord of(TrackedDrift tracked, Optional<String> apiResourceVersion) {
    if (!tracked.confirmed()) {
      throw new IllegalArgumentException("drift " + tracked.key() + " is not confirmed");
    }
    return new DriftRecord(
        tracked.drift().kind().wireName(),
        TargetRef.of(tracked.drift().target()),
        tracked.drift().detail(),
        tracked.firstObservedAt(),
        tracked.confirmedAt(),
        tracked.observations(),
        apiResourceVersion.orElse(null));
  }

  public DriftKind driftKind() {
    return DriftKind.fromWireName(kind).orElseThrow();
  }
}
