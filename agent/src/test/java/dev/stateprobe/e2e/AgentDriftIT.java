package dev.stateprobe.e2e;

import static dev.stateprobe.e2e.RunningAgent.confirmed;
import static dev.stateprobe.e2e.SimulatedNode.NODE;
import static dev.stateprobe.e2e.SimulatedNode.OTHER_NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.Transition;
import dev.stateprobe.testing.SimClusterExtension;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The whole agent (informer, direct kubelet source, loop, HTTP) on a simulated node that agrees
 * with its API server, then loses one event: each test proves the agreement first, injects one lost
 * event, and expects exactly the drift it makes.
 */
class AgentDriftIT {
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
  void startAgentOnAnAgreeingNode() {
    node().seed();
    logs = new LogCapture();
    agent = RunningAgent.start(node(), Map.of());
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> agent.get("/readyz").statusCode() == 200 && agent.trustedCycles() >= 2);
    assertThat(agent.cycles).allSatisfy(c -> assertThat(c.drifts()).isEmpty());
    JsonNode views = agent.json("/v1/views").path("views");
    // 24 of this node's pods; the other node's 3 are not in the view.
    assertThat(views.path("api").path("pods").asInt()).isEqualTo(SimulatedNode.PODS_ON_NODE);
    assertThat(views.path("kubelet").path("pods").asInt()).isEqualTo(SimulatedNode.PODS_ON_NODE);
    assertThat(node().apiPodCount()).isEqualTo(SimulatedNode.PODS_ON_NODE + 3);
  }

  @AfterEach
  void stopAgent() {
    if (agent != null) {
      agent.close();
    }
    logs.close();
    node().reset();
  }

  @Test
  void aDeleteThatNeverReachesTheKubeletIsAConfirmedOrphanThatClearsWhenTheKubeletCatchesUp() {
    String uid = node().kubeletUid("scraper", "e2e-statefulset-0");
    assertThat(node().apiPod("scraper", "e2e-statefulset-0").getMetadata().getUid()).isEqualTo(uid);
    long before = agent.lastCycleId();

    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();

    await()
        .until(
            () -> agent.lastShows(List.of(confirmed(DriftKind.ORPHANED_POD, "e2e-statefulset-0"))));
    DriftKey key = agent.last().drifts().getFirst().key();
    assertThat(key.target().uid()).isEqualTo(uid);
    assertThat(agent.since(before))
        .allSatisfy(
            c -> assertThat(c.drifts()).allSatisfy(d -> assertThat(d.key()).isEqualTo(key)));

    JsonNode body = agent.json("/v1/drifts");
    assertThat(names(body)).containsExactly("node", "trusted", "observedAt", "drifts");
    assertThat(body.path("node").asString()).isEqualTo(NODE);
    assertThat(body.path("trusted").asBoolean()).isTrue();
    assertThat(Instant.parse(body.path("observedAt").asString()))
        .isAfter(Instant.now().minusSeconds(5));
    assertThat(body.path("drifts")).hasSize(1);
    JsonNode d = body.path("drifts").get(0);
    assertThat(names(d))
        .containsExactly(
            "kind",
            "state",
            "namespace",
            "name",
            "uid",
            "firstObservedAt",
            "confirmedAt",
            "observations",
            "detail",
            "policy",
            "level");
    assertThat(d.path("kind").asString()).isEqualTo("OrphanedPod");
    // No ConsistencyPolicy selects the pod: the default level, and no policy named.
    assertThat(d.path("policy").isNull()).isTrue();
    assertThat(d.path("level").asString()).isEqualTo("Strict");
    assertThat(d.path("state").asString()).isEqualTo("confirmed");
    assertThat(d.path("namespace").asString()).isEqualTo("scraper");
    assertThat(d.path("name").asString()).isEqualTo("e2e-statefulset-0");
    assertThat(d.path("uid").asString()).isEqualTo(uid);
    assertThat(d.path("detail").asString())
        .isEqualTo("kubelet lists it; API server has no pod with this UID");
    Instant first = Instant.parse(d.path("firstObservedAt").asString());
    Instant confirmedAt = Instant.parse(d.path("confirmedAt").asString());
    assertThat(Duration.between(first, confirmedAt)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(d.path("observations").asInt()).isGreaterThanOrEqualTo(3);

    assertThat(agent.gauge("stateprobe.drifts.active", "kind", "OrphanedPod")).isEqualTo(1);
    assertThat(agent.gauge("stateprobe.drifts.suspected", "kind", "OrphanedPod")).isZero();
    assertThat(agent.counter("stateprobe.drifts.detected", "kind", "OrphanedPod")).isEqualTo(1);

    // The kubelet finally hears of the delete.
    node().kubelet.removePod(uid);

    await().until(() -> agent.lastShows(List.of()));
    assertThat(agent.counter("stateprobe.drifts.cleared", "kind", "OrphanedPod")).isEqualTo(1);
    assertThat(agent.gauge("stateprobe.drifts.active", "kind", "OrphanedPod")).isZero();

    // One log line per state change, each naming the cycle in which it happened.
    for (Transition.Type type : Transition.Type.values()) {
      String event = "drift_" + type.name().toLowerCase(java.util.Locale.ROOT);
      List<String> lines = logs.events(event, "uid=" + uid + " ");
      List<Long> cycles = cyclesWith(type, key);
      assertThat(lines).as(event).hasSize(cycles.size());
      assertThat(lines.stream().map(LogCapture::cycleOf).toList()).as(event).isEqualTo(cycles);
    }
    assertThat(logs.events("drift_suspected", "uid=" + uid + " ")).hasSize(1);
    assertThat(
            logs.events(
                "drift_confirmed",
                "uid=" + uid + " ",
                "kind=OrphanedPod namespace=scraper name=e2e-statefulset-0"))
        .hasSize(1);
    assertThat(logs.events("drift_cleared", "uid=" + uid + " ")).hasSize(1);
    assertThat(LogCapture.cycleOf(logs.events("drift_confirmed", uid).getFirst()))
        .isGreaterThan(LogCapture.cycleOf(logs.events("drift_suspected", uid).getFirst()));
  }

  @Test
  void aPodTheKubeletNeverReceivesIsUnknownToIt() {
    Pod lost = node().createCopy("scraper", "e2e-statefulset-1", "e2e-never-started", NODE);
    Pod elsewhere = node().createCopy("scraper", "e2e-statefulset-1", "e2e-elsewhere", OTHER_NODE);
    long before = agent.lastCycleId();

    await()
        .until(
            () ->
                agent.lastShows(
                    List.of(confirmed(DriftKind.UNKNOWN_TO_KUBELET, "e2e-never-started"))));

    assertThat(agent.last().drifts().getFirst().drift().target().uid())
        .isEqualTo(lost.getMetadata().getUid());
    assertThat(agent.since(before))
        .flatMap(CycleResult::drifts)
        .allSatisfy(d -> assertThat(d.drift().target().name()).isEqualTo("e2e-never-started"));
    JsonNode d = agent.json("/v1/drifts").path("drifts");
    assertThat(d).hasSize(1);
    assertThat(d.get(0).path("kind").asString()).isEqualTo("UnknownToKubelet");
    assertThat(d.get(0).path("detail").asString())
        .isEqualTo("API server binds it to this node; kubelet does not list it");
    assertThat(agent.last().snapshot().controlPlane().podsByUid())
        .containsKey(lost.getMetadata().getUid())
        .doesNotContainKey(elsewhere.getMetadata().getUid())
        .hasSize(SimulatedNode.PODS_ON_NODE + 1);
  }

  @Test
  void aLabelChangeTheKubeletMissedIsAStaleViewNamingTheLabels() {
    String name = "e2e-deployment-79967c5968-8bnn8";
    String uid = node().kubeletUid("scraper", name);

    node()
        .cluster
        .pods()
        .inNamespace("scraper")
        .withName(name)
        .edit(
            p -> {
              p.getMetadata().getLabels().put("tier", "gold");
              return p;
            });

    await().until(() -> agent.lastShows(List.of(confirmed(DriftKind.STALE_KUBELET_VIEW, name))));
    assertThat(agent.last().drifts().getFirst().drift().target().uid()).isEqualTo(uid);
    JsonNode d = agent.json("/v1/drifts").path("drifts");
    assertThat(d).hasSize(1);
    assertThat(d.get(0).path("kind").asString()).isEqualTo("StaleKubeletView");
    assertThat(d.get(0).path("detail").asString())
        .isEqualTo("kubelet's copy differs from the API server in metadata.labels");
    JsonNode views = agent.json("/v1/views").path("views");
    assertThat(views.path("api").path("checksum").asString())
        .isNotEqualTo(views.path("kubelet").path("checksum").asString());

    ObjectNode caughtUp = node().kubeletPod(uid);
    ((ObjectNode) caughtUp.path("metadata").path("labels")).put("tier", "gold");
    node().putKubeletPod(caughtUp);

    await().until(() -> agent.lastShows(List.of()));
    assertThat(agent.counter("stateprobe.drifts.cleared", "kind", "StaleKubeletView")).isEqualTo(1);
    JsonNode after = agent.json("/v1/views").path("views");
    assertThat(after.path("api").path("checksum").asString())
        .isEqualTo(after.path("kubelet").path("checksum").asString());
  }

  @Test
  void aRecreatedPodsOldCopyListedBesideTheNewOneIsAnOrphanNotAUidMismatch() {
    String ns = "scraper";
    String name = "e2e-statefulset-0";
    String oldUid = node().kubeletUid(ns, name);
    Pod before = node().apiPod(ns, name);
    long since = agent.lastCycleId();

    // Deleted and created again under its name; the kubelet starts the new pod and keeps the old.
    node().cluster.pods().inNamespace(ns).withName(name).delete();
    Pod recreated =
        node()
            .create(
                new PodBuilder(before)
                    .editMetadata()
                    .withUid(null)
                    .withResourceVersion(null)
                    .withCreationTimestamp(null)
                    .endMetadata()
                    .build());
    String newUid = recreated.getMetadata().getUid();
    assertThat(newUid).isNotEqualTo(oldUid);
    ObjectNode newCopy = node().kubeletPod(oldUid).deepCopy();
    ((ObjectNode) newCopy.path("metadata")).put("uid", newUid);
    node().putKubeletPod(newCopy);

    await()
        .until(
            () ->
                agent.last().confirmed().stream()
                    .anyMatch(
                        d ->
                            d.drift().kind() == DriftKind.ORPHANED_POD
                                && d.drift().target().uid().equals(oldUid)));
    assertThat(agent.since(since))
        .flatMap(CycleResult::drifts)
        .noneMatch(d -> d.drift().kind() == DriftKind.UID_MISMATCH)
        .noneMatch(d -> d.drift().kind() == DriftKind.UNKNOWN_TO_KUBELET);
    assertThat(agent.last().drifts())
        .filteredOn(d -> d.drift().target().uid().equals(oldUid))
        .extracting(d -> d.drift().detail())
        .containsExactly("kubelet lists it; API server has no pod with this UID");

    node().kubelet.removePod(oldUid);
    await()
        .until(
            () ->
                agent.last().drifts().stream()
                    .noneMatch(d -> d.drift().target().uid().equals(oldUid)));
  }

  @Test
  void aFinishedCopyTheApiServerLacksWhoseContainersStillRunIsAnOrphan() {
    String ns = "scraper";
    String name = "e2e-deployment-79967c5968-8bnn8";
    String uid = node().kubeletUid(ns, name);
    assertThat(node().kubelet.runningUids()).contains(uid);

    // The kubelet has given up on the pod (Failed), its containers still run, and the API server
    // no longer has it: nobody owns what runs.
    ObjectNode failed = node().kubeletPod(uid);
    ((ObjectNode) failed.path("status")).put("phase", "Failed");
    node().putKubeletPod(failed);
    node().cluster.pods().inNamespace(ns).withName(name).delete();

    await().until(() -> agent.lastShows(List.of(confirmed(DriftKind.ORPHANED_POD, name))));
    assertThat(agent.last().drifts().getFirst().drift().target().uid()).isEqualTo(uid);
    JsonNode d = agent.json("/v1/drifts").path("drifts");
    assertThat(d).hasSize(1);
    assertThat(d.get(0).path("kind").asString()).isEqualTo("OrphanedPod");
    assertThat(d.get(0).path("detail").asString())
        .isEqualTo("runtime runs it; API server has no pod with this UID");

    // Its containers stop: a finished copy nothing runs is the kubelet's to forget.
    ObjectNode stopped = node().kubeletPod(uid);
    for (JsonNode c : stopped.path("status").path("containerStatuses")) {
      ((ObjectNode) c).putObject("state").putObject("terminated").put("exitCode", 1);
    }
    node().putKubeletPod(stopped);
    await().until(() -> agent.lastShows(List.of()));
    assertThat(node().kubelet.podUids()).contains(uid);
  }

  private List<Long> cyclesWith(Transition.Type type, DriftKey key) {
    List<Long> ids = new ArrayList<>();
    for (CycleResult c : agent.cycles) {
      for (Transition t : c.transitions()) {
        if (t.type() == type && t.drift().key().equals(key)) {
          ids.add(c.cycle());
        }
      }
    }
    return ids;
  }

  private static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.propertyNames().forEach(names::add);
    return names;
  }
}
