package dev.stateprobe.repair.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class CircuitBreakerTest {
  private static final Instant T0 = Instant.parse("2026-11-20T12:00:00Z");
  private static final CircuitBreaker DEFAULT =
      CircuitBreaker.closed(3, 30, Duration.ofSeconds(60));

  @ParameterizedTest(name = "min {0}, {1} % of {2} pods: threshold {3}")
  @CsvSource({
    "3, 30, 0, 3",
    "3, 30, 10, 3",
    "3, 30, 11, 4", // 3.3 rounds up
    "3, 30, 20, 6",
    "3, 30, 100, 30",
    "3, 30, 101, 31", // 30.3 rounds up
    "3, 0, 500, 3",
    "0, 100, 7, 7",
    "5, 30, 2000000000, 600000000", // no int overflow on the way
  })
  void thresholdIsTheLargerOfMinAndTheRoundedUpShare(
      int min, int percent, int pods, int threshold) {
    assertEquals(threshold, CircuitBreaker.closed(min, percent, Duration.ZERO).threshold(pods));
  }

  /**
   * Steps as "seconds:confirmed:pods"; the expected trace has one letter per step: o open, c
   * closed, O opened now, C closed now.
   */
  static Stream<Arguments> sequences() {
    return Stream.of(
        Arguments.of("at the threshold it stays closed", "0:3:10 5:3:10", "cc"),
        Arguments.of("above the threshold it opens", "0:4:10", "O"),
        Arguments.of(
            "it closes only after the whole recovery window at or under the threshold",
            "0:5:10 10:2:10 69:2:10 70:3:10 80:0:10",
            "OooCc"),
        Arguments.of(
            "a step above the threshold restarts the recovery window",
            "0:5:10 10:2:10 40:4:10 50:2:10 100:2:10 109:2:10 110:2:10",
            "OoooooC"),
        Arguments.of(
            "flapping around the threshold keeps it open and reports one transition",
            "0:4:10 20:3:10 40:4:10 60:3:10 80:4:10 100:3:10 120:4:10 140:3:10",
            "Oooooooo"),
        Arguments.of(
            "more pods raise the threshold, and the same count becomes calm",
            "0:4:10 10:4:20 70:4:20",
            "OoC"),
        Arguments.of("it can open again after closing", "0:9:10 10:0:10 70:0:10 80:9:10", "OoCO"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sequences")
  void stepsThroughTheSequence(String name, String steps, String expected) {
    CircuitBreaker b = DEFAULT;
    StringBuilder trace = new StringBuilder();
    for (String step : steps.split(" ")) {
      String[] p = step.split(":");
      CircuitBreaker.Step s =
          b.step(
              Integer.parseInt(p[1]),
              Integer.parseInt(p[2]),
              T0.plusSeconds(Integer.parseInt(p[0])));
      b = s.state();
      trace.append(
          switch (s.transition()) {
            case OPENED -> 'O';
            case CLOSED -> 'C';
            case NONE -> b.open() ? 'o' : 'c';
          });
    }
    assertEquals(expected, trace.toString());
  }

  @Test
  void stepReportsTheThresholdAndCountItUsed() {
    CircuitBreaker.Step s = DEFAULT.step(7, 20, T0);
    assertEquals(6, s.threshold());
    assertEquals(7, s.drifts());
    assertEquals(CircuitBreaker.Transition.OPENED, s.transition());
    assertTrue(s.state().open());
    assertEquals(Optional.empty(), s.state().calmSince());
  }

  @Test
  void calmSinceIsTheFirstCalmStep() {
    CircuitBreaker open = DEFAULT.step(9, 10, T0).state();
    CircuitBreaker calm = open.step(1, 10, T0.plusSeconds(5)).state();
    assertEquals(Optional.of(T0.plusSeconds(5)), calm.calmSince());
    assertEquals(
        Optional.of(T0.plusSeconds(5)), calm.step(1, 10, T0.plusSeconds(30)).state().calmSince());
  }

  @Test
  void zeroRecoveryClosesOnTheFirstCalmStep() {
    CircuitBreaker b = CircuitBreaker.closed(3, 30, Duration.ZERO).step(9, 10, T0).state();
    assertEquals(CircuitBreaker.Transition.CLOSED, b.step(3, 10, T0.plusSeconds(1)).transition());
  }

  @Test
  void theBreakerIsAValue() {
    CircuitBreaker before = DEFAULT;
    before.step(99, 10, T0);
    assertFalse(before.open(), "step must not change the breaker it was called on");
    assertEquals(DEFAULT.step(9, 10, T0).state(), DEFAULT.step(9, 10, T0).state());
  }

  @Test
  void badSettingsAndCountsAreRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> CircuitBreaker.closed(3, 101, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class, () -> CircuitBreaker.closed(-1, 30, Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class, () -> CircuitBreaker.closed(3, 30, Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> DEFAULT.step(-1, 10, T0));
    assertThrows(IllegalArgumentException.class, () -> DEFAULT.step(1, -10, T0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new CircuitBreaker(3, 30, Duration.ZERO, false, Optional.of(T0)));
  }

  @Test
  void aLongCalmRunClosesExactlyOnce() {
    CircuitBreaker b = DEFAULT.step(10, 10, T0).state();
    List<CircuitBreaker.Transition> transitions = new ArrayList<>();
    for (int s = 5; s <= 300; s += 5) {
      CircuitBreaker.Step step = b.step(0, 10, T0.plusSeconds(s));
      b = step.state();
      if (step.transition() != CircuitBreaker.Transition.NONE) {
        transitions.add(step.transition());
      }
    }
    assertEquals(List.of(CircuitBreaker.Transition.CLOSED), transitions);
    assertFalse(b.open());
  }
}
