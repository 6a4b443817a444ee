package dev.stateprobe.drift;

import java.time.Instant;
import java.util.Objects;

/**
 * A drift as the tracker holds it across cycles.
 *
 * @param drift the drift as seen in the latest trusted cycle that showed it
 * @param firstObservedAt the first trusted cycle that showed it
 * @param confirmedAt when it was confirmed; {@code null} while suspected
 * @param observations trusted cycles in a row that showed it
 */
public record TrackedDrift(
    Drift drift, Instant firstObservedAt, Instant confirmedAt, int observations) {

  /** The drift's lifecycle as {@code /v1/drifts} shows it. */
  public enum State {
    SUSPECTED("suspected"),
    CONFIRMED("confirmed");

    private final String wireName;

    State(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }
  }

  public TrackedDrift {
    Objects.requireNonNull(drift, "drift");
    Objects.requireNonNull(firstObservedAt, "firstObservedAt");
    if (observations < 1) {
      throw new IllegalArgumentException("observations must be >= 1");
    }
  }

  public DriftKey key() {
    return drift.key();
  }

  public State state() {
    return confirmedAt == null ? State.SUSPECTED : State.CONFIRMED;
  }

  public boolean confirmed() {
    return confirmedAt != null;
  }
}
