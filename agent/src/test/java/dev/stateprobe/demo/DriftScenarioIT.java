package dev.stateprobe.demo;

import static dev.stateprobe.demo.Suite.kinds;
import static dev.stateprobe.demo.Suite.passed;
import static dev.stateprobe.demo.Suite.repairedOnceBy;
import static dev.stateprobe.demo.Suite.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.testing.SimClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The demo's drift scenarios, end to end on one simulated node: each drift kind is confirmed,
 * repaired by the script the catalog names, and verified; nothing else is confirmed or repaired.
 */
class DriftScenarioIT {
  @RegisterExtension static final SimClusterExtension<DemoNode> SIM = Suite.demoNode();

  private static DemoNode node() {
    return SIM.get();
  }

  private static TimelineRunner runner() {
    return Suite.runner(SIM.get());
  }

  @Test
  void aDeleteThatNeverReachesTheKubeletIsAnOrphanWhoseSandboxIsStopped() {
    ScenarioResult r = run(runner(), "delete-lost");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.ORPHANED_POD);
    repairedOnceBy(r, "stop-sandbox");
  }

  @Test
  void aPodTheKubeletNeverReceivesIsUnknownToItUntilItRestarts() {
    ScenarioResult r = run(runner(), "pod-never-received");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.UNKNOWN_TO_KUBELET);
    repairedOnceBy(r, "restart-kubelet");
  }

  @Test
  void aMissedLabelChangeIsAStaleKubeletViewUntilItRestarts() {
    ScenarioResult r = run(runner(), "label-change-missed");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.STALE_KUBELET_VIEW);
    repairedOnceBy(r, "restart-kubelet");
  }

  @Test
  void aPodRecreatedUnderItsNameIsOneUidMismatchThatNoScriptTouches() {
    ScenarioResult r = run(runner(), "pod-recreated");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.UID_MISMATCH);
    assertThat(r.repairs()).isEmpty();
  }

  @Test
  void aPodStuckTerminatingHasItsSandboxStoppedAndItsDeletionCompleted() {
    ScenarioResult r = run(runner(), "stuck-terminating");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.STUCK_TERMINATING);
    repairedOnceBy(r, "stop-sandbox");
  }

  @Test
  void aDeletedMirrorPodIsPostedAgainAfterAKubeletRestart() {
    ScenarioResult r = run(runner(), "mirror-pod-deleted");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.MISSING_MIRROR_POD);
    repairedOnceBy(r, "restart-kubelet");
  }

  @Test
  void aContainerThatDiedWhileTheApiSaysRunningGetsItsPodRecreated() {
    ScenarioResult r = run(runner(), "container-died");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.CONTAINER_NOT_RUNNING);
    repairedOnceBy(r, "recreate-controlled-pod");
  }

  @Test
  void aTerminalPodWhoseContainerStillRunsHasItsSandboxStopped() {
    ScenarioResult r = run(runner(), "terminal-but-running");
    passed(r);
    assertThat(kinds(r.confirmed())).containsExactly(DriftKind.TERMINAL_BUT_RUNNING);
    repairedOnceBy(r, "stop-sandbox");
  }
}
