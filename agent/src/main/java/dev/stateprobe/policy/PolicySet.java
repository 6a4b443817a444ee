package dev.stateprobe.policy;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable snapshot of the cluster's policies: the valid ones, most specific first and then by
 * name, and the ones the agent refused.
 *
 * @param synced the policies have been read at least once; before that, no pod's level is known,
 *     and a repair waits rather than treat an Eventual pod as Strict
 */
public record PolicySet(
    List<ConsistencyPolicy> valid, List<InvalidPolicy> invalid, boolean synced) {

  /** A snapshot of policies that have been read. */
  public PolicySet(List<ConsistencyPolicy> valid, List<InvalidPolicy> invalid) {
    this(valid, invalid, true);
  }

  /** Most specific first, then by name: the first policy that selects a pod is its winner. */
  private static final Comparator<ConsistencyPolicy> WINNER_FIRST =
      Comparator.comparingInt(ConsistencyPolicy::specificity)
          .reversed()
          .thenComparing(ConsistencyPolicy::name);

  // After WINNER_FIRST: the constructor sorts with it.
  public static final PolicySet EMPTY = new PolicySet(List.of(), List.of());

  /** Before the first read of the policies. */
  public static final PolicySet UNSYNCED = new PolicySet(List.of(), List.of(), false);

  public PolicySet {
    valid = valid.stream().sorted(WINNER_FIRST).toList();
    invalid = invalid.stream().sorted(Comparator.comparing(InvalidPolicy::name)).toList();
    for (int i = 1; i < valid.size(); i++) {
      if (valid.get(i).name().equals(valid.get(i - 1).name())) {
        throw new IllegalArgumentException("two policies named " + valid.get(i).name());
      }
    }
  }

  /**
   * The policy that decides for a pod: of those that select it, the one with a pod selector, then
   * the one with namespaces, then one selecting every pod; among equals the first by name.
   */
  public Optional<ConsistencyPolicy> winner(String namespace, Map<String, String> labels) {
    for (ConsistencyPolicy p : valid) {
      if (p.selects(namespace, labels)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** The policy named {@code name}, if valid. */
  public Optional<ConsistencyPolicy> named(String name) {
    return valid.stream().filter(p -> p.name().equals(name)).findFirst();
  }
}
