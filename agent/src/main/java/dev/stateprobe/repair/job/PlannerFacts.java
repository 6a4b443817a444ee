package dev.stateprobe.repair.job;

import dev.stateprobe.repair.planner.Approval;
import dev.stateprobe.repair.planner.Outcome;
import dev.stateprobe.repair.planner.RepairHistory;
import dev.stateprobe.repair.planner.ScriptHistory;
import dev.stateprobe.repair.planner.ScriptKey;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the planner needs to know, read from this node's records ({@link JobStore#listForNode}).
 * Because the records are the only memory, a restarted agent plans from the same facts as before.
 */
public final class PlannerFacts {
  private PlannerFacts() {}

  /** Attempts, last outcome and running flag per drift and script; start times; running count. */
  public static RepairHistory history(List<ConsistencyRepairJob> records) {
    Map<ScriptKey, ScriptHistory> scripts = new HashMap<>();
    List<Instant> starts = new ArrayList<>();
    int running = 0;
    for (ConsistencyRepairJob job : records) {
      RepairJobStatus s = job.getStatus();
      if (s == null) {
        continue;
      }
      ScriptKey key = new ScriptKey(job.getSpec().driftKey(), job.getSpec().script());
      s.history().forEach(a -> starts.add(a.startedAt()));
      if (s.startedAt() != null
          && s.history().stream().noneMatch(a -> a.startedAt().equals(s.startedAt()))) {
        starts.add(s.startedAt());
      }
      Optional<ScriptHistory> h = scriptHistory(job, s);
      if (h.isPresent()) {
        scripts.put(key, h.get());
        if (h.get().running()) {
          running++;
        }
      }
    }
    return new RepairHistory(scripts, starts, running);
  }

  /** Every record's approval: a manual entry runs only once {@code spec.approved} is true. */
  public static Map<ScriptKey, Approval> approvals(List<ConsistencyRepairJob> records) {
    Map<ScriptKey, Approval> out = new HashMap<>();
    for (ConsistencyRepairJob job : records) {
      out.put(
          new ScriptKey(job.getSpec().driftKey(), job.getSpec().script()),
          job.getSpec().approved() ? Approval.APPROVED : Approval.PENDING);
    }
    return out;
  }

  /** Records per phase, every phase present (zeros too): for {@code Metrics.recordsByPhase}. */
  public static Map<String, Integer> countByPhase(List<ConsistencyRepairJob> records) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (Phase p : Phase.values()) {
      out.put(p.wireName(), 0);
    }
    for (ConsistencyRepairJob job : records) {
      out.merge(job.statusOrPending().phase().wireName(), 1, Integer::sum);
    }
    return out;
  }

  /**
   * How a finished attempt ended for the planner: exit 3 gives up, exit 2 (Skipped) is not
   * applicable, a success that verification found Unresolved is Unresolved; timeouts and
   * interrupted runs are failures. Empty while Pending or Running.
   */
  public static Optional<Outcome> outcome(RepairJobStatus s) {
    return switch (s.phase()) {
      case PENDING, RUNNING -> Optional.empty();
      case SUCCEEDED ->
          Optional.of(
              s.verification() == Verification.UNRESOLVED ? Outcome.UNRESOLVED : Outcome.SUCCEEDED);
      case FAILED ->
          Optional.of(Integer.valueOf(3).equals(s.exitCode()) ? Outcome.GAVE_UP : Outcome.FAILED);
      case TIMED_OUT -> Optional.of(Outcome.FAILED);
      case SKIPPED ->
          Optional.of(
              Integer.valueOf(2).equals(s.exitCode()) ? Outcome.NOT_APPLICABLE : Outcome.SKIPPED);
    };
  }

  private static Optional<ScriptHistory> scriptHistory(
      ConsistencyRepairJob job, RepairJobStatus s) {
    if (s.phase() == Phase.RUNNING) {
      return Optional.of(
          ScriptHistory.running(
              s.attempts(), s.startedAt() != null ? s.startedAt() : created(job)));
    }
    Optional<Outcome> outcome = outcome(s);
    if (outcome.isEmpty()) {
      return s.attempts() == 0
          ? Optional.empty()
          : Optional.of(new ScriptHistory(s.attempts(), Optional.empty(), Optional.empty(), false));
    }
    Instant at =
        s.finishedAt() != null
            ? s.finishedAt()
            : s.startedAt() != null ? s.startedAt() : created(job);
    return Optional.of(ScriptHistory.finished(s.attempts(), at, outcome.get()));
  }

  private static Instant created(ConsistencyRepairJob job) {
    try {
      return Instant.parse(job.getMetadata().getCreationTimestamp());
    } catch (NullPointerException | DateTimeParseException e) {
      return Instant.EPOCH;
    }
  }
}
