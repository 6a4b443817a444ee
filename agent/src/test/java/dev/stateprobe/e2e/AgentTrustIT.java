package dev.stateprobe.e2e;

import static dev.stateprobe.e2e.RunningAgent.confirmed;
import static dev.stateprobe.e2e.RunningAgent.suspected;
import static dev.stateprobe.e2e.SimulatedNode.NODE;
import static dev.stateprobe.e2e.SimulatedNode.ROTATED_TOKEN;
import static dev.stateprobe.e2e.SimulatedNode.TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.drift.TrustGate;
import dev.stateprobe.sim.FakeKubelet.RecordedRequest;
import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.testing.SimClusterExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Views that may be stale draw no verdict: a re-listing informer, a kubelet that refuses the token,
 * a kubelet that answers garbage. Every test watches every cycle.
 */
class AgentTrustIT {
  @TempDir static Path dir;

  @RegisterExtension
  static final SimClusterExtension<SimulatedNode> SIM =
      SimClusterExtension.of(SimulatedNode::start);

  private static SimulatedNode node() {
    return SIM.get();
  }

  private LogCapture logs;
  private RunningAgent agent;

  @BeforeEach
  void seed() {
    node().seed();
    logs = new LogCapture();
  }

  @AfterEach
  void stopAgent() {
    if (agent != null) {
      agent.close();
    }
    logs.close();
    node().reset();
  }

