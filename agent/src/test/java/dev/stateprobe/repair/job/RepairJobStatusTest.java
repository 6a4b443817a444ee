package dev.stateprobe.repair.job;

import static dev.stateprobe.repair.job.Jobs.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RepairJobStatusTest {

  @Test
  void aSuccessfulAttemptIsRecordedWithConditionsAndHistory() {
    RepairJobStatus s =
        RepairJobStatus.pending("created", T0)
            .start(1, true, T0.plusSeconds(1))
            .finish(Phase.SUCCEEDED, 0, "ok", "exit 0", T0.plusSeconds(2));
    assertEquals(Phase.SUCCEEDED, s.phase());
    assertEquals(1, s.attempts());
    assertEquals(T0.plusSeconds(1), s.startedAt());
    assertEquals(T0.plusSeconds(2), s.finishedAt());
    assertEquals(0, s.exitCode());
    assertEquals(Verification.PENDING, s.verification());
    assertEquals(
        new JobCondition("Finished", "True", null, T0.plusSeconds(2), "Succeeded", "exit 0"),
        s.condition("Finished").orElseThrow());
    assertEquals(
        new JobCondition(
            "Verified",
            "Unknown",
            null,
            T0.plusSeconds(2),
            "Pending",
            "waiting for two trusted cycles"),
        s.condition("Verified").orElseThrow());
    assertEquals(
        List.of(
            new AttemptRecord(
                1,
                Phase.SUCCEEDED,
                true,
                T0.plusSeconds(1),
                T0.plusSeconds(2),
                0,
                "exit 0",
                Verification.PENDING)),
        s.history());

    RepairJobStatus v = s.verify(Verification.UNRESOLVED, T0.plusSeconds(12));
    assertEquals(Verification.UNRESOLVED, v.verification());
    assertEquals(
        new JobCondition(
            "Verified",
            "False",
            null,
            T0.plusSeconds(12),
            "Unresolved",
            "the drift still held two trusted cycles later"),
        v.condition("Verified").orElseThrow());
    assertEquals(Verification.UNRESOLVED, v.history().getLast().verification());
  }

  @Test
  void aConditionKeepsItsTransitionTimeWhileItsStatusStays() {
    RepairJobStatus running =
        RepairJobStatus.pending("created", T0).start(1, false, T0.plusSeconds(5));
    JobCondition finished = running.condition("Finished").orElseThrow();
    assertEquals("False", finished.status());
    assertEquals("Running", finished.reason());
    assertEquals(T0, finished.lastTransitionTime());
  }

  @Test
  void aNewAttemptStartsAfterAFailureAndClearsTheOldResult() {
    RepairJobStatus s =
        RepairJobStatus.pending("created", T0)
            .start(1, false, T0)
            .finish(Phase.TIMED_OUT, null, "slow", "timed out after 60s", T0.plusSeconds(60))
            .start(2, false, T0.plusSeconds(120));
    assertEquals(Phase.RUNNING, s.phase());
    assertEquals(2, s.attempts());
    assertNull(s.finishedAt());
    assertNull(s.output());
    assertNull(s.reason());
    assertEquals(
        List.of(Phase.TIMED_OUT, Phase.RUNNING),
        s.history().stream().map(AttemptRecord::phase).toList());
  }

  @Test
  void anInterruptedRunFailsAndKeepsItsAttempt() {
    RepairJobStatus s =
        RepairJobStatus.pending("created", T0).start(3, false, T0).interrupted(T0.plusSeconds(9));
    assertEquals(Phase.FAILED, s.phase());
    assertEquals(3, s.attempts());
    assertEquals("interrupted", s.reason());
    assertEquals(T0.plusSeconds(9), s.finishedAt());
    assertEquals(
        new JobCondition("Finished", "True", null, T0.plusSeconds(9), "Failed", "interrupted"),
        s.condition("Finished").orElseThrow());
    assertEquals(Phase.FAILED, s.history().getLast().phase());
  }

  @Test
  void aDriftGoneBeforeRepairSkipsWithoutCountingAnAttempt() {
    RepairJobStatus s =
        RepairJobStatus.pending("created", T0)
            .finish(Phase.SKIPPED, null, null, "drift gone before repair", T0.plusSeconds(1));
    assertEquals(Phase.SKIPPED, s.phase());
    assertEquals(0, s.attempts());
    assertEquals(List.of(), s.history());
  }

  @Test
  void impossibleTransitionsAreRefused() {
    RepairJobStatus running = RepairJobStatus.pending("created", T0).start(1, false, T0);
    assertThrows(IllegalStateException.class, () -> running.start(2, false, T0));
    RepairJobStatus failed = running.finish(Phase.FAILED, 1, "", "exit 1", T0);
    assertThrows(IllegalArgumentException.class, () -> failed.start(1, false, T0));
    assertThrows(
        IllegalStateException.class, () -> failed.finish(Phase.SUCCEEDED, 0, "", "exit 0", T0));
    assertThrows(IllegalStateException.class, () -> failed.verify(Verification.RESOLVED, T0));
    assertThrows(
        IllegalArgumentException.class, () -> running.finish(Phase.RUNNING, 0, "", "", T0));
    assertThrows(
        IllegalStateException.class,
        () -> RepairJobStatus.pending("x", T0).finish(Phase.FAILED, 1, "", "", T0));
  }

  @Test
  void historyKeepsTheLatestTenAttempts() {
    RepairJobStatus s = RepairJobStatus.pending("created", T0);
    for (int i = 1; i <= 12; i++) {
      Instant at = T0.plusSeconds(i * 100L);
      s = s.start(i, false, at).finish(Phase.FAILED, 1, "", "exit 1", at.plusSeconds(1));
    }
    assertEquals(10, s.history().size());
    assertEquals(3, s.history().getFirst().attempt());
    assertEquals(12, s.history().getLast().attempt());
  }

  @Test
  void outputKeepsItsTailWithinTheCrdLimit() {
    String head = "h".repeat(10_000);
    String tail = "t".repeat(RepairJobStatus.MAX_OUTPUT_CHARS);
    RepairJobStatus s =
        RepairJobStatus.pending("c", T0)
            .start(1, false, T0)
            .finish(Phase.FAILED, 1, head + tail, "exit 1", T0);
    assertEquals(tail, s.output());
  }

  @Test
  void outputIsNotCutInsideASurrogatePair() {
    String emoji = "\uD83D\uDE00"; // one code point, two chars
    String s = "x" + emoji + "y".repeat(RepairJobStatus.MAX_OUTPUT_CHARS - 1);
    String t = RepairJobStatus.tail(s);
    assertEquals("y".repeat(RepairJobStatus.MAX_OUTPUT_CHARS - 1), t);
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    "drift gone before repair, DriftGoneBeforeRepair",
    "exit 1, Exit1",
    "interrupted, Interrupted",
    "'', Unspecified",
    "1 abc, R1Abc",
    "timed out after 60s, TimedOutAfter60s",
  })
  void conditionReasonsAreCamelCase(String text, String reason) {
    assertEquals(reason, RepairJobStatus.camel(text));
  }
}
