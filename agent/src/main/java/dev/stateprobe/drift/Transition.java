package dev.stateprobe.drift;

import java.time.Duration;
import java.util.Objects;

/**
 * One change of a drift's state in one tracker step: what metrics count, what is logged, and what a
 * Kubernetes Event reports.
 *
 * @param type what happened
 * @param drift the tracked drift after the change; for {@link Type#CLEARED} and {@link
 *     Type#DISMISSED}, as it was last seen
 * @param latency for {@link Type#CONFIRMED}: {@code confirmedAt − firstObservedAt}; {@code null}
 *     otherwise
 */
public record Transition(Type type, TrackedDrift drift, Duration latency) {

  /** The lifecycle events of a drift. */
  public enum Type {
    /** First seen in a trusted cycle. */
    SUSPECTED,
    /** Held for its window and for enough trusted cycles. */
    CONFIRMED,
    /** A confirmed drift that a trusted cycle no longer shows. */
    CLEARED,
    /** A suspected drift that a trusted cycle no longer shows, before it was confirmed. */
    DISMISSED
  }

  public Transition {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(drift, "drift");
    if ((type == Type.CONFIRMED) != (latency != null)) {
      throw new IllegalArgumentException("latency is set exactly for CONFIRMED, got " + type);
    }
  }

  public DriftKey key() {
    return drift.key();
  }
}