  private void startAgreeing(Map<String, String> overrides) {
    agent = RunningAgent.start(node(), overrides);
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> agent.get("/readyz").statusCode() == 200 && agent.trustedCycles() >= 2);
    assertThat(agent.cycles).allSatisfy(c -> assertThat(c.drifts()).isEmpty());
  }

  private static boolean hasReason(CycleResult c, String reason) {
    return c.trust().reasons().contains(reason);
  }

  @Test
  void aGoneWatchRelistsAndWaitsOutTheQuietPeriodWithoutEverSuspectingAnything() {
    startAgreeing(Map.of());
    String uid = node().kubeletUid("scraper", "e2e-statefulset-0");

    // The watch breaks and cannot come back. Meanwhile a pod is deleted and the kubelet hears
    // of it: a blind informer still has it, which a trusted cycle would call unknown to the
    // kubelet.
    node().api.refuseWatches();
    await().until(() -> hasReason(agent.last(), TrustGate.INFORMER_RELISTING));
    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();
    node().kubelet.removePod(uid);
    long changed = agent.lastCycleId();
    await()
        .until(
            () ->
                agent.since(changed).stream()
                        .filter(
                            c -> c.snapshot().kubelet().orElseThrow().podsByUid().get(uid) == null)
                        .count()
                    >= 2);
    assertThat(agent.since(changed))
        .allSatisfy(
            c -> {
              assertThat(c.trusted()).isFalse();
              assertThat(c.snapshot().controlPlane().podsByUid()).containsKey(uid);
            });

    // Its next watch is answered 410 Gone: a re-list, then the quiet period.
    node().api.failNextPodWatch();
    node().api.acceptWatches();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                agent.last().trusted()
                    && agent.last().snapshot().controlPlane().relists() == 1
                    && agent.trustedCycles() > 0);
    CycleResult firstTrusted =
        agent.since(changed).stream().filter(CycleResult::trusted).findFirst().orElseThrow();
    var relistedAt = firstTrusted.snapshot().controlPlane().lastRelistAt();
    assertThat(firstTrusted.snapshot().now()).isAfterOrEqualTo(relistedAt.plusSeconds(1));
    // The quiet period starts when the 410-answered watch opens: that moment looks settled (a
    // watch is open, no re-list has begun) while the view still holds the deleted pod.
    assertThat(agent.since(changed))
        .filteredOn(c -> hasReason(c, TrustGate.QUIET_PERIOD))
        .isNotEmpty();
    assertThat(agent.since(changed))
        .filteredOn(c -> c.snapshot().controlPlane().podsByUid().containsKey(uid))
        .allSatisfy(c -> assertThat(c.trusted()).isFalse());
    assertThat(agent.cycles)
        .allSatisfy(
            c -> {
              assertThat(c.drifts()).isEmpty();
              assertThat(c.transitions()).isEmpty();
            });

    assertThat(agent.counter("stateprobe.informer.relists")).isEqualTo(1);
    assertThat(agent.counter("stateprobe.untrusted.cycles", "reason", TrustGate.INFORMER_RELISTING))
        .isPositive();
    assertThat(agent.counter("stateprobe.untrusted.cycles", "reason", TrustGate.QUIET_PERIOD))
        .isPositive();
    JsonNode api = agent.json("/v1/views").path("views").path("api");
    assertThat(api.path("relists").asLong()).isEqualTo(1);
    assertThat(api.path("pods").asInt()).isEqualTo(SimulatedNode.PODS_ON_NODE - 1);
    assertThat(logs.events("watch_restarted")).isNotEmpty();
    List<String> relist = logs.events("relist", "relists=1 ");
    assertThat(relist).hasSize(1);
    long relistCycle = LogCapture.cycleOf(relist.getFirst());
    assertThat(
            agent.cycles.stream()
                .filter(c -> c.cycle() == relistCycle)
                .findFirst()
                .orElseThrow()
                .snapshot()
                .controlPlane()
                .relists())
        .isEqualTo(1);
    assertThat(logs.events("drift_suspected")).isEmpty();
  }

  @Test
  void aKubeletThatRefusesTheTokenRecoversOnceTheRotatedTokenIsInTheFile() {
    startAgreeing(Map.of());
    long before = agent.lastCycleId();

    node().kubelet.acceptToken(ROTATED_TOKEN);

    await()
        .until(
            () ->
                agent.since(before).stream()
                        .filter(c -> c.kubeletError().orElse("").startsWith("http_401:"))
                        .count()
                    >= 3);
    assertThat(agent.last().trusted()).isFalse();
    assertThat(
            agent.counter(
                "stateprobe.kubelet.poll.failures", "endpoint", "pods", "reason", "http_401"))
        .isGreaterThanOrEqualTo(3);
    var readyz = agent.get("/readyz");
    assertThat(readyz.statusCode()).isEqualTo(200); // it has polled once; cycles are untrusted
    JsonNode ready = RunningAgent.JSON.readTree(readyz.body());
    assertThat(ready.path("kubeletPollOk").asBoolean()).isFalse();
    assertThat(ready.path("trusted").asBoolean()).isFalse();
    assertThat(ready.path("untrustedReasons").toString()).contains(TrustGate.KUBELET_POLL_FAILED);
    assertThat(ready.path("kubeletError").asString()).contains("HTTP 401").doesNotContain(TOKEN);

    long rotated = agent.lastCycleId();
    node().writeToken(ROTATED_TOKEN);

    await().until(() -> agent.since(rotated).stream().anyMatch(CycleResult::trusted));
    await().until(() -> agent.last().trusted());
    assertThat(agent.cycles).allSatisfy(c -> assertThat(c.drifts()).isEmpty());
    List<RecordedRequest> pods = node().kubelet.requests("/pods");
    assertThat(pods.getLast().authorized()).isTrue();
    assertThat(pods).anyMatch(r -> r.bearerPresent() && !r.authorized());

    List<String> lost = logs.events("trust_lost", "reasons=kubelet_poll_failed");
    List<String> regained = logs.events("trust_regained");
    assertThat(lost).hasSize(1);
    assertThat(LogCapture.cycleOf(regained.getLast()))
        .isGreaterThan(LogCapture.cycleOf(lost.getFirst()));
    assertThat(logs.text()).doesNotContain(TOKEN).doesNotContain(ROTATED_TOKEN);
  }

  @Test
  void aKubeletAnswering500GarbageOrTooMuchNeitherConfirmsNorClearsAnything() {
    startAgreeing(Map.of("WINDOW_UNKNOWN_TO_KUBELET", "1h", "KUBELET_MAX_BODY_BYTES", "262144"));
    // A confirmed drift, and a suspected one that its long window keeps suspected.
    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();
    node().createCopy("scraper", "e2e-statefulset-1", "e2e-never-started", NODE);
    await()
        .until(
            () ->
                agent.lastShows(
                    List.of(
                        confirmed(DriftKind.ORPHANED_POD, "e2e-statefulset-0"),
                        suspected(DriftKind.UNKNOWN_TO_KUBELET, "e2e-never-started"))));

    breakKubeletAndCheckNothingMoved(KubeletFault.status(500), "http_5xx");
    breakKubeletAndCheckNothingMoved(KubeletFault.garbage(), "decode");
    breakKubeletAndCheckNothingMoved(KubeletFault.oversize(400_000, false), "too_large");

    // Healed: both drifts carry on where they were.
    assertThat(
            agent.lastShows(
                List.of(
                    confirmed(DriftKind.ORPHANED_POD, "e2e-statefulset-0"),
                    suspected(DriftKind.UNKNOWN_TO_KUBELET, "e2e-never-started"))))
        .isTrue();
    assertThat(
            agent.counter("stateprobe.untrusted.cycles", "reason", TrustGate.KUBELET_POLL_FAILED))
        .isGreaterThanOrEqualTo(9);
    assertThat(agent.counter("stateprobe.drifts.cleared", "kind", "OrphanedPod")).isZero();
    assertThat(agent.counter("stateprobe.drifts.detected", "kind", "OrphanedPod")).isEqualTo(1);
    assertThat(agent.counter("stateprobe.drifts.detected", "kind", "UnknownToKubelet")).isZero();
  }

  @Test
  void aListWithADuplicateUidADuplicateKeyOrAnInvalidIdentityIsMalformedAndConfirmsNothing() {
    startAgreeing(Map.of("WINDOW_UNKNOWN_TO_KUBELET", "1h"));
    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();
    node().createCopy("scraper", "e2e-statefulset-1", "e2e-never-started", NODE);
    await()
        .until(
            () ->
                agent.lastShows(
                    List.of(
                        confirmed(DriftKind.ORPHANED_POD, "e2e-statefulset-0"),
                        suspected(DriftKind.UNKNOWN_TO_KUBELET, "e2e-never-started"))));
    byte[] served = node().kubelet.podsBody();

    // The same UID twice: "later wins" confirmed false drifts.
    breakKubeletAndCheckNothingMoved(
        KubeletFault.body(withItem(served, 0, m -> {}, true)), "decode");
    // Two uid keys in one object: each reader of the object could see another pod.
    String text = new String(served, StandardCharsets.UTF_8);
    int at = text.indexOf("\"uid\":\"");
    String twoUids =
        text.substring(0, at)
            + "\"uid\":\"0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11\","
            + text.substring(at);
    breakKubeletAndCheckNothingMoved(
        KubeletFault.body(twoUids.getBytes(StandardCharsets.UTF_8)), "decode");
    // A name that would forge a log line, and a UID that would climb out of a URL path.
    String forged = "web-0\r\n2026-01-01T00:00:00.000Z INFO event=drift_confirmed kind=OrphanedPod";
    breakKubeletAndCheckNothingMoved(
        KubeletFault.body(withItem(served, 0, m -> m.put("name", forged), false)), "decode");
    breakKubeletAndCheckNothingMoved(
        KubeletFault.body(withItem(served, 1, m -> m.put("uid", "../../../nodes/x"), false)),
        "decode");

    assertThat(
            agent.counter("stateprobe.kubelet.invalid.pods", "endpoint", "pods", "field", "name"))
        .isGreaterThanOrEqualTo(3);
    assertThat(agent.counter("stateprobe.kubelet.invalid.pods", "endpoint", "pods", "field", "uid"))
        .isGreaterThanOrEqualTo(3);
    assertThat(agent.counter("stateprobe.drifts.detected", "kind", "OrphanedPod")).isEqualTo(1);
    assertThat(agent.counter("stateprobe.drifts.detected", "kind", "UnknownToKubelet")).isZero();
    assertThat(logs.text()).doesNotContain("\r").doesNotContain("web-0\n");
    assertThat(logs.text().lines()).noneMatch(l -> l.startsWith("2026-01-01T00:00:00.000Z"));
  }

  /** {@code list} with item {@code index}'s metadata edited, or a copy of it added (same UID). */
  private static byte[] withItem(
      byte[] list, int index, java.util.function.Consumer<ObjectNode> edit, boolean duplicate) {
    ObjectNode root = (ObjectNode) RunningAgent.JSON.readTree(list);
    ArrayNode items = (ArrayNode) root.path("items");
    ObjectNode item = (ObjectNode) items.get(index);
    if (duplicate) {
      item = item.deepCopy();
      ((ObjectNode) item.path("metadata")).put("name", "a-second-pod-with-this-uid");
      items.add(item);
    }
    edit.accept((ObjectNode) item.path("metadata"));
    return RunningAgent.JSON.writeValueAsBytes(root);
  }

  private void breakKubeletAndCheckNothingMoved(KubeletFault fault, String reason) {
    double failures =
        agent.counter("stateprobe.kubelet.poll.failures", "endpoint", "pods", "reason", reason);
    long mark = agent.lastCycleId();

    node().kubelet.inject("/pods", fault, 1000);
    await().until(() -> agent.since(mark).stream().filter(c -> !c.trusted()).count() >= 3);
    assertThat(agent.json("/v1/drifts").path("trusted").asBoolean()).isFalse();
    node().kubelet.clearFaults();
    await()
        .until(
            () -> {
              List<CycleResult> after = agent.since(mark);
              return !after.getLast().trusted()
                  ? false
                  : after.stream().anyMatch(c -> !c.trusted());
            });

    List<CycleResult> all = agent.cycles;
    int firstBad = -1;
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).cycle() > mark && !all.get(i).trusted()) {
        firstBad = i;
        break;
      }
    }
    List<TrackedDrift> held = all.get(firstBad - 1).drifts();
    assertThat(held).hasSize(2);
    int bad = 0;
    for (int i = firstBad; i < all.size() && !all.get(i).trusted(); i++) {
      CycleResult c = all.get(i);
      assertThat(c.drifts()).as("cycle %d", c.cycle()).isEqualTo(held);
      assertThat(c.transitions()).as("cycle %d", c.cycle()).isEmpty();
      assertThat(c.kubeletError()).hasValueSatisfying(e -> assertThat(e).startsWith(reason + ":"));
      bad++;
    }
    assertThat(bad).isGreaterThanOrEqualTo(3);
    assertThat(
            agent.counter("stateprobe.kubelet.poll.failures", "endpoint", "pods", "reason", reason))
        .isGreaterThanOrEqualTo(failures + 3);
  }
}
