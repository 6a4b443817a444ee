package dev.stateprobe.policy;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a pod's policy means for it: the settings the tracker and the planner apply to its drifts.
 * Built by {@link #of}; {@link #DEFAULT} is a pod no policy selects.
 *
 * @param policy the winning policy's name; empty when none selects the pod
 * @param level its consistency level; {@link ConsistencyLevel#STRICT} without a policy
 * @param overrides the policy's overrides
 * @param minWindow the shortest window a level may shorten a kind's to (two poll intervals)
 * @param pool the lease pool its repairs draw from
 */
public record PodPolicy(
    Optional<String> policy,
    ConsistencyLevel level,
    ConsistencyPolicy.Overrides overrides,
    Duration minWindow,
    String pool) {

  public static final PodPolicy DEFAULT =
      new PodPolicy(
          Optional.empty(),
          ConsistencyLevel.STRICT,
          ConsistencyPolicy.Overrides.NONE,
          Duration.ZERO,
          ConsistencyPolicy.DEFAULT_POOL);

  public PodPolicy {
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(overrides, "overrides");
    Objects.requireNonNull(minWindow, "minWindow");
    Objects.requireNonNull(pool, "pool");
  }

  /**
   * The settings of a pod whose winning policy is {@code winner} (empty: none selects it).
   *
   * @param pollInterval the agent's poll interval: a Critical window is never shorter than two
   */
  public static PodPolicy of(Optional<ConsistencyPolicy> winner, Duration pollInterval) {
    if (winner.isEmpty()) {
      return DEFAULT;
    }
    ConsistencyPolicy p = winner.get();
    return new PodPolicy(
        Optional.of(p.name()), p.level(), p.overrides(), pollInterval.multipliedBy(2), p.pool());
  }

  /**
   * The confirmation window of a drift kind: the override when the policy sets one; else twice
   * {@code base} for Eventual, {@code base} for Strict, half of it (never under two poll intervals,
   * nor over {@code base}) for Critical.
   *
   * @param kind the drift kind's wire name
   * @param base the kind's window from the agent's configuration
   */
  public Duration window(String kind, Duration base) {
    Duration set = overrides.windows().get(kind);
    if (set != null) {
      return set;
    }
    return switch (level) {
      case EVENTUAL -> saturatedDouble(base);
      case STRICT -> base;
      case CRITICAL -> {
        Duration half = base.dividedBy(2);
        Duration floor = minWindow.compareTo(base) > 0 ? base : minWindow;
        yield half.compareTo(floor) < 0 ? floor : half;
      }
    };
  }

  /**
   * Trusted cycles before confirmation: the override, else {@code base}, at least 2 for Critical.
   */
  public int minObservations(int base) {
    if (overrides.minObservations().isPresent()) {
      return overrides.minObservations().getAsInt();
    }
    return level == ConsistencyLevel.CRITICAL ? Math.max(base, 2) : base;
  }

  /** No repair at all for this pod ({@code repair.mode: off}). */
  public boolean repairOff() {
    return overrides.repairMode().orElse(null) == RepairModeOverride.OFF;
  }

  /**
   * Every repair waits for a person: Eventual (its scripts never run on their own) or {@code
   * repair.mode: approval}.
   */
  public boolean approvalOnly() {
    return level == ConsistencyLevel.EVENTUAL
        || overrides.repairMode().orElse(null) == RepairModeOverride.APPROVAL;
  }

  /** Whether the policy lets its pods use the catalog entry {@code script}. */
  public boolean allows(String script) {
    return overrides.scripts().map(s -> s.contains(script)).orElse(true);
  }

  /** The scripts it allows, when it limits them. */
  public Optional<Set<String>> scripts() {
    return overrides.scripts();
  }

  /**
   * The planner's and the cluster budget's order: higher first ({@link ConsistencyLevel#priority}).
   */
  public int priority() {
    return level.priority();
  }

  /** The policy's name, or {@code ""} for a pod no policy selects (JSON, records). */
  public String policyName() {
    return policy.orElse("");
  }

  private static Duration saturatedDouble(Duration d) {
    try {
      return d.multipliedBy(2);
    } catch (ArithmeticException overflow) {
      return d;
    }
  }
}
