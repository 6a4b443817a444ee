package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code spec} of a ConsistencyRepairJob. Immutable on the server except {@code approved}, which a
 * person sets to let a manual catalog entry run.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record RepairJobSpec(
    String nodeName, DriftRecord drift, String script, boolean dryRun, boolean approved) {

  public RepairJobSpec {
    Objects.requireNonNull(nodeName, "spec.nodeName");
    Objects.requireNonNull(drift, "spec.drift");
    Objects.requireNonNull(script, "spec.script");
    if (nodeName.isBlank()) {
      throw new IllegalArgumentException("spec.nodeName is blank");
    }
    if (script.isBlank()) {
      throw new IllegalArgumentException("spec.script is blank");
    }
  }

  /** The spec the agent writes: never approved by itself. */
  public static RepairJobSpec of(
      String nodeName,
      TrackedDrift drift,
      Optional<String> apiResourceVersion,
      String script,
      boolean dryRun) {
    return new RepairJobSpec(
        nodeName, DriftRecord.of(drift, apiResourceVersion), script, dryRun, false);
  }

  /** The drift's identity, as the planner keys it. */
  public DriftKey driftKey() {
    return new DriftKey(drift.driftKind(), drift.target().toPodRef());
  }

  /** The record's name: deterministic from node, kind, target UID and script. */
  public String jobName() {
    return JobNames.of(nodeName, drift.driftKind(), drift.target().uid(), script);
  }
}
