package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.testing.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class RuntimeAvailabilityTest {
  private final TestClock clock = new TestClock(Instant.parse("2026-11-26T10:00:00Z"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final Metrics metrics = new Metrics(registry, "test", () -> clock.millis());
  private final RuntimeAvailability runtime =
      new RuntimeAvailability(clock, Duration.ofMinutes(5), metrics, "test kubelet");

  @AfterEach
  void close() {
    metrics.close();
  }

  private double gauge() {
    return registry.get("stateprobe.runtime.view.available").gauge().value();
  }

  @Test
  void availableSourcesAreAskedEveryTime() {
    assertThat(runtime.tryAsk()).isTrue();
    assertThat(runtime.tryAsk()).isTrue();
    assertThat(runtime.available()).isTrue();
  }

  @Test
  void aRefusalIsNotAskedAgainBeforeTheInterval() {
    runtime.refused(404);

    assertThat(runtime.available()).isFalse();
    assertThat(gauge()).isEqualTo(0.0);
    assertThat(runtime.tryAsk()).isFalse();
    clock.advance(Duration.ofMinutes(5).minusMillis(1));
    assertThat(runtime.tryAsk()).isFalse();
  }

  @Test
  void afterTheIntervalExactlyOneProbeGoesOut() {
    runtime.refused(403);
    clock.advance(Duration.ofMinutes(5));

    assertThat(runtime.tryAsk()).isTrue();
    assertThat(runtime.tryAsk()).isFalse(); // the first caller owns the probe
    assertThat(runtime.available()).isFalse();
  }

  @Test
  void aServedProbeMakesItAvailableAgain() {
    runtime.refused(404);
    clock.advance(Duration.ofMinutes(5));
    runtime.tryAsk();

    runtime.served();

    assertThat(runtime.available()).isTrue();
    assertThat(gauge()).isEqualTo(1.0);
    assertThat(runtime.tryAsk()).isTrue();
  }

  @Test
  void aSecondRefusalStartsANewInterval() {
    runtime.refused(404);
    clock.advance(Duration.ofMinutes(5));
    assertThat(runtime.tryAsk()).isTrue();
    runtime.refused(404);

    clock.advance(Duration.ofMinutes(4));
    assertThat(runtime.tryAsk()).isFalse();
    clock.advance(Duration.ofMinutes(1));
    assertThat(runtime.tryAsk()).isTrue();
  }
}
