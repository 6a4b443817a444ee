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
 * @param reason one line for people: what happened and why, naming the script; says so when the
 *     executor had to end processes
 * @param processesEnded processes the executor had to end: on a timeout the script's whole tree,
 *     after an exit whatever the script left running (daemons included); 0 when the run left
 *     nothing behind
 */
public record ScriptResult(
    ScriptOutcome outcome,
    Integer exitCode,
    String output,
    Instant startedAt,
    Instant finishedAt,
    String reason,
    int processesEnded) {

  /** A run that left nothing to end. */
  public ScriptResult(
      ScriptOutcome outcome,
      Integer exitCode,
      String output,
      Instant startedAt,
      Instant finishedAt,
      String reason) {
    this(outcome, exitCode, output, startedAt, finishedAt, reason, 0);
  }

  public ScriptResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(startedAt, "startedAt");
    Objects.requireNonNull(finishedAt, "finishedAt");
    Objects.requireNonNull(reason, "reason");
    if (processesEnded < 0) {
      throw new IllegalArgumentException("processesEnded must not be negative");
    }
  }

  public Duration duration() {
    return Duration.between(startedAt, finishedAt);
  }
}
