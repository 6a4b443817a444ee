package dev.stateprobe.demo;

import static dev.stateprobe.demo.Suite.kinds;
import static dev.stateprobe.demo.Suite.passed;
import static dev.stateprobe.demo.Suite.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.testing.SimClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The demo's scenarios where the agent's inputs, not the pods, go wrong: it must draw no verdict
 * from them, and a flood of drifts must stop repairs rather than start them.
 */
class TrustScenarioIT {
  @RegisterExtension static final SimClusterExtension<DemoNode> SIM = Suite.demoNode();

  private static DemoNode node() {
    return SIM.get();
  }

  private static TimelineRunner runner() {
    return Suite.runner(SIM.get());
  }

  @Test
  void aWatchThatExpiresReListsWithoutAFalseDrift() {
    long before = node().observer().relists();
    ScenarioResult r = run(runner(), "watch-410-relist");
    passed(r);
    assertThat(r.confirmed()).isEmpty();
    assertThat(r.repairs()).isEmpty();
    assertThat(node().observer().relists()).isGreaterThan(before);
  }

  @Test
  void aKubeletThatIsDownIsNotEveryPodMissing() {
    ScenarioResult r = run(runner(), "kubelet-down");
    passed(r);
    assertThat(r.confirmed()).isEmpty();
    assertThat(r.repairs()).isEmpty();
  }

  @Test
  void halfThePodsVanishingAtOnceOpensTheBreakerInsteadOfRepairing() {
    ScenarioResult r = run(runner(), "half-pods-vanish");
    passed(r);
    assertThat(r.confirmed()).hasSize(12);
    assertThat(kinds(r.confirmed())).containsOnly(DriftKind.UNKNOWN_TO_KUBELET);
    assertThat(r.repairs()).isEmpty();
    // The agent's own count and threshold (24 pods × 30 % → 8), not the scenario's.
    assertThat(r.facts())
        .containsExactly("breaker: 12 drifts (suspected or confirmed) > threshold 8");
    assertThat(node().observer().lastCircuitOpening().orElseThrow().drifts()).isEqualTo(12);
    assertThat(node().observer().circuitOpen()).isFalse();
  }
}
