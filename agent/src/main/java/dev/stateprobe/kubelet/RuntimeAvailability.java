package dev.stateprobe.kubelet;

import dev.stateprobe.metrics.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether {@code /runningpods/} is served, and when to ask again after a 403/404. It is a debugging
 * handler that many clusters switch off or do not authorize: asking every poll would only add a
 * failed request per cycle, so after a refusal it is asked once per re-probe interval.
 *
 * <p>Thread-safe: polls may overlap.
 */
final class RuntimeAvailability {
  private static final Logger LOG = LoggerFactory.getLogger(RuntimeAvailability.class);

  private final Clock clock;
  private final Duration reprobeInterval;
  private final Metrics metrics;
  private final String source;
  private boolean available = true; // guarded by this
  private Instant nextProbe = Instant.MIN; // guarded by this

  RuntimeAvailability(Clock clock, Duration reprobeInterval, Metrics metrics, String source) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.reprobeInterval = Objects.requireNonNull(reprobeInterval, "reprobeInterval");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.source = source;
  }

  synchronized boolean available() {
    return available;
  }

  /**
   * True when a request should go out now. While unavailable, true once per re-probe interval: the
   * caller that gets true owns the probe, and callers in the meantime get false.
   */
  synchronized boolean tryAsk() {
    if (available) {
      return true;
    }
    Instant now = clock.instant();
    if (now.isBefore(nextProbe)) {
      return false;
    }
    nextProbe = now.plus(reprobeInterval);
    return true;
  }

  /** {@code /runningpods/} answered 403 or 404. */
  synchronized void refused(int status) {
    nextProbe = clock.instant().plus(reprobeInterval);
    metrics.runtimeViewAvailable(false);
    if (available) {
      available = false;
      LOG.warn(
          "runtime view unavailable: {} answered {} to /runningpods/; carrying on without it,"
              + " asking again every {}",
          source,
          status,
          reprobeInterval);
    }
  }

  /** {@code /runningpods/} answered with a running-pod list. */
  synchronized void served() {
    metrics.runtimeViewAvailable(true);
    if (!available) {
      available = true;
      LOG.info("runtime view available again: {} serves /runningpods/", source);
    }
  }
}
