package dev.stateprobe.repair.planner;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.policy.PodPolicy;
import dev.stateprobe.repair.planner.Decision.Action;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides, for every confirmed drift, whether a repair starts now, waits, or will not happen.
 *
 * <p>The checks run in this order and the first that holds a drift back names the throttle: mode
 * off, policies not read yet, the pod's policy's repair mode off, no matching script (among those
 * its policy allows), every script used up, paused, circuit open, target busy, cooldown after a
 * success, back-off after a failure, approval (a manual entry, or a policy that wants one: Eventual
 * or {@code approval}), concurrency, hourly budget. Drifts are taken by their pod's level (Critical
 * first, Eventual last), then in {@link DriftKey} order, and each START uses up concurrency and
 * hourly budget for the drifts after it, so the same input always gives the same decisions.
 */
public final class RepairPlanner {

  /** Back-off doubles at most this many times; beyond it the wait stays the same. */
  static final int MAX_DOUBLINGS = 30;

  private RepairPlanner() {}

  public static List<Decision> plan(PlanInput in) {
    List<TrackedDrift> ordered = new ArrayList<>(in.drifts());
    ordered.sort(
        Comparator.comparingInt((TrackedDrift d) -> in.policyOf(d.key()).priority())
            .reversed()
            .thenComparing(TrackedDrift::key));
    Set<String> busy = new HashSet<>(in.history().busyTargets());
    int running = in.history().running();
    int startedInHour = in.history().startedInHourBefore(in.now());
    List<Decision> out = new ArrayList<>(ordered.size());
    for (TrackedDrift drift : ordered) {
      PodPolicy policy = in.policyOf(drift.key());
      Decision d = withPolicy(decide(drift, in, policy, busy, running, startedInHour), policy);
      if (d.action() == Action.START) {
        running++;
        startedInHour++;
        busy.add(drift.key().target().uid());
      }
      out.add(d);
    }
    return List.copyOf(out);
  }

  private static Decision withPolicy(Decision d, PodPolicy policy) {
    return new Decision(
        d.action(),
        d.drift(),
        d.option(),
        d.attempt(),
        d.dryRun(),
        d.throttle(),
        d.reason(),
        policy);
  }

  private static Decision decide(
      TrackedDrift drift,
      PlanInput in,
      PodPolicy policy,
      Set<String> busy,
      int running,
      int startedInHour) {
    DriftKey key = drift.key();
    if (in.mode() == PlanMode.OFF) {
      return none(drift, Throttle.MODE_OFF, "REPAIR_MODE is off");
    }
    if (!in.policies().synced()) {
      return new Decision(
          Action.WAIT,
          drift,
          Optional.empty(),
          0,
          false,
          Optional.of(Throttle.POLICIES_UNSYNCED),
          "ConsistencyPolicies not read yet: the pod's level is unknown");
    }
    if (policy.repairOff()) {
      return none(
          drift,
          Throttle.POLICY_OFF,
          "ConsistencyPolicy " + policy.policyName() + " sets repair.mode off");
    }
    List<RepairOption> matching = in.optionsFor(key);
    if (matching.isEmpty()) {
      return none(
          drift,
          Throttle.NO_SCRIPT,
          "no catalog entry matches "
              + key.kind().wireName()
              + " in namespace "
              + key.target().namespace());
    }
    List<RepairOption> options = allowed(matching, policy);
    if (options.isEmpty()) {
      return none(
          drift,
          Throttle.NO_SCRIPT,
          "ConsistencyPolicy "
              + policy.policyName()
              + " allows none of the matching catalog entries: "
              + String.join(", ", matching.stream().map(RepairOption::script).toList()));
    }
    Optional<RepairOption> chosen =
        options.stream().filter(o -> hasAttemptsLeft(in, key, o)).findFirst();
    if (chosen.isEmpty()) {
      return none(
          drift,
          Throttle.MAX_ATTEMPTS,
          "every matching script used its attempts: "
              + String.join(", ", options.stream().map(RepairOption::script).toList()));
    }
    RepairOption option = chosen.get();
    ScriptHistory history = in.history().script(new ScriptKey(key, option.script()));
    int attempt = history.attempts() + 1;
    boolean dryRun = in.mode() == PlanMode.DRY_RUN || option.mode() == RepairOption.Mode.DRY_RUN;
    String what = "attempt " + attempt + " of " + option.maxAttempts() + " of " + option.script();

    if (in.paused()) {
      return hold(
          drift, option, attempt, dryRun, Throttle.PAUSED, "node is paused; " + what + " waits");
    }
    if (in.circuitOpen()) {
      return hold(
          drift,
          option,
          attempt,
          dryRun,
          Throttle.CIRCUIT_OPEN,
          "circuit breaker is open; " + what + " waits");
    }
    if (busy.contains(key.target().uid())) {
      return hold(
          drift,
          option,
          attempt,
          dryRun,
          Throttle.TARGET_BUSY,
          "a script already runs for this pod; " + what + " waits");
    }
    Optional<Instant> cooledAt = cooldownEnd(in, key, options, option);
    if (cooledAt.isPresent() && in.now().isBefore(cooledAt.get())) {
      return hold(
          drift,
          option,
          attempt,
          dryRun,
          Throttle.COOLDOWN,
          "pod was repaired recently; " + what + " waits until " + cooledAt.get());
    }
    if (history.lastOutcome().map(Outcome::backsOff).orElse(false)) {
      Instant retryAt =
          plus(
              history.lastAttemptAt().orElseThrow(),
              backoff(option.cooldown(), history.attempts()));
      if (in.now().isBefore(retryAt)) {
        return hold(
            drift,
            option,
            attempt,
            dryRun,
            Throttle.BACKOFF,
            "attempt "
                + history.attempts()
                + " of "
                + option.script()
                + " ended "
                + history.lastOutcome().orElseThrow().name().toLowerCase(java.util.Locale.ROOT)
                + "; "
                + what
                + " waits until "
                + retryAt);
      }
    }
    if (option.mode() == RepairOption.Mode.MANUAL || policy.approvalOnly()) {
      Approval approval = in.approvals().get(new ScriptKey(key, option.script()));
      if (approval == null) {
        return new Decision(
            Action.CREATE_PENDING_APPROVAL,
            drift,
            Optional.of(option),
            attempt,
            dryRun,
            Optional.of(Throttle.AWAITING_APPROVAL),
            "awaiting approval");
      }
      if (approval == Approval.PENDING) {
        return hold(
            drift, option, attempt, dryRun, Throttle.AWAITING_APPROVAL, "awaiting approval");
      }
    }
    if (running >= in.limits().maxConcurrent()) {
      return hold(
          drift,
          option,
          attempt,
          dryRun,
          Throttle.CONCURRENCY,
          running + " scripts run (limit " + in.limits().maxConcurrent() + "); " + what + " waits");
    }
    if (startedInHour >= in.limits().maxPerHour()) {
      return hold(
          drift,
          option,
          attempt,
          dryRun,
          Throttle.HOURLY,
          startedInHour
              + " repairs started in the last hour (limit "
              + in.limits().maxPerHour()
              + "); "
              + what
              + " waits");
    }
    return new Decision(
        Action.START,
        drift,
        Optional.of(option),
        attempt,
        dryRun,
        Optional.empty(),
        what + (dryRun ? " (dry run)" : ""));
  }

