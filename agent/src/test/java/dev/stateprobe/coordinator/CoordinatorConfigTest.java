package dev.stateprobe.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.config.ConfigException;
import dev.stateprobe.fleet.StormSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CoordinatorConfigTest {
  @Test
  void defaults() throws Exception {
    CoordinatorConfig c = CoordinatorConfig.load(Map.of("POD_NAME", "c-0"), List.of());
    assertThat(c.identity()).isEqualTo("c-0");
    assertThat(c.namespace()).isEqualTo("state-probe");
    assertThat(c.storm()).isEqualTo(StormSettings.DEFAULTS);
    assertThat(c.heartbeat()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.nodeCountEvery()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.renewDeadline()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.retryPeriod()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.httpPort()).isEqualTo(9809);
  }

  @Test
  void flagsWinOverVariables() throws Exception {
    CoordinatorConfig c =
        CoordinatorConfig.load(
            Map.of("POD_NAME", "c-0", "FLEET_STORM_PERCENT", "20"),
            List.of("--fleet-storm-percent=5", "--fleet-storm-window", "10m"));
    assertThat(c.storm().percent()).isEqualTo(5);
    assertThat(c.storm().window()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void everyProblemAtOnceByName() {
    assertThatThrownBy(
            () ->
                CoordinatorConfig.load(
                    Map.of(
                        "FLEET_STORM_PERCENT", "200",
                        "FLEET_STORM_WINDOW", "soon",
                        "LEADER_LEASE_DURATION", "5s",
                        "LEADER_RENEW_DEADLINE", "5s"),
                    List.of("--bogus=1")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("POD_NAME is required")
        .hasMessageContaining("FLEET_STORM_PERCENT must be 0..100, got '200'")
        .hasMessageContaining("FLEET_STORM_WINDOW")
        .hasMessageContaining("LEADER_RENEW_DEADLINE must be shorter")
        .hasMessageContaining("unknown flag --bogus");
  }
}
