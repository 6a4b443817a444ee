package dev.stateprobe.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.testing.SimClusterExtension;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the scenario tests share: one way to build a simulated node, the runner the demo uses, and
 * the assertions every scenario must pass (exactly the expected drifts, exactly the expected
 * repairs, every record in the API server once).
 */
final class Suite {
  /**
   * The suite runs faster than the demo: windows of 1 s. {@code -Dstateprobe.it.speed=1} runs it at
   * the demo's pace (a loaded machine that misses polls).
   */
  static final double SPEED = Double.parseDouble(System.getProperty("stateprobe.it.speed", "2"));

  private Suite() {}

  /** One demo node shared by the tests of a class. */
  static SimClusterExtension<DemoNode> demoNode() {
    return SimClusterExtension.of(() -> DemoNode.start(settings()));
  }

  static DemoNode.Settings settings() {
    return settings(Map.of());
  }

  static DemoNode.Settings settings(Map<String, String> agentEnv) {
    return new DemoNode.Settings(
        Timing.of(SPEED), 0, Duration.ofSeconds(1), Duration.ofMillis(200), agentEnv);
  }

  static TimelineRunner runner(DemoNode node) {
    return new TimelineRunner(node, System.out, Clock.systemUTC());
  }

  /** The scenario passed the runner's judgement; its problems are the failure message. */
  static void passed(ScenarioResult r) {
    assertThat(r.problems()).as("problems of %s", r.name()).isEmpty();
    assertThat(r.confirmed())
        .as("confirmed drifts of %s", r.name())
        .containsExactlyElementsOf(r.expected());
  }

  static List<DriftKind> kinds(List<DriftKey> keys) {
    return keys.stream().map(DriftKey::kind).toList();
  }

  /** Exactly one record: {@code script}, Succeeded after one attempt with exit 0, Resolved. */
  static void repairedOnceBy(ScenarioResult r, String script) {
    assertThat(r.repairs()).as("records of %s", r.name()).hasSize(1);
    ScenarioResult.Repair rep = r.repairs().getFirst();
    assertThat(rep.script()).isEqualTo(script);
    assertThat(rep.phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(rep.attempts()).isEqualTo(1);
    assertThat(rep.exitCode()).isZero();
    assertThat(rep.verification()).isEqualTo(Verification.RESOLVED);
    assertThat(rep.drift()).isEqualTo(r.expected().getFirst());
  }

  static ScenarioResult run(TimelineRunner runner, String name) {
    return runner.run(TimelineScenarios.byName(name).orElseThrow());
  }
}
