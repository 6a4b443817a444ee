package dev.stateprobe.repair.job;

import static dev.stateprobe.repair.job.Jobs.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stateprobe.repair.planner.Approval;
import dev.stateprobe.repair.planner.Limits;
import dev.stateprobe.repair.planner.Outcome;
import dev.stateprobe.repair.planner.PlanInput;
import dev.stateprobe.repair.planner.PlanMode;
import dev.stateprobe.repair.planner.RepairHistory;
import dev.stateprobe.repair.planner.RepairOption;
import dev.stateprobe.repair.planner.RepairPlanner;
import dev.stateprobe.repair.planner.ScriptHistory;
import dev.stateprobe.repair.planner.ScriptKey;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlannerFactsTest {

  private static ConsistencyRepairJob record(
      String pod, String script, boolean approved, RepairJobStatus status) {
    RepairJobSpec base = Jobs.spec(pod, script);
    RepairJobSpec spec =
        new RepairJobSpec(base.nodeName(), base.drift(), base.script(), false, approved);
    return ConsistencyRepairJob.of(
        new ObjectMetaBuilder()
            .withName(spec.jobName())
            .withCreationTimestamp("2026-11-20T11:00:00Z")
            .build(),
        spec,
        status);
  }

  private static ScriptKey key(String pod, String script) {
    return new ScriptKey(Jobs.spec(pod, script).driftKey(), script);
  }

  private static final RepairJobStatus PENDING = RepairJobStatus.pending("c", T0);
  private static final RepairJobStatus RUNNING = PENDING.start(1, false, T0.plusSeconds(10));

  @ParameterizedTest(name = "{0} exit {1} verification {2} -> {3}")
  @CsvSource({
    "Succeeded, 0, , SUCCEEDED",
    "Succeeded, 0, Resolved, SUCCEEDED",
    "Succeeded, 0, Unresolved, UNRESOLVED",
    "Failed, 1, , FAILED",
    "Failed, 3, , GAVE_UP",
    "Failed, 77, , FAILED",
    "TimedOut, , , FAILED",
    "Skipped, 2, , NOT_APPLICABLE",
  })
  void finishedRecordsMapToPlannerOutcomes(
      String phase, Integer exit, String verification, Outcome outcome) {
    Phase p =
        java.util.Arrays.stream(Phase.values())
            .filter(x -> x.wireName().equals(phase))
            .findFirst()
            .orElseThrow();
    RepairJobStatus s = RUNNING.finish(p, exit, "", "r", T0.plusSeconds(20));
    if (verification != null) {
      s = s.verify(Verification.valueOf(verification.toUpperCase()), T0.plusSeconds(30));
    }
    assertEquals(Optional.of(outcome), PlannerFacts.outcome(s));
  }

  @Test
  void skippedInterruptedPendingAndRunningRecordsMapAsTheirPhaseSays() {
    assertEquals(
        Optional.of(Outcome.SKIPPED),
        PlannerFacts.outcome(
            PENDING.finish(Phase.SKIPPED, null, null, "drift gone before repair", T0)));
    assertEquals(Optional.empty(), PlannerFacts.outcome(PENDING));
    assertEquals(Optional.empty(), PlannerFacts.outcome(RUNNING));
    assertEquals(Optional.of(Outcome.FAILED), PlannerFacts.outcome(RUNNING.interrupted(T0)));
  }

  @Test
  void historyIsRebuiltFromRecords() {
    RepairJobStatus failedTwice =
        RUNNING
            .finish(Phase.FAILED, 1, "", "exit 1", T0.plusSeconds(20))
            .start(2, false, T0.plusSeconds(100))
            .finish(Phase.FAILED, 1, "", "exit 1", T0.plusSeconds(110));
    List<ConsistencyRepairJob> records =
        List.of(
            record("a", "x", false, failedTwice),
            record("b", "x", false, RUNNING),
            record("c", "m", false, PENDING),
            record("d", "m", true, null));
    RepairHistory h = PlannerFacts.history(records);
    assertEquals(
        Map.of(
            key("a", "x"), ScriptHistory.finished(2, T0.plusSeconds(110), Outcome.FAILED),
            key("b", "x"), ScriptHistory.running(1, T0.plusSeconds(10))),
        h.scripts());
    assertEquals(1, h.running());
    assertEquals(List.of(T0.plusSeconds(10), T0.plusSeconds(100), T0.plusSeconds(10)), h.starts());
    assertEquals(
        Map.of(
            key("a", "x"), Approval.PENDING,
            key("b", "x"), Approval.PENDING,
            key("c", "m"), Approval.PENDING,
            key("d", "m"), Approval.APPROVED),
        PlannerFacts.approvals(records));
    assertEquals(
        Map.of(
            "Pending", 2, "Running", 1, "Succeeded", 0, "Failed", 1, "TimedOut", 0, "Skipped", 0),
        PlannerFacts.countByPhase(records));
  }

  @Test
  void aRestartedAgentPlansTheNextAttemptFromTheRecords() {
    // The record says attempt 1 was interrupted by the restart: the planner backs off, then runs
    // attempt 2.
    ConsistencyRepairJob interrupted =
        record("a", "x", false, RUNNING.interrupted(T0.plusSeconds(20)));
    PlanInput in =
        new PlanInput(
            List.of(Jobs.orphan("a")),
            Map.of(
                Jobs.orphan("a").key(),
                List.of(new RepairOption("x", RepairOption.Mode.AUTO, 3, Duration.ofSeconds(60)))),
            PlanMode.ON,
            false,
            false,
            new Limits(1, 10),
            PlannerFacts.history(List.of(interrupted)),
            PlannerFacts.approvals(List.of(interrupted)),
            T0.plusSeconds(79));
    assertEquals("backoff", RepairPlanner.plan(in).get(0).throttle().orElseThrow().tag());
    PlanInput later =
        new PlanInput(
            in.drifts(),
            in.options(),
            in.mode(),
            false,
            false,
            in.limits(),
            in.history(),
            in.approvals(),
            T0.plusSeconds(80));
    assertEquals(2, RepairPlanner.plan(later).get(0).attempt());
  }
}
