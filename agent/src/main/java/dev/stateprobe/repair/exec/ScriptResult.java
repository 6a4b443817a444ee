package dev.stateprobe.repair.exec;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What one script run did.
 *
 * @param exitCode the script's exit code; {@code null} when it timed out or never started
 * @param output the last 16 KiB of stdout and stderr, merged, decoded as UTF-8 and cut at a
 *     character boundary; empty when nothing was started
 * @param reason one line for people: what happened and why, naming the script
 */
public record ScriptResult(
    ScriptOutcome outcome,
    Integer exitCode,
    String output,
    Instant startedAt,
    Instant finishedAt,
    String reason) {

  public ScriptResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(finishedAt, "finishedAt");
    Objects.requireNonNull(reason, "reason");
  }

  public Duration duration() {
    return Duration.between(startedAt, finishedAt);
  }
}
