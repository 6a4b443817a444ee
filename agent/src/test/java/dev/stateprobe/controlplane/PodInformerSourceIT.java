package dev.stateprobe.controlplane;

import static dev.stateprobe.controlplane.ClusterPods.NODE;
import static dev.stateprobe.controlplane.ClusterPods.OTHER_NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

// A hung watch fails the test instead of the build.
@Timeout(60)
class PodInformerSourceIT {
  private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");

  private static SimApiServer api;
  private static KubernetesClient cluster;
  private static KubernetesClient agent;
  private static ClusterPods pods;

  private final TestClock clock = new TestClock(T0);
  private PodInformerSource source;
  private int seededOnNode;

  @BeforeAll
  static void startApi() {
    api = new SimApiServer().start();
    cluster = api.client();
    agent = api.newClient();
    pods = new ClusterPods(cluster);
  }

  @AfterAll
  static void stopApi() {
    api.close();
  }

  @BeforeEach
  void seed() {
    api.clearRequests();
    seededOnNode = pods.seed();
    source = new PodInformerSource(agent, NODE, new PodJsonDecoder(), clock);
  }

  @AfterEach
  void cleanUp() {
    source.close();
    if (api.isDown()) {
      api.up();
    }
    api.acceptWatches();
    pods.wipe();
    await().until(pods::empty);
  }

  private ControlPlaneView view() {
    return source.snapshot(clock.instant());
  }

