package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Objects;

/** One entry of {@code status.history}: one attempt of the record's script. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record AttemptRecord(
    int attempt,
    Phase phase,
    Boolean dryRun,
    Instant startedAt,
    Instant finishedAt,
    Integer exitCode,
    String reason,
    Verification verification) {

  public AttemptRecord {
    Objects.requireNonNull(phase, "history phase");
    Objects.requireNonNull(startedAt, "history startedAt");
    if (attempt < 1) {
      throw new IllegalArgumentException("history attempt must be >= 1, was " + attempt);
    }
  }

  AttemptRecord finish(Phase p, Integer code, String why, Instant at) {
    return new AttemptRecord(
        attempt,
        p,
        dryRun,
        startedAt,
        at,
        code,
        why,
        p == Phase.SUCCEEDED ? Verification.PENDING : null);
  }

  AttemptRecord verified(Verification v) {
    return new AttemptRecord(attempt, phase, dryRun, startedAt, finishedAt, exitCode, reason, v);
  }
}
