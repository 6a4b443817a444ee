package dev.stateprobe.repair.planner;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The node's circuit breaker, as an immutable value: each trusted cycle calls {@link #step} and
 * keeps the state it returns.
 *
 * <p>It opens when the drifts (suspected or confirmed) exceed {@code max(min, ceil(percent% ×
 * nodePods))}: that many at once means the views are more likely wrong than the pods. It closes
 * only once the count has stayed at or under the threshold for the whole {@code recovery} window,
 * measured from the first step that saw it there; any step above the threshold restarts that
 * window, so a count that flaps around the threshold keeps it open.
 *
 * @param min {@code CIRCUIT_MIN}: the threshold never goes below it
 * @param percent {@code CIRCUIT_PERCENT} of the node's pods
 * @param recovery {@code CIRCUIT_RECOVERY}
 * @param open repairs are blocked
 * @param calmSince while open: the first step of the current run of steps at or under the
 *     threshold; empty when the last step was above it (or the breaker is closed)
 */
public record CircuitBreaker(
    int min, int percent, Duration recovery, boolean open, Optional<Instant> calmSince) {

  /** A change of state, for the Node Event and the {@code stateprobe_circuit_open} gauge. */
  public enum Transition {
    NONE,
    OPENED,
    CLOSED
  }

  /**
   * The result of one step.
   *
   * @param state the breaker to keep for the next step
   * @param transition whether this step opened or closed it
   * @param threshold the threshold this step used
   * @param drifts the count this step saw: drifts suspected or confirmed
   */
  public record Step(CircuitBreaker state, Transition transition, int threshold, int drifts) {
    public Step {
      Objects.requireNonNull(state, "state");
      Objects.requireNonNull(transition, "transition");
    }
  }

  public CircuitBreaker {
    Objects.requireNonNull(recovery, "recovery");
    Objects.requireNonNull(calmSince, "calmSince");
    if (min < 0) {
      throw new IllegalArgumentException("circuit breaker: min must be >= 0, was " + min);
    }
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException(
          "circuit breaker: percent must be within 0..100, was " + percent);
    }
    if (recovery.isNegative()) {
      throw new IllegalArgumentException(
          "circuit breaker: recovery must not be negative, was " + recovery);
    }
    if (!open && calmSince.isPresent()) {
      throw new IllegalArgumentException("circuit breaker: a closed breaker has no calmSince");
    }
  }

  /** A closed breaker: the state at start-up. */
  public static CircuitBreaker closed(int min, int percent, Duration recovery) {
    return new CircuitBreaker(min, percent, recovery, false, Optional.empty());
  }

  /** {@code max(min, ceil(percent × nodePods / 100))}. */
  public int threshold(int nodePods) {
    if (nodePods < 0) {
      throw new IllegalArgumentException("circuit breaker: nodePods must be >= 0, was " + nodePods);
    }
    long share = ((long) percent * nodePods + 99) / 100;
    return (int) Math.max(min, share);
  }

  /**
   * @param drifts the drifts of this cycle, suspected or confirmed (the controller counts both)
   * @param nodePods the node's pods: the larger of the API server's and the kubelet's counts
   * @param now the cycle's time
   */
  public Step step(int drifts, int nodePods, Instant now) {
    Objects.requireNonNull(now, "now");
    if (drifts < 0) {
      throw new IllegalArgumentException("circuit breaker: drifts must be >= 0, was " + drifts);
    }
    int threshold = threshold(nodePods);
    boolean over = drifts > threshold;
    if (!open) {
      return over
          ? new Step(with(true, Optional.empty()), Transition.OPENED, threshold, drifts)
          : new Step(this, Transition.NONE, threshold, drifts);
    }
    if (over) {
      return new Step(with(true, Optional.empty()), Transition.NONE, threshold, drifts);
    }
    Instant since = calmSince.orElse(now);
    if (!now.isBefore(since.plus(recovery))) {
      return new Step(with(false, Optional.empty()), Transition.CLOSED, threshold, drifts);
    }
    return new Step(with(true, Optional.of(since)), Transition.NONE, threshold, drifts);
  }

  private CircuitBreaker with(boolean isOpen, Optional<Instant> since) {
    return new CircuitBreaker(min, percent, recovery, isOpen, since);
  }
}
