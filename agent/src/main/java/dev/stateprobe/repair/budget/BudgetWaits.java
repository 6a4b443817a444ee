package dev.stateprobe.repair.budget;

import dev.stateprobe.drift.DriftKey;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The repairs of this node waiting for a cluster slot now, and why ({@link SlotDecision.Reason}'s
 * tag): written by the repair side as the budget tells it, read by {@code /v1/drifts}. One per
 * agent; thread-safe, since the HTTP server reads it from its own context.
 */
public final class BudgetWaits {
  private final Map<DriftKey, String> waiting = new ConcurrentHashMap<>();

  /** The repair of {@code key} waits for a slot, for {@code reason}. */
  public void waiting(DriftKey key, SlotDecision.Reason reason) {
    waiting.put(key, reason.tag());
  }

  /** The repair of {@code key} holds a slot, or gave up waiting. */
  public void done(DriftKey key) {
    waiting.remove(key);
  }

  /** Why the repair of {@code key} waits for a slot, if it does. */
  public Optional<String> reason(DriftKey key) {
    return Optional.ofNullable(waiting.get(key));
  }
}