  /**
   * The options the pod's policy allows, in the catalog's order, each with the policy's {@code
   * maxAttemptsPerDrift} in place of its own.
   */
  private static List<RepairOption> allowed(List<RepairOption> options, PodPolicy policy) {
    List<RepairOption> out = new ArrayList<>(options.size());
    for (RepairOption o : options) {
      if (!policy.allows(o.script())) {
        continue;
      }
      var max = policy.overrides().maxAttemptsPerDrift();
      out.add(
          max.isPresent()
              ? new RepairOption(o.script(), o.mode(), max.getAsInt(), o.cooldown())
              : o);
    }
    return out;
  }

  private static boolean hasAttemptsLeft(PlanInput in, DriftKey key, RepairOption option) {
    ScriptHistory h = in.history().script(new ScriptKey(key, option.script()));
    return h.attempts() < option.maxAttempts()
        && !h.lastOutcome().map(Outcome::exhaustsOption).orElse(false);
  }

  /**
   * The end of the per-target cooldown: the latest success of any script for the same pod plus that
   * script's cooldown (the chosen option's when the script is not among this drift's).
   */
  private static Optional<Instant> cooldownEnd(
      PlanInput in, DriftKey key, List<RepairOption> options, RepairOption chosen) {
    String uid = key.target().uid();
    Optional<Instant> end = Optional.empty();
    for (Map.Entry<ScriptKey, ScriptHistory> e : in.history().scripts().entrySet()) {
      ScriptHistory h = e.getValue();
      if (!e.getKey().drift().target().uid().equals(uid)
          || h.lastOutcome().orElse(null) != Outcome.SUCCEEDED) {
        continue;
      }
      Duration cooldown =
          options.stream()
              .filter(o -> o.script().equals(e.getKey().script()))
              .findFirst()
              .orElse(chosen)
              .cooldown();
      Instant candidate = plus(h.lastAttemptAt().orElseThrow(), cooldown);
      if (end.isEmpty() || candidate.isAfter(end.get())) {
        end = Optional.of(candidate);
      }
    }
    return end;
  }

  /** {@code cooldown × 2^(attempts−1)}, saturating instead of overflowing. */
  static Duration backoff(Duration cooldown, int attempts) {
    int doublings = Math.min(Math.max(attempts - 1, 0), MAX_DOUBLINGS);
    try {
      return cooldown.multipliedBy(1L << doublings);
    } catch (ArithmeticException overflow) {
      return Duration.ofSeconds(Long.MAX_VALUE);
    }
  }

  private static Instant plus(Instant t, Duration d) {
    try {
      return t.plus(d);
    } catch (DateTimeException | ArithmeticException overflow) {
      return Instant.MAX;
    }
  }

  private static Decision none(TrackedDrift drift, Throttle throttle, String reason) {
    return new Decision(
        Action.NONE, drift, Optional.empty(), 0, false, Optional.of(throttle), reason);
  }

  private static Decision hold(
      TrackedDrift drift,
      RepairOption option,
      int attempt,
      boolean dryRun,
      Throttle throttle,
      String reason) {
    return new Decision(
        Action.WAIT, drift, Optional.of(option), attempt, dryRun, Optional.of(throttle), reason);
  }
}
