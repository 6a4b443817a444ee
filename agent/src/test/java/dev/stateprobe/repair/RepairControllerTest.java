package dev.stateprobe.repair;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RepairControllerTest {

  @ParameterizedTest(name = "poll {0} → read back every {1} ms")
  @CsvSource({
    "200, 1200", // the integration tests: six polls
    "5000, 30000", // the default poll: six polls are exactly the cap
    "10000, 30000", // capped at 30 s
    "60000, 60000", // never more often than the agent polls
  })
  void approvalsAndALiftedPauseAreReadBackEverySixPollsAtMostThirtySeconds(
      long pollMillis, long expectedMillis) {
    assertThat(RepairController.refreshEvery(Duration.ofMillis(pollMillis)))
        .isEqualTo(Duration.ofMillis(expectedMillis));
  }
}
