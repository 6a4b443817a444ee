package dev.stateprobe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FleetBrakeConfigTest {
  private static AgentConfig load(Map<String, String> extra, String... args)
      throws ConfigException {
    Map<String, String> env =
        new java.util.HashMap<>(Map.of("NODE_NAME", "n1", "NODE_IP", "10.0.0.7"));
    env.putAll(extra);
    return ConfigLoader.load(env, List.of(args));
  }

  @Test
  void anAgentAloneDoesNotObeyABrakeByDefault() throws Exception {
    AgentConfig c = load(Map.of());
    assertThat(c.fleetBrake().obeyed()).isFalse();
    assertThat(c.fleetBrake().maxAge()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.fleetBrake().namespace()).isEqualTo("state-probe");
  }

  @Test
  void onAndAMaxAgeFromTheEnvironmentOrFlags() throws Exception {
    AgentConfig c =
        load(
            Map.of(
                "FLEET_BRAKE", "on", "FLEET_BRAKE_MAX_AGE", "90s", "FLEET_BRAKE_NAMESPACE", "ops"));
    assertThat(c.fleetBrake())
        .isEqualTo(new AgentConfig.FleetBrake(true, Duration.ofSeconds(90), "ops"));
    AgentConfig f = load(Map.of(), "--fleet-brake=on", "--fleet-brake-max-age", "2m");
    assertThat(f.fleetBrake())
        .isEqualTo(new AgentConfig.FleetBrake(true, Duration.ofMinutes(2), "state-probe"));
  }

  @Test
  void badValuesAreNamed() {
    assertThatThrownBy(
            () ->
                load(
                    Map.of(
                        "FLEET_BRAKE", "yes",
                        "FLEET_BRAKE_MAX_AGE", "0s",
                        "FLEET_BRAKE_NAMESPACE", "Not_A_Namespace")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("FLEET_BRAKE_NAMESPACE 'Not_A_Namespace'")
        .hasMessageContaining("FLEET_BRAKE must be one of on, off, got 'yes'")
        .hasMessageContaining("FLEET_BRAKE_MAX_AGE");
  }
}
