package dev.stateprobe.demo;

import static dev.stateprobe.demo.Suite.passed;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.testing.SimClusterExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Faults of the repairs on one simulated node: the agent dies mid-repair, scripts hang or flood,
 * the catalog breaks. Each drift is still repaired exactly once per expected attempt, and every
 * record is in the API server exactly once.
 */
class RepairFaultIT {
  @RegisterExtension static final SimClusterExtension<DemoNode> SIM = Suite.demoNode();

  private static DemoNode node() {
    return SIM.get();
  }

  private static TimelineRunner runner() {
    return Suite.runner(SIM.get());
  }

  @Test
  void anAgentKilledMidRepairResumesOnTheSameRecordWithTheNextAttempt() {
    ScenarioResult r = runner().run(new FaultScenarios.AgentKilledMidRepair());
    passed(r);
    assertThat(Suite.kinds(r.confirmed())).containsExactly(DriftKind.ORPHANED_POD);
    assertThat(r.repairs())
        .singleElement()
        .satisfies(
            rep -> {
              assertThat(rep.script()).isEqualTo("slow-stop-sandbox");
              assertThat(rep.phase()).isEqualTo(Phase.SUCCEEDED);
              assertThat(rep.attempts()).isEqualTo(2);
              assertThat(rep.verification()).isEqualTo(Verification.RESOLVED);
            });
  }

  @Test
  void aHangingScriptIsKilledAndTheCatalogEscalates() {
    ScenarioResult r = runner().run(new FaultScenarios.ScriptHangs());
    passed(r);
    assertThat(r.repairs())
        .extracting(
            ScenarioResult.Repair::script,
            ScenarioResult.Repair::phase,
            ScenarioResult.Repair::attempts)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("hang-forever", Phase.TIMED_OUT, 1),
            org.assertj.core.groups.Tuple.tuple("stop-sandbox", Phase.SUCCEEDED, 1));
  }

  @Test
  void aFloodingScriptKeepsOnlyTheTailOfItsOutput() {
    ScenarioResult r = runner().run(new FaultScenarios.ScriptFloods());
    passed(r);
    assertThat(r.repairs())
        .singleElement()
        .satisfies(
            rep -> {
              assertThat(rep.phase()).isEqualTo(Phase.SUCCEEDED);
              assertThat(rep.verification()).isEqualTo(Verification.RESOLVED);
            });
  }

  @Test
  void anInvalidCatalogIsRefusedAndTheNextValidOneTakesOver() {
    ScenarioResult r = runner().run(new FaultScenarios.CatalogBrokenThenFixed());
    passed(r);
    assertThat(r.repairs())
        .extracting(ScenarioResult.Repair::script)
        .containsExactly("stop-sandbox", "stop-sandbox-v2");
    assertThat(r.repairs())
        .allSatisfy(rep -> assertThat(rep.verification()).isEqualTo(Verification.RESOLVED));
    assertThat(List.copyOf(r.confirmed())).hasSize(2);
  }
}
