package dev.stateprobe.demo;

import java.time.Duration;

/**
 * The demo's time scale: the agent's poll interval and confirmation windows, the circuit breaker's
 * recovery and the simulated kubelet's reaction time, all scaled by {@code --speed}. At speed 1 the
 * agent polls every 250 ms and confirms a drift after 2 s (a real node: 5 s and 30 to 60 s), so the
 * whole timeline runs in about a minute.
 *
 * @param speed the factor: 2 runs twice as fast, 0.5 half as fast
 * @param poll {@code POLL_INTERVAL}; never under 100 ms (the agent's minimum)
 * @param window every kind's confirmation window ({@code WINDOW_*})
 * @param circuitRecovery {@code CIRCUIT_RECOVERY}
 * @param kubeletSync how often the simulated kubelet follows the API server
 * @param kubeletTimeout {@code KUBELET_REQUEST_TIMEOUT}
 */
public record Timing(
    double speed,
    Duration poll,
    Duration window,
    Duration circuitRecovery,
    Duration kubeletSync,
    Duration kubeletTimeout) {

  public static final double MIN_SPEED = 0.1;
  public static final double MAX_SPEED = 10;
  private static final Duration MIN_POLL = Duration.ofMillis(100);

  public Timing {
    if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
      throw new IllegalArgumentException(
          "speed must be between " + MIN_SPEED + " and " + MAX_SPEED + ", got " + speed);
    }
  }

  /** The demo's defaults at {@code speed}. */
  public static Timing of(double speed) {
    if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
      throw new IllegalArgumentException(
          "--speed must be between " + MIN_SPEED + " and " + MAX_SPEED + ", got " + speed);
    }
    return new Timing(
        speed,
        max(scale(Duration.ofMillis(250), speed), MIN_POLL),
        scale(Duration.ofSeconds(2), speed),
        scale(Duration.ofSeconds(3), speed),
        max(scale(Duration.ofMillis(100), speed), Duration.ofMillis(20)),
        max(scale(Duration.ofSeconds(2), speed), Duration.ofMillis(500)));
  }

  /** How long any one wait of a scenario may take before it counts as failed. */
  public Duration patience() {
    return window.multipliedBy(5).plus(Duration.ofSeconds(20));
  }

  /**
   * Trusted cycles that cover a confirmation window and then some: a scenario that must show no
   * drift waits this long, so that a false drift would have been confirmed by then.
   */
  public int cyclesPastWindow() {
    return (int) (window.toMillis() / poll.toMillis()) + 4;
  }

  private static Duration scale(Duration d, double speed) {
    return Duration.ofNanos(Math.round(d.toNanos() / speed));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
