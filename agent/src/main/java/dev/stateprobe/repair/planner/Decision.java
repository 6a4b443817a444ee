package dev.stateprobe.repair.planner;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.policy.PodPolicy;
import java.util.Objects;
import java.util.Optional;

/**
 * What to do about one confirmed drift in this cycle.
 *
 * @param action what the caller does
 * @param drift the drift decided about
 * @param option the chosen catalog script; empty only when none is left or none matches
 * @param attempt the attempt number the script would run as ({@code STATE_PROBE_ATTEMPT}, from 1);
 *     0 when there is no option
 * @param dryRun the record gets {@code spec.dryRun: true} and the script {@code
 *     STATE_PROBE_DRY_RUN=true}
 * @param throttle why the repair is held back; empty for {@link Action#START}
 * @param reason one sentence for people and logs
 * @param policy the consistency policy settings of the drift's pod: the record names its policy and
 *     level, and {@link #priority()} orders the cluster budget
 */
public record Decision(
    Action action,
    TrackedDrift drift,
    Optional<RepairOption> option,
    int attempt,
    boolean dryRun,
    Optional<Throttle> throttle,
    String reason,
    PodPolicy policy) {

  /** A decision about a pod no policy selects (Strict). */
  public Decision(
      Action action,
      TrackedDrift drift,
      Optional<RepairOption> option,
      int attempt,
      boolean dryRun,
      Optional<Throttle> throttle,
      String reason) {
    this(action, drift, option, attempt, dryRun, throttle, reason, PodPolicy.DEFAULT);
  }

  /** What the caller does with the drift now. */
  public enum Action {
    /** Create or adopt the record, revalidate, run the script. */
    START,
    /** Create the record of a manual entry with {@code spec.approved: false}; run nothing. */
    CREATE_PENDING_APPROVAL,
    /** Nothing now; a limit holds it back and will let it go later. */
    WAIT,
    /** Nothing, and nothing will change by waiting (mode off, no script, attempts used up). */
    NONE
  }

  public Decision {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(drift, "drift");
    Objects.requireNonNull(option, "option");
    Objects.requireNonNull(throttle, "throttle");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(policy, "policy");
    switch (action) {
      case START -> {
        if (option.isEmpty() || attempt < 1 || throttle.isPresent()) {
          throw new IllegalArgumentException(
              "decision START for "
                  + drift.key()
                  + " needs an option, attempt >= 1 and no throttle");
        }
      }
      case CREATE_PENDING_APPROVAL -> {
        if (option.isEmpty() || attempt < 1 || throttle.isEmpty()) {
          throw new IllegalArgumentException(
              "decision CREATE_PENDING_APPROVAL for "
                  + drift.key()
                  + " needs an option, attempt >= 1 and a throttle");
        }
      }
      case WAIT, NONE -> {
        if (throttle.isEmpty()) {
          throw new IllegalArgumentException(
              "decision " + action + " for " + drift.key() + " needs a throttle reason");
        }
      }
    }
    if (option.isEmpty() != (attempt == 0)) {
      throw new IllegalArgumentException(
          "decision for " + drift.key() + ": attempt must be 0 exactly when there is no option");
    }
  }

  public DriftKey key() {
    return drift.key();
  }

  /**
   * Who goes first for a cluster budget slot: higher first ({@code ConsistencyLevel.priority()}:
   * Critical 2, Strict 1, Eventual 0). The planner already hands out a node's decisions in this
   * order.
   */
  public int priority() {
    return policy.priority();
  }

  /** The script, when an option was chosen. */
  public Optional<String> script() {
    return option.map(RepairOption::script);
  }
}
