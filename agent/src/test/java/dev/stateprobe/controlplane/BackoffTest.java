package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void doublesFromTheBaseToTheCapWithJitterBetweenHalfAndAll() {
    Backoff low = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), () -> 0.0);
    Backoff high = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), () -> 0.999999);

    assertThat(low.delay(0)).isEqualTo(Duration.ofMillis(50));
    assertThat(high.delay(0)).isEqualTo(Duration.ofMillis(99));
    assertThat(low.delay(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(low.delay(3)).isEqualTo(Duration.ofMillis(400));
    assertThat(low.delay(4)).isEqualTo(Duration.ofMillis(500));
    assertThat(high.delay(4)).isEqualTo(Duration.ofMillis(999));
    assertThat(low.delay(1_000)).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void neverZeroSoAFailingServerIsNotAskedInATightLoop() {
    Backoff b = new Backoff(Duration.ofMillis(2), Duration.ofMillis(2), () -> 0.0);
    assertThat(b.delay(0)).isPositive();
  }

  @Test
  void refusesANonsensicalRange() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), () -> 0.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0 < base <= cap");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), () -> 0.5))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
