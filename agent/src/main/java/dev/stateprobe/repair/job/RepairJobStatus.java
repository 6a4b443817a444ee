package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * {@code status} of a ConsistencyRepairJob, written only by the agent through the status
 * subresource. The transition methods ({@link #start}, {@link #finish}, {@link #verify}, {@link
 * #interrupted}) keep {@code conditions} and {@code history} consistent with {@code phase}.
 *
 * <p>Conditions: {@code Finished} (True once the attempt is over; its reason is the phase) and,
 * after a success, {@code Verified} (Unknown while pending, True when resolved, False when not).
 *
 * @param attempts attempts started so far; the latest one's {@code STATE_PROBE_ATTEMPT}
 * @param output the tail of the script's output, at most {@link #MAX_OUTPUT_CHARS}
 * @param history the latest attempts, oldest first, at most {@link #MAX_HISTORY}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record RepairJobStatus(
    Phase phase,
    int attempts,
    Instant startedAt,
    Instant finishedAt,
    Integer exitCode,
    String output,
    String reason,
    Verification verification,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<JobCondition> conditions,
    @JsonInclude(JsonInclude.Include.NON_EMPTY) List<AttemptRecord> history) {

  /** The CRD's {@code maxLength} of {@code status.output}; 16 KiB of bytes fit in it. */
  public static final int MAX_OUTPUT_CHARS = 32768;

  /** The CRD's {@code maxItems} of {@code status.history}. */
  public static final int MAX_HISTORY = 10;

  public static final String FINISHED = "Finished";
  public static final String VERIFIED = "Verified";

  /** The reason of a run that a restart of the agent cut off. */
  public static final String INTERRUPTED = "interrupted";

  public RepairJobStatus {
    Objects.requireNonNull(phase, "status.phase");
    if (attempts < 0) {
      throw new IllegalArgumentException("status.attempts must be >= 0, was " + attempts);
    }
    output = tail(output);
    conditions = conditions == null ? List.of() : List.copyOf(conditions);
    history =
        history == null
            ? List.of()
            : List.copyOf(
                history.subList(Math.max(0, history.size() - MAX_HISTORY), history.size()));
  }

  /** The status of a record that no attempt has started yet. */
  public static RepairJobStatus pending(String reason, Instant now) {
    return new RepairJobStatus(
            Phase.PENDING, 0, null, null, null, null, reason, null, List.of(), List.of())
        .withConditions(FINISHED, JobCondition.FALSE, Phase.PENDING.wireName(), reason, now);
  }

  /** Attempt {@code attempt} starts now. */
  public RepairJobStatus start(int attempt, boolean dryRun, Instant now) {
    if (phase == Phase.RUNNING) {
      throw new IllegalStateException(
          "attempt " + attempts + " still runs; cannot start attempt " + attempt);
    }
    if (attempt <= attempts) {
      throw new IllegalArgumentException(
          "attempt " + attempt + " is not after attempt " + attempts);
    }
    List<AttemptRecord> h = new ArrayList<>(history);
    h.add(new AttemptRecord(attempt, Phase.RUNNING, dryRun, now, null, null, null, null));
    return new RepairJobStatus(
            Phase.RUNNING, attempt, now, null, null, null, null, null, conditions, h)
        .withConditions(
            FINISHED,
            JobCondition.FALSE,
            Phase.RUNNING.wireName(),
            "attempt " + attempt + " runs",
            now);
  }

  /**
   * The attempt ended. From Running any finished phase; from Pending only Skipped (the drift was
   * gone before the script ran, so no attempt is counted).
   */
  public RepairJobStatus finish(Phase to, Integer code, String out, String why, Instant now) {
    Objects.requireNonNull(to, "phase");
    if (!to.finished()) {
      throw new IllegalArgumentException("finish needs a finished phase, got " + to.wireName());
    }
    if (phase != Phase.RUNNING && !(phase == Phase.PENDING && to == Phase.SKIPPED)) {
      throw new IllegalStateException(
          "cannot go from " + phase.wireName() + " to " + to.wireName());
    }
    List<AttemptRecord> h = new ArrayList<>(history);
    if (phase == Phase.RUNNING && !h.isEmpty() && h.getLast().attempt() == attempts) {
      h.set(h.size() - 1, h.getLast().finish(to, code, why, now));
    }
    Verification v = to == Phase.SUCCEEDED ? Verification.PENDING : null;
    RepairJobStatus s =
        new RepairJobStatus(to, attempts, startedAt, now, code, out, why, v, conditions, h)
            .withConditions(
                FINISHED, JobCondition.TRUE, to.wireName(), why == null ? to.wireName() : why, now);
    return v == null
        ? s
        : s.withConditions(
            VERIFIED, JobCondition.UNKNOWN, "Pending", "waiting for two trusted cycles", now);
  }

  /** The verdict two trusted cycles after a success. */
  public RepairJobStatus verify(Verification v, Instant now) {
    Objects.requireNonNull(v, "verification");
    if (phase != Phase.SUCCEEDED) {
      throw new IllegalStateException(
          "only a Succeeded record is verified, this one is " + phase.wireName());
    }
    List<AttemptRecord> h = new ArrayList<>(history);
    if (!h.isEmpty() && h.getLast().attempt() == attempts) {
      h.set(h.size() - 1, h.getLast().verified(v));
    }
    String status =
        switch (v) {
          case PENDING -> JobCondition.UNKNOWN;
          case RESOLVED -> JobCondition.TRUE;
          case UNRESOLVED -> JobCondition.FALSE;
        };
    String message =
        switch (v) {
          case PENDING -> "waiting for two trusted cycles";
          case RESOLVED -> "the drift was gone two trusted cycles later";
          case UNRESOLVED -> "the drift still held two trusted cycles later";
        };
    return new RepairJobStatus(
            phase, attempts, startedAt, finishedAt, exitCode, output, reason, v, conditions, h)
        .withConditions(VERIFIED, status, v.wireName(), message, now);
  }

  /** A run that the agent's restart cut off: Failed, counted, never resumed. */
  public RepairJobStatus interrupted(Instant now) {
    return finish(Phase.FAILED, null, output, INTERRUPTED, now);
  }

  /** The condition of that type, if set. */
  public java.util.Optional<JobCondition> condition(String type) {
    return conditions.stream().filter(c -> c.type().equals(type)).findFirst();
  }

  /** Sets one condition; its lastTransitionTime changes only when its status changes. */
  RepairJobStatus withConditions(
      String type, String status, String why, String message, Instant now) {
    List<JobCondition> cs = new ArrayList<>();
    JobCondition previous = null;
    for (JobCondition c : conditions) {
      if (c.type().equals(type)) {
        previous = c;
      } else {
        cs.add(c);
      }
    }
    Instant since =
        previous != null && previous.status().equals(status) ? previous.lastTransitionTime() : now;
    cs.add(new JobCondition(type, status, null, since, camel(why), message == null ? "" : message));
    cs.sort(java.util.Comparator.comparing(JobCondition::type));
    return new RepairJobStatus(
        phase,
        attempts,
        startedAt,
        finishedAt,
        exitCode,
        output,
        reason,
        verification,
        cs,
        history);
  }

  /**
   * A condition reason from free text: {@code drift gone before repair} → {@code
   * DriftGoneBeforeRepair}.
   */
  static String camel(String text) {
    StringBuilder b = new StringBuilder();
    boolean upper = true;
    for (char c : text.toCharArray()) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        if (b.isEmpty() && !Character.isLetter(c)) {
          b.append('R');
        }
        b.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      } else {
        upper = true;
      }
      if (b.length() >= 64) {
        break;
      }
    }
    return b.isEmpty() ? "Unspecified" : b.toString();
  }

  /** The last {@link #MAX_OUTPUT_CHARS} characters, never starting inside a surrogate pair. */
  static String tail(String s) {
    if (s == null || s.length() <= MAX_OUTPUT_CHARS) {
      return s;
    }
    int from = s.length() - MAX_OUTPUT_CHARS;
    if (Character.isLowSurrogate(s.charAt(from))) {
      from++;
    }
    return s.substring(from);
  }
}
