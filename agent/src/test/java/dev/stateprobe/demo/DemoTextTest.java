package dev.stateprobe.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.view.PodRef;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The summary as people and tools read it. */
class DemoTextTest {
  private static final DriftKey ORPHAN =
      new DriftKey(
          DriftKind.ORPHANED_POD,
          new PodRef("shop", "cart-1", "00000000-0000-0000-0000-000000000001"));
  private static final ScenarioResult REPAIRED =
      new ScenarioResult(
          "delete-lost",
          "a delete that never reaches the kubelet",
          "OrphanedPod confirmed; stop-sandbox",
          Duration.ofMillis(4200),
          List.of(ORPHAN),
          List.of(ORPHAN),
          List.of(
              new ScenarioResult.Repair(
                  "rec-1", "stop-sandbox", ORPHAN, Phase.SUCCEEDED, 1, 0, Verification.RESOLVED)),
          List.of(),
          List.of());
  private static final ScenarioResult FAILED =
      new ScenarioResult(
          "kubelet-down",
          "the kubelet down for a while",
          "no drift",
          Duration.ofMillis(7750),
          List.of(),
          List.of(ORPHAN),
          List.of(),
          List.of("re-listed 1×"),
          List.of("confirmed a drift no one expected: OrphanedPod shop/cart-1"));

  @Test
  void theTableHasARowPerScenarioAndTheVerdictWithEveryProblem() {
    String table = DemoText.table(List.of(REPAIRED, FAILED), Duration.ofSeconds(12));

    assertThat(table.lines().toList())
        .containsExactly(
            "#  scenario      confirmed                   repair                             result"
                + "  time",
            "1  delete-lost   OrphanedPod                 stop-sandbox: Succeeded, Resolved  PASS  "
                + "  4.2s",
            "2  kubelet-down  OrphanedPod (re-listed 1×)  none                               FAIL  "
                + "  7.8s",
            "",
            "1 of 2 scenarios behaved as expected in 12.0s.",
            "  kubelet-down: confirmed a drift no one expected: OrphanedPod shop/cart-1");
  }

  @Test
  void repeatedKindsAreCountedAndAttemptsShown() {
    DriftKey other = new DriftKey(DriftKind.ORPHANED_POD, new PodRef("shop", "cart-2", "u2"));
    ScenarioResult r =
        new ScenarioResult(
            "x",
            "t",
            "e",
            Duration.ZERO,
            List.of(ORPHAN, other),
            List.of(ORPHAN, other),
            List.of(
                new ScenarioResult.Repair(
                    "rec", "slow", ORPHAN, Phase.SUCCEEDED, 2, 0, Verification.RESOLVED)),
            List.of(),
            List.of());

    assertThat(DemoText.confirmed(r)).isEqualTo("2× OrphanedPod");
    assertThat(DemoText.repairs(r)).isEqualTo("slow ×2: Succeeded, Resolved");
  }

  @Test
  void theJsonSummaryCarriesDriftsRepairsAndProblems() {
    JsonNode json =
        JsonMapper.builder()
            .build()
            .readTree(DemoText.json(List.of(REPAIRED, FAILED), Duration.ofSeconds(12), "node-a"));

    assertThat(json.path("node").asString()).isEqualTo("node-a");
    assertThat(json.path("passed").asBoolean()).isFalse();
    assertThat(json.path("seconds").asDouble()).isEqualTo(12.0);
    JsonNode first = json.path("scenarios").get(0);
    assertThat(first.path("passed").asBoolean()).isTrue();
    assertThat(first.path("expectedDrifts").get(0).path("uid").asString())
        .isEqualTo(ORPHAN.target().uid());
    JsonNode repair = first.path("repairs").get(0);
    assertThat(repair.path("script").asString()).isEqualTo("stop-sandbox");
    assertThat(repair.path("kind").asString()).isEqualTo("OrphanedPod");
    assertThat(repair.path("phase").asString()).isEqualTo("Succeeded");
    assertThat(repair.path("attempts").asInt()).isEqualTo(1);
    assertThat(repair.path("exitCode").asInt()).isZero();
    assertThat(repair.path("verification").asString()).isEqualTo("Resolved");
    JsonNode second = json.path("scenarios").get(1);
    assertThat(second.path("passed").asBoolean()).isFalse();
    assertThat(second.path("facts").get(0).asString()).isEqualTo("re-listed 1×");
    assertThat(second.path("problems").get(0).asString())
        .startsWith("confirmed a drift no one expected");
  }
}
