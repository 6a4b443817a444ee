package dev.stateprobe.repair.planner;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What happened so far with one script for one drift (one repair record).
 *
 * @param attempts attempts started so far (an interrupted or still running one counts)
 * @param lastAttemptAt when the last attempt ended (or started, while it runs); empty before the
 *     first
 * @param lastOutcome how the last finished attempt ended; empty before the first finished one
 * @param running the script runs for this drift now
 */
public record ScriptHistory(
    int attempts, Optional<Instant> lastAttemptAt, Optional<Outcome> lastOutcome, boolean running) {

  public static final ScriptHistory NONE =
      new ScriptHistory(0, Optional.empty(), Optional.empty(), false);

  public ScriptHistory {
    Objects.requireNonNull(lastAttemptAt, "lastAttemptAt");
    Objects.requireNonNull(lastOutcome, "lastOutcome");
    if (attempts < 0) {
      throw new IllegalArgumentException("script history: attempts must be >= 0, was " + attempts);
    }
    if (lastOutcome.isPresent() && lastAttemptAt.isEmpty()) {
      throw new IllegalArgumentException("script history: an outcome needs lastAttemptAt");
    }
  }

  /** A finished attempt history: {@code attempts} started, the last ended at {@code at}. */
  public static ScriptHistory finished(int attempts, Instant at, Outcome outcome) {
    return new ScriptHistory(attempts, Optional.of(at), Optional.of(outcome), false);
  }

  /** The {@code attempts}-th attempt runs since {@code startedAt}. */
  public static ScriptHistory running(int attempts, Instant startedAt) {
    return new ScriptHistory(attempts, Optional.of(startedAt), Optional.empty(), true);
  }
}
