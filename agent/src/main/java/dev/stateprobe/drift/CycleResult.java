package dev.stateprobe.drift;

import dev.stateprobe.policy.PodPolicies;
import dev.stateprobe.policy.PodPolicy;
import dev.stateprobe.view.Snapshot;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of one cycle, published whole.
 *
 * @param snapshot the views the cycle looked at
 * @param trust the trust gate's verdict (an untrusted cycle changed no drift state)
 * @param drifts the tracker's drifts after the cycle, in key order
 * @param transitions what changed in this cycle
 * @param kubeletError the last kubelet failure, empty after a good poll
 * @param policies the consistency policy settings of the drifts' pods, as this cycle resolved them
 */
public record CycleResult(
    Snapshot snapshot,
    Trust trust,
    List<TrackedDrift> drifts,
    List<Transition> transitions,
    Optional<String> kubeletError,
    PodPolicies policies) {

  public CycleResult {
    java.util.Objects.requireNonNull(policies, "policies");
    drifts = List.copyOf(drifts);
    transitions = List.copyOf(transitions);
  }

  public long cycle() {
    return snapshot.cycle();
  }

  public boolean trusted() {
    return trust.trusted();
  }

  public List<TrackedDrift> confirmed() {
    return drifts.stream().filter(TrackedDrift::confirmed).toList();
  }

  /** The settings of the drift's pod. */
  public PodPolicy policy(TrackedDrift drift) {
    return policies.of(drift.key().target().uid());
  }
}
