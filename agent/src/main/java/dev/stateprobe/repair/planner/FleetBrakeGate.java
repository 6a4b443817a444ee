package dev.stateprobe.repair.planner;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The fleet storm brake applied to a plan: while it holds, a repair that would start, or that only
 * a node-wide limit (concurrency, hourly budget) held back, waits with {@link
 * Throttle#FLEET_BRAKE}. It acts as a check placed just before those limits: what a pod's own state
 * holds back (pause, breaker, target busy, cooldown, back-off, approval) keeps its own reason, and
 * a manual entry's record awaiting approval is still made, as it runs nothing. Scripts already
 * running are not in the plan and finish.
 */
public final class FleetBrakeGate {
  private FleetBrakeGate() {}

  /**
   * @param holds the brake holds new repairs back
   * @param why the brake's own words, added to each held decision's reason
   */
  public static List<Decision> apply(List<Decision> plan, boolean holds, String why) {
    Objects.requireNonNull(why, "why");
    if (!holds) {
      return List.copyOf(plan);
    }
    return plan.stream().map(d -> gate(d, why)).toList();
  }

  private static Decision gate(Decision d, String why) {
    Throttle t = d.throttle().orElse(null);
    boolean heldByBrake =
        d.action() == Decision.Action.START
            || (d.action() == Decision.Action.WAIT
                && (t == Throttle.CONCURRENCY || t == Throttle.HOURLY));
    if (!heldByBrake) {
      return d;
    }
    return new Decision(
        Decision.Action.WAIT,
        d.drift(),
        d.option(),
        d.attempt(),
        d.dryRun(),
        Optional.of(Throttle.FLEET_BRAKE),
        why + "; " + d.option().map(RepairOption::script).orElse("the repair") + " waits");
  }
}
