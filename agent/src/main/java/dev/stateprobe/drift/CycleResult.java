package dev.stateprobe.drift;

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
 */
public record CycleResult(
    Snapshot snapshot,
    Trust trust,
    List<TrackedDrift> drifts,
    List<Transition> transitions,
    Optional<String> kubeletError) {

  public CycleResult {
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
}
