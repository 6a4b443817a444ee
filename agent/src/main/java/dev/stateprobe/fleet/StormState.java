package dev.stateprobe.fleet;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The coordinator's decision after one step.
 *
 * @param on the brake is on
 * @param since when {@link #on} last changed
 * @param calmSince while on: since when the fleet has been under the threshold (empty while over)
 * @param drifting nodes with a repair record in the window
 * @param nodes nodes counted (the Nodes, or more when records name nodes the list lacks)
 * @param reason the words published on the brake object
 */
public record StormState(
    boolean on,
    Instant since,
    Optional<Instant> calmSince,
    int drifting,
    int nodes,
    String reason) {

  public StormState {
    Objects.requireNonNull(since, "since");
    Objects.requireNonNull(calmSince, "calmSince");
    Objects.requireNonNull(reason, "reason");
  }

  /** Before the first step: off, as nothing has been counted yet. */
  public static StormState initial(Instant now) {
    return new StormState(false, now, Optional.empty(), 0, 0, "not counted yet");
  }

  /** The brake changed between {@code before} and this state. */
  public boolean changedFrom(StormState before) {
    return on != before.on;
  }
}
