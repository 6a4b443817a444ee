package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.policy.PodPolicy;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code spec} of a ConsistencyRepairJob. Immutable on the server except {@code approved}, which a
 * person sets to let a manual catalog entry run.
 *
 * @param policy the ConsistencyPolicy that selected the pod when the record was made; {@code null}
 *     when none did (and in records of agents before policies)
 * @param level that policy's consistency level ({@code Strict} without one); {@code null} in
 *     records of agents before policies
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record RepairJobSpec(
    String nodeName,
    DriftRecord drift,
    String script,
    boolean dryRun,
    boolean approved,
    String policy,
    String level) {

  /** A spec that names no policy. */
  public RepairJobSpec(
      String nodeName, DriftRecord drift, String script, boolean dryRun, boolean approved) {
    this(nodeName, drift, script, dryRun, approved, null, null);
  }

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
    return of(nodeName, drift, apiResourceVersion, script, dryRun, PodPolicy.DEFAULT);
  }

  /** The spec the agent writes for a pod with {@code policy}: never approved by itself. */
  public static RepairJobSpec of(
      String nodeName,
      TrackedDrift drift,
      Optional<String> apiResourceVersion,
      String script,
      boolean dryRun,
      PodPolicy policy) {
    return new RepairJobSpec(
        nodeName,
        DriftRecord.of(drift, apiResourceVersion),
        script,
        dryRun,
        false,
        policy.policy().orElse(null),
        policy.level().wireName());
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
