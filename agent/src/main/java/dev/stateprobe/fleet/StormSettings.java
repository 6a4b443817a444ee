package dev.stateprobe.fleet;

import java.time.Duration;
import java.util.Objects;

/**
 * When the coordinator turns the brake on and off.
 *
 * @param percent {@code FLEET_STORM_PERCENT}, default 10: on while more than this share of nodes
 *     have a repair record in the window
 * @param minNodes {@code FLEET_STORM_MIN_NODES}, default 3: and at least this many (in a 5-node
 *     cluster one node is already 20 %)
 * @param window {@code FLEET_STORM_WINDOW}, default 5m: how far back a record counts
 * @param hold {@code FLEET_STORM_HOLD}, default 2m: the brake goes off only after the fleet stayed
 *     under the threshold this long, so it does not flap at the edge
 */
public record StormSettings(int percent, int minNodes, Duration window, Duration hold) {
  public static final StormSettings DEFAULTS =
      new StormSettings(10, 3, Duration.ofMinutes(5), Duration.ofMinutes(2));

  public StormSettings {
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(hold, "hold");
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("FLEET_STORM_PERCENT must be 0..100, was " + percent);
    }
    if (minNodes < 1) {
      throw new IllegalArgumentException("FLEET_STORM_MIN_NODES must be >= 1, was " + minNodes);
    }
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("FLEET_STORM_WINDOW must be positive, was " + window);
    }
    if (hold.isNegative()) {
      throw new IllegalArgumentException("FLEET_STORM_HOLD must not be negative, was " + hold);
    }
  }
}
