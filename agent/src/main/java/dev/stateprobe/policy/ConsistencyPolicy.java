package dev.stateprobe.policy;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * One valid ConsistencyPolicy, as the agent uses it.
 *
 * @param name {@code metadata.name}
 * @param resourceVersion {@code metadata.resourceVersion}; {@code ""} when absent
 * @param namespaces {@code spec.selector.namespaces}; empty selects every namespace
 * @param podSelector {@code spec.selector.podSelector}; empty when absent (every pod)
 * @param level {@code spec.consistencyLevel}
 * @param overrides {@code spec.overrides}
 * @param pool {@code spec.conflictResolution.pool}: the lease pool its repairs draw from
 */
public record ConsistencyPolicy(
    String name,
    String resourceVersion,
    Set<String> namespaces,
    Optional<LabelSelector> podSelector,
    ConsistencyLevel level,
    Overrides overrides,
    String pool) {

  /** The lease pool of a policy that names none. */
  public static final String DEFAULT_POOL = "cluster";

  /**
   * {@code spec.overrides}: each replaces what the level would give.
   *
   * @param windows confirmation windows by drift kind (its wire name)
   * @param minObservations trusted cycles before confirmation
   * @param repairMode {@code repair.mode}
   * @param scripts {@code repair.scripts}: the only catalog entries its pods may use
   * @param maxAttemptsPerDrift {@code repair.maxAttemptsPerDrift}: replaces each entry's
   */
  public record Overrides(
      Map<String, Duration> windows,
      OptionalInt minObservations,
      Optional<RepairModeOverride> repairMode,
      Optional<Set<String>> scripts,
      OptionalInt maxAttemptsPerDrift) {
    public static final Overrides NONE =
        new Overrides(
            Map.of(), OptionalInt.empty(), Optional.empty(), Optional.empty(), OptionalInt.empty());

    public Overrides {
      windows = Map.copyOf(windows);
      Objects.requireNonNull(minObservations, "minObservations");
      Objects.requireNonNull(repairMode, "repairMode");
      scripts = scripts.map(Set::copyOf);
      Objects.requireNonNull(maxAttemptsPerDrift, "maxAttemptsPerDrift");
    }
  }

  public ConsistencyPolicy {
    Objects.requireNonNull(name, "name");
    resourceVersion = resourceVersion == null ? "" : resourceVersion;
    namespaces = Set.copyOf(namespaces);
    Objects.requireNonNull(podSelector, "podSelector");
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(overrides, "overrides");
    Objects.requireNonNull(pool, "pool");
  }

  /**
   * How specific the selector is: 2 with a pod selector, 1 with namespaces only, 0 selecting every
   * pod. The most specific policy that selects a pod wins.
   */
  public int specificity() {
    if (podSelector.isPresent()) {
      return 2;
    }
    return namespaces.isEmpty() ? 0 : 1;
  }

  /** Whether the selector selects a pod of {@code namespace} with {@code labels}. */
  public boolean selects(String namespace, Map<String, String> labels) {
    if (!namespaces.isEmpty() && !namespaces.contains(namespace)) {
      return false;
    }
    return podSelector.map(s -> s.matches(labels)).orElse(true);
  }
}