  /** Synced, watching, and holding what the API server holds for the node. */
  private void awaitConverged() {
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              ControlPlaneView v = view();
              return v.synced() && !v.relisting() && v.podsByUid().equals(pods.expectedOn(NODE));
            });
  }

  private Pod template(String name) {
    return pods.fixture(Fixtures.API_1_35).stream()
        .filter(p -> p.getMetadata().getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private String uidOf(String namespace, String name) {
    return cluster.pods().inNamespace(namespace).withName(name).get().getMetadata().getUid();
  }

  @Test
  void initialSyncHoldsExactlyThisNodesPodsAsDecodedFromTheirJson() {
    source.start();

    awaitConverged();
    ControlPlaneView v = view();
    Map<String, PodRecord> expected = pods.expectedOn(NODE);
    assertThat(seededOnNode).isEqualTo(24);
    assertThat(v.size()).isEqualTo(24);
    assertThat(v.podsByUid()).isEqualTo(expected);
    assertThat(v.podsByUid().values()).extracting(PodRecord::nodeName).containsOnly(NODE);
    assertThat(pods.expectedOn(OTHER_NODE))
        .hasSize(3)
        .doesNotContainKeys(v.podsByUid().keySet().toArray(String[]::new));
    assertThat(v.observedAt()).isEqualTo(T0);
    assertThat(v.relists()).isZero();
    assertThat(v.lastRelistAt()).isNull();
    assertThat(v.watchRestarts()).isZero();
    assertThat(source.hasSynced()).isTrue();
    assertThat(source.decodeFailures()).isZero();
    // Paged, so that a real API server never sends all of a large node's pods in one reply (the
    // mock ignores the limit and sends one page).
    assertThat(
            api.count(
                r ->
                    r.isPodCollection("list")
                        && r.query() != null
                        && r.query().contains("limit=" + PodInformerSource.LIST_PAGE_SIZE)))
        .isEqualTo(1);
  }

  @Test
  void addLabelChangeAndDeleteAreFollowed() {
    source.start();
    awaitConverged();

    Pod added = pods.create(pods.copyOnNode(template("e2e-statefulset-0"), "e2e-added", NODE));
    String uid = added.getMetadata().getUid();
    await().until(() -> view().podsByUid().containsKey(uid));
    PodRecord before = view().podsByUid().get(uid);
    assertThat(before).isEqualTo(pods.decode(pods.rawJson("scraper", "e2e-added")));

    cluster
        .pods()
        .inNamespace("scraper")
        .withName("e2e-added")
        .edit(
            p -> {
              p.getMetadata().getLabels().put("tier", "gold");
              return p;
            });
    await().until(() -> view().podsByUid().get(uid).labelsHash() != before.labelsHash());
    assertThat(view().podsByUid().get(uid))
        .isEqualTo(pods.decode(pods.rawJson("scraper", "e2e-added")));

    // Created before the delete that is awaited below: it would have shown up by then.
    Pod elsewhere =
        pods.create(pods.copyOnNode(template("e2e-statefulset-1"), "e2e-elsewhere", OTHER_NODE));
    cluster.pods().inNamespace("scraper").withName("e2e-added").delete();
    await().until(() -> !view().podsByUid().containsKey(uid));

    ControlPlaneView v = view();
    assertThat(v.podsByUid()).doesNotContainKey(elsewhere.getMetadata().getUid());
    assertThat(v.podsByUid()).isEqualTo(pods.expectedOn(NODE));
    assertThat(v.size()).isEqualTo(24);
    assertThat(v.relists()).isZero();
    assertThat(v.watchRestarts()).isZero();
  }

  @Test
  void goneWatchRelistsAndCatchesUpWithChangesMadeWhileTheWatchFailed() {
    source.start();
    awaitConverged();
    String deletedUid = uidOf("scraper", "e2e-failjob-28dqq");

    // The watch breaks and cannot come back; the cluster changes meanwhile.
    api.refuseWatches();
    await().until(() -> view().relisting());
    cluster.pods().inNamespace("scraper").withName("e2e-failjob-28dqq").delete();
    String addedUid =
        pods.create(pods.copyOnNode(template("e2e-statefulset-0"), "e2e-added", NODE))
            .getMetadata()
            .getUid();
    cluster
        .pods()
        .inNamespace("kube-system")
        .withName("coredns-7d764666f9-qdcxt")
        .edit(
            p -> {
              p.getMetadata().getLabels().put("tier", "gold");
              return p;
            });
    pods.create(pods.copyOnNode(template("e2e-statefulset-1"), "e2e-elsewhere", OTHER_NODE));
    clock.advance(Duration.ofSeconds(7));

    // Its next watch is answered 410 Gone: the informer must re-list.
    api.failNextPodWatch();
    api.acceptWatches();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> view().relists() == 1 && !view().relisting());
    ControlPlaneView v = view();
    assertThat(v.lastRelistAt()).isEqualTo(T0.plusSeconds(7));
    assertThat(v.podsByUid()).doesNotContainKey(deletedUid).containsKey(addedUid);
    assertThat(v.podsByUid()).isEqualTo(pods.expectedOn(NODE));
    assertThat(v.size()).isEqualTo(24);
    assertThat(v.synced()).isTrue();
    // The 410 watch and the one after the re-list.
    assertThat(v.watchRestarts()).isEqualTo(2);
    assertThat(source.relists()).isEqualTo(1);
    assertThat(api.count(r -> !r.backstage() && r.isPodCollection("list"))).isEqualTo(2);
  }

  @Test
  void apiServerDownThenBackRecoversWithAnExactView() {
    source.start();
    awaitConverged();
    String deletedUid = uidOf("kube-system", "kindnet-zkpn8");

    api.down();
    await().until(() -> view().relisting());
    cluster.pods().inNamespace("kube-system").withName("kindnet-zkpn8").delete();
    String addedUid =
        pods.create(pods.copyOnNode(template("e2e-statefulset-0"), "e2e-added", NODE))
            .getMetadata()
            .getUid();
    pods.create(pods.copyOnNode(template("e2e-statefulset-1"), "e2e-elsewhere", OTHER_NODE));
    ControlPlaneView whileDown = view();
    assertThat(whileDown.synced()).isTrue();
    assertThat(whileDown.podsByUid()).containsKey(deletedUid).doesNotContainKey(addedUid);
    clock.advance(Duration.ofSeconds(30));

    api.up();

    awaitConverged();
    ControlPlaneView v = view();
    assertThat(v.relists()).isEqualTo(1);
    assertThat(v.lastRelistAt()).isEqualTo(T0.plusSeconds(30));
    assertThat(v.podsByUid()).doesNotContainKey(deletedUid).containsKey(addedUid);
    assertThat(v.size()).isEqualTo(24);
    // Reconnected (answered 410 by the restarted server), then the watch after the re-list.
    assertThat(v.watchRestarts()).isEqualTo(2);
    assertThat(source.watchRestarts()).isEqualTo(2);
  }

  @Test
  void resourceVersionIsTheListsThenTheLastEventsAsAnOpaqueString() {
    String listed =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", NODE)
            .list()
            .getMetadata()
            .getResourceVersion();
    source.start();
    awaitConverged();

    assertThat(view().resourceVersion()).isEqualTo(listed);

    Pod added = pods.create(pods.copyOnNode(template("e2e-statefulset-0"), "e2e-added", NODE));
    await().until(() -> view().podsByUid().containsKey(added.getMetadata().getUid()));
    assertThat(view().resourceVersion()).isEqualTo(added.getMetadata().getResourceVersion());
  }

  @Test
  void startingWhileTheApiServerIsDownSyncsOnceItIsBack() {
    api.down();
    source.start();
    await().until(() -> api.count(r -> !r.backstage() && r.code() == 503) >= 1);
    assertThat(view().synced()).isFalse();
    assertThat(view().relisting()).isFalse();
    assertThat(view().podsByUid()).isEmpty();
    assertThat(source.firstSync().toCompletableFuture()).isNotDone();

    api.up();

    awaitConverged();
    assertThat(source.firstSync().toCompletableFuture()).isCompleted();
    assertThat(view().relists()).isZero();
    assertThat(view().size()).isEqualTo(24);
  }

  @Test
  void closingTheSourceLeavesTheGivenClientOpen() {
    source.start();
    awaitConverged();

    source.close();

    assertThat(agent.pods().inAnyNamespace().list().getItems()).hasSize(28);
    await().until(() -> api.openWatches() == 0);
  }
}
