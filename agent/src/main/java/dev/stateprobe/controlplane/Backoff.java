package dev.stateprobe.controlplane;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Exponential back-off with "equal jitter": attempt n waits between half and all of {@code min(cap,
 * base * 2^n)}. The jitter keeps the agents of a whole cluster from reconnecting in step after an
 * API server restart; the floor of half keeps a failing server from being asked in a tight loop. A
 * pure function of the attempt and the injected random source.
 */
final class Backoff {
  private final Duration base;
  private final Duration cap;
  private final DoubleSupplier random;

  /**
   * @param random values in [0, 1)
   */
  Backoff(Duration base, Duration cap, DoubleSupplier random) {
    if (base.isNegative() || base.isZero() || cap.compareTo(base) < 0) {
      throw new IllegalArgumentException(
          "back-off needs 0 < base <= cap, got " + base + ", " + cap);
    }
    this.base = base;
    this.cap = cap;
    this.random = Objects.requireNonNull(random, "random");
  }

  /** The delay before retry number {@code attempt} (0 for the first retry). */
  Duration delay(int attempt) {
    long ceiling = cap.toMillis();
    long d = base.toMillis();
    for (int i = 0; i < attempt && d < ceiling; i++) {
      d *= 2;
    }
    d = Math.min(d, ceiling);
    double r = random.getAsDouble();
    return Duration.ofMillis(d / 2 + (long) (r * (d - d / 2)));
  }
}
