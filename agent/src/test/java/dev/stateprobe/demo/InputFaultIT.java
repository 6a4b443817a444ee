package dev.stateprobe.demo;

import static dev.stateprobe.demo.Suite.passed;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.testing.SimClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults of the agent's inputs on one simulated node: whatever the kubelet or the API server do
 * wrong, the agent draws no verdict from it (no drift suspected, none confirmed, no repair), says
 * why in its trust reasons and metrics, and trusts its views again once they recover.
 */
class InputFaultIT {
  @RegisterExtension static final SimClusterExtension<DemoNode> SIM = Suite.demoNode();

  private static DemoNode node() {
    return SIM.get();
  }

  private static TimelineRunner runner() {
    return Suite.runner(SIM.get());
  }

  private static void noVerdict(ScenarioResult r) {
    passed(r);
    assertThat(r.expected()).isEmpty();
    assertThat(r.confirmed()).isEmpty();
    assertThat(r.repairs()).isEmpty();
  }

  @Test
  void aKubeletThatAnswers401IsReadAgainOnceTheRotatedTokenArrives() {
    ScenarioResult r = runner().run(new FaultScenarios.KubeletTokenRotated());
    noVerdict(r);
    assertThat(node().node().kubelet().requests().getLast().authorized()).isTrue();
  }

  @Test
  void aKubeletThatAnswersGarbageIsNotAnEmptyNode() {
    noVerdict(runner().run(new FaultScenarios.KubeletGarbage()));
  }

  @Test
  void aSlowKubeletTimesOutWithoutPilingUpRequests() {
    noVerdict(runner().run(new FaultScenarios.KubeletSlow()));
  }

  @Test
  void anOverSizeReplyIsCutOffAtTheLimit() {
    noVerdict(runner().run(new FaultScenarios.KubeletOversize()));
  }

  @Test
  void anApiServerOutageEndsWithAReListAndNoFalseDrift() {
    noVerdict(runner().run(new FaultScenarios.ApiOutage()));
  }
}
