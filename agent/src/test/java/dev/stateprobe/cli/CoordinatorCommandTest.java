package dev.stateprobe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class CoordinatorCommandTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) {
    return new CoordinatorCommand(
            env,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(List.of(args), CompletableFuture.completedFuture(null));
  }

  @Test
  void helpNamesEveryVariable() {
    assertThat(run(Map.of(), "--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("FLEET_STORM_PERCENT")
        .contains("FLEET_BRAKE_HEARTBEAT")
        .contains("POD_NAME");
  }

  @Test
  void anInvalidConfigurationExitsTwoAndSaysWhy() {
    assertThat(run(Map.of("FLEET_STORM_PERCENT", "x"))).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("POD_NAME is required")
        .contains("FLEET_STORM_PERCENT must be a whole number, got 'x'");
  }
}
