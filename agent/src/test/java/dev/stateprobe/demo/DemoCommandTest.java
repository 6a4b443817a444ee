package dev.stateprobe.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The demo's flags and its time scale; running it is {@link DemoCommandIT}'s. */
class DemoCommandTest {

  @Test
  void defaultsRunEveryScenarioAtSpeedOneAsATable() {
    DemoCommand.Options o = DemoCommand.parse(List.of());

    assertThat(o).isEqualTo(new DemoCommand.Options(false, List.of(), 1.0, false, false, 0, 1));
  }

  @Test
  void scenariosRepeatInTheGivenOrderOnceEach() {
    DemoCommand.Options o =
        DemoCommand.parse(
            List.of(
                "--scenario",
                "kubelet-down",
                "--scenario=delete-lost",
                "--scenario",
                "kubelet-down"));

    assertThat(o.scenarios()).containsExactly("kubelet-down", "delete-lost");
  }

  @Test
  void everyFlagIsRead() {
    DemoCommand.Options o =
        DemoCommand.parse(
            List.of(
                "--speed",
                "2.5",
                "--keep-running",
                "--output=json",
                "--http-port",
                "9809",
                "--list"));

    assertThat(o).isEqualTo(new DemoCommand.Options(true, List.of(), 2.5, true, true, 9809, 1));
  }

  @Test
  void badFlagsAreRefusedByName() {
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--scenario", "no-such")))
        .hasMessageContaining("unknown scenario 'no-such'")
        .hasMessageContaining("delete-lost");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--speed", "fast")))
        .hasMessage("--speed: 'fast' is not a number");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--speed", "20")))
        .hasMessage("--speed must be between 0.1 and 10.0, got 20");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--output", "yaml")))
        .hasMessage("--output must be table or json, got 'yaml'");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--http-port", "70000")))
        .hasMessage("--http-port must be a port from 0 to 65535, got '70000'");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--scenario")))
        .hasMessage("--scenario needs a value");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--fast")))
        .hasMessage("unknown flag '--fast'");
  }

  @Test
  void listNamesEveryScenarioOfTheTimelineInOrderAndExitsZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        new DemoCommand(Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), System.err)
            .run(List.of("--list"));

    assertThat(code).isZero();
    List<String> names =
        out.toString(StandardCharsets.UTF_8)
            .lines()
            .filter(l -> !l.startsWith(" "))
            .map(l -> l.split(" ")[0])
            .toList();
    assertThat(names)
        .containsExactlyElementsOf(
            java.util.stream.Stream.concat(
                    TimelineScenarios.names().stream(), FleetScenarios.names().stream())
                .toList());
    assertThat(names.subList(0, TimelineScenarios.names().size()))
        .containsExactly(
            "delete-lost",
            "pod-never-received",
            "label-change-missed",
            "pod-recreated",
            "stuck-terminating",
            "mirror-pod-deleted",
            "container-died",
            "terminal-but-running",
            "watch-410-relist",
            "kubelet-down",
            "half-pods-vanish");
  }

  @Test
  void nodesMakesAFleetOfTheFleetScenariosAndAFleetScenarioAloneMeansTwentyNodes() {
    assertThat(DemoCommand.parse(List.of("--nodes", "20")))
        .isEqualTo(new DemoCommand.Options(false, List.of(), 1.0, false, false, 0, 20));
    DemoCommand.Options alone = DemoCommand.parse(List.of("--scenario", "fleet-storm"));
    assertThat(alone.nodes()).isEqualTo(20);
    assertThat(alone.fleet()).isTrue();
    assertThat(DemoCommand.parse(List.of()).fleet()).isFalse();

    assertThatThrownBy(() -> DemoCommand.parse(List.of("--nodes", "1")))
        .hasMessage("--nodes must be a whole number from 2 to 200, got '1'");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--nodes", "many")))
        .hasMessage("--nodes must be a whole number from 2 to 200, got 'many'");
    assertThatThrownBy(
            () -> DemoCommand.parse(List.of("--nodes", "5", "--scenario", "delete-lost")))
        .hasMessageStartingWith("--nodes: only the fleet-* scenarios run on a fleet")
        .hasMessageContaining("fleet-budget");
    assertThatThrownBy(
            () ->
                DemoCommand.parse(
                    List.of("--scenario", "fleet-budget", "--scenario", "delete-lost")))
        .hasMessageContaining("run them apart");
    assertThatThrownBy(() -> DemoCommand.parse(List.of("--nodes", "5", "--keep-running")))
        .hasMessage("--keep-running and --http-port are for the one-node demo, not with --nodes");
  }

  @Test
  void aBadFlagExitsTwoWithTheUsage() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        new DemoCommand(Map.of(), System.out, new PrintStream(err, true, StandardCharsets.UTF_8))
            .run(List.of("--speed", "0"));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("state-probe demo: --speed must be between 0.1 and 10.0, got 0")
        .contains("Usage: java -jar state-probe-demo.jar");
  }

  @Test
  void speedScalesIntervalsAndWindowsButNeverPollsFasterThanTheAgentAllows() {
    Timing one = Timing.of(1);
    assertThat(one.poll()).isEqualTo(Duration.ofMillis(250));
    assertThat(one.window()).isEqualTo(Duration.ofSeconds(2));
    assertThat(one.circuitRecovery()).isEqualTo(Duration.ofSeconds(3));
    assertThat(one.cyclesPastWindow()).isEqualTo(12);

    Timing twice = Timing.of(2);
    assertThat(twice.poll()).isEqualTo(Duration.ofMillis(125));
    assertThat(twice.window()).isEqualTo(Duration.ofSeconds(1));

    Timing half = Timing.of(0.5);
    assertThat(half.poll()).isEqualTo(Duration.ofMillis(500));
    assertThat(half.window()).isEqualTo(Duration.ofSeconds(4));

    assertThat(Timing.of(10).poll()).isEqualTo(Duration.ofMillis(100));
    assertThatThrownBy(() -> Timing.of(0.05)).hasMessageContaining("--speed must be between");
  }
}
