package dev.stateprobe.repair.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.view.PodRef;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VerificationStateTest {
  private static final ScriptKey KEY =
      new ScriptKey(
          new DriftKey(DriftKind.UNKNOWN_TO_KUBELET, new PodRef("ns", "web-0", "uid-1")),
          "restart-pod");

  /** One transition: from (clean, seen), a cycle with or without the drift, to the next state. */
  @ParameterizedTest(name = "({0},{1}) drift present={2} → ({3},{4}) verdict {5}")
  @CsvSource({
    // clean, seen, present, clean', seen', verdict
    "0, 0, false, 1, 1, ",
    "0, 0, true, 0, 1, ",
    "1, 1, false, 2, 2, RESOLVED",
    "1, 1, true, 0, 2, ",
    "0, 4, false, 1, 5, ",
    "1, 4, false, 2, 5, RESOLVED",
    "1, 4, true, 0, 5, ",
    "0, 5, true, 0, 6, UNRESOLVED",
    "0, 5, false, 1, 6, UNRESOLVED",
    "1, 5, false, 2, 6, RESOLVED", // two clean in a row wins on the last cycle
    "1, 5, true, 0, 6, UNRESOLVED",
  })
  void transitions(
      int clean,
      int seen,
      boolean present,
      int nextClean,
      int nextSeen,
      VerificationState.Verdict verdict) {
    VerificationState.Step step = new VerificationState(KEY, clean, seen).step(present);
    assertEquals(new VerificationState(KEY, nextClean, nextSeen), step.state());
    assertEquals(Optional.ofNullable(verdict), step.verdict());
  }

  @Test
  void twoCleanCyclesInARowResolve() {
    assertEquals(Optional.of(VerificationState.Verdict.RESOLVED), run(false, false));
  }

  @Test
  void aDriftThatComesBackBetweenCleanCyclesResetsTheRun() {
    assertEquals(Optional.empty(), run(false, true, false));
    assertEquals(Optional.of(VerificationState.Verdict.RESOLVED), run(false, true, false, false));
  }

  @Test
  void sixCyclesWithoutTwoCleanInARowAreUnresolved() {
    assertEquals(Optional.empty(), run(true, false, true, false, true));
    assertEquals(
        Optional.of(VerificationState.Verdict.UNRESOLVED),
        run(true, false, true, false, true, false));
  }

  @Test
  void countsOutOfRangeAreRefusedWithTheirValues() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new VerificationState(KEY, 2, 1));
    assertEquals("verification counts out of range: clean=2 seen=1", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new VerificationState(KEY, -1, 0));
  }

  /** Steps a fresh verification through the cycles; the verdict of the last one. */
  private static Optional<VerificationState.Verdict> run(boolean... present) {
    VerificationState s = VerificationState.begin(KEY);
    Optional<VerificationState.Verdict> verdict = Optional.empty();
    for (boolean p : present) {
      VerificationState.Step step = s.step(p);
      s = step.state();
      verdict = step.verdict();
    }
    return verdict;
  }
}
