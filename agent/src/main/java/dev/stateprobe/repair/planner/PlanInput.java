package dev.stateprobe.repair.planner;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.policy.PodPolicies;
import dev.stateprobe.policy.PodPolicy;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Everything one planning step depends on.
 *
 * @param drifts the confirmed drifts of this cycle (a suspected one is refused)
 * @param options per drift, the matching catalog scripts in escalation order; a drift without an
 *     entry has none
 * @param mode {@code REPAIR_MODE}
 * @param paused the node annotation {@code stateprobe.dev/paused} is {@code "true"}
 * @param circuitOpen the circuit breaker is open
 * @param limits node-wide limits
 * @param history what the node's repairs did so far
 * @param approvals the records of manual entries that exist, and whether a person approved them
 * @param now the time of this step
 * @param policies the consistency policy settings of the drifts' pods (mode, scripts, attempts,
 *     priority); a pod not in it is Strict
 */
public record PlanInput(
    List<TrackedDrift> drifts,
    Map<DriftKey, List<RepairOption>> options,
    PlanMode mode,
    boolean paused,
    boolean circuitOpen,
    Limits limits,
    RepairHistory history,
    Map<ScriptKey, Approval> approvals,
    Instant now,
    PodPolicies policies) {

  /** Every pod Strict, as without policies. */
  public PlanInput(
      List<TrackedDrift> drifts,
      Map<DriftKey, List<RepairOption>> options,
      PlanMode mode,
      boolean paused,
      boolean circuitOpen,
      Limits limits,
      RepairHistory history,
      Map<ScriptKey, Approval> approvals,
      Instant now) {
    this(
        drifts,
        options,
        mode,
        paused,
        circuitOpen,
        limits,
        history,
        approvals,
        now,
        PodPolicies.NONE);
  }

  public PlanInput {
    Objects.requireNonNull(policies, "policies");
    drifts = List.copyOf(drifts);
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(history, "history");
    Objects.requireNonNull(now, "now");
    approvals = Map.copyOf(approvals);
    Set<DriftKey> seen = new HashSet<>();
    for (TrackedDrift d : drifts) {
      if (!d.confirmed()) {
        throw new IllegalArgumentException("plan input: drift " + d.key() + " is not confirmed");
      }
      if (!seen.add(d.key())) {
        throw new IllegalArgumentException("plan input: drift " + d.key() + " is given twice");
      }
    }
    Map<DriftKey, List<RepairOption>> copy = new HashMap<>();
    options.forEach(
        (key, list) -> {
          Set<String> scripts = new HashSet<>();
          for (RepairOption o : list) {
            if (!scripts.add(o.script())) {
              throw new IllegalArgumentException(
                  "plan input: script " + o.script() + " is given twice for drift " + key);
            }
          }
          copy.put(key, List.copyOf(list));
        });
    options = Map.copyOf(copy);
  }

  /** The settings of the drift's pod. */
  public PodPolicy policyOf(DriftKey key) {
    return policies.of(key.target().uid());
  }

  /** The options of one drift in escalation order; empty when no catalog entry matches. */
  public List<RepairOption> optionsFor(DriftKey key) {
    return options.getOrDefault(key, List.of());
  }
}
