package dev.stateprobe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PollTimingsTest {

  private static PollTimings poll(long millis) {
    return new PollTimings(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "poll {0} → read back every {1} ms")
  @CsvSource({
    "200, 1200", // the integration tests: six polls
    "5000, 30000", // the default poll: six polls are exactly the cap
    "10000, 30000", // capped at 30 s
    "60000, 60000", // never more often than the agent polls
  })
  void approvalsAndALiftedPauseAreReadBackEverySixPollsAtMostThirtySeconds(
      long pollMillis, long expectedMillis) {
    assertThat(poll(pollMillis).repairRefresh()).isEqualTo(Duration.ofMillis(expectedMillis));
  }

  @ParameterizedTest(name = "poll {0} → /healthz stalls after {1} ms")
  @CsvSource({
    "200, 60000", // the floor
    "6000, 60000", // ten polls are exactly the floor
    "6001, 60010", // above it, ten polls
    "3600000, 36000000",
  })
  void healthzStallsAfterTenPollsButNeverSoonerThanAMinute(long pollMillis, long expectedMillis) {
    assertThat(poll(pollMillis).stallAfter()).isEqualTo(Duration.ofMillis(expectedMillis));
  }

  @Test
  void quietPeriodAndViewAgesAreTwoPolls() {
    PollTimings t = poll(5000);
    assertThat(t.defaultQuietPeriod()).isEqualTo(Duration.ofSeconds(10));
    assertThat(t.kubeletViewMaxAge()).isEqualTo(Duration.ofSeconds(10));
    assertThat(t.runtimeViewMaxAge()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void aPollIntervalThatIsNotPositiveIsRefused() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new PollTimings(Duration.ZERO));
    assertThat(e).hasMessageContaining("pollInterval");
  }
}
