package dev.stateprobe.controlplane;

import static dev.stateprobe.controlplane.ClusterPods.NODE;
import static dev.stateprobe.controlplane.ClusterPods.OTHER_NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.sim.SimApiRequest;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

// A hung watch fails the test instead of the build.
@Timeout(60)
class PodListWatchIT {
  private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");

  private static SimApiServer api;
  private static KubernetesClient cluster;
  private static KubernetesClient agent;
  private static ClusterPods pods;
  private static Vertx vertx;
  private static WorkerExecutor worker;

  private final TestClock clock = new TestClock(T0);
  private ApiServerClient client;
  private PodListWatch source;
  private int seededOnNode;

  @BeforeAll
  static void startApi() {
    api = new SimApiServer().start();
    cluster = api.client();
    agent = api.newClient();
    pods = new ClusterPods(cluster);
    vertx = Vertx.vertx();
    worker = vertx.createSharedWorkerExecutor("test-worker", 1);
  }

  @AfterAll
  static void stopApi() throws Exception {
    api.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** The agent's settings, with the simulated client's reconnect interval (100 ms). */
  private static ListWatch.Settings settings() {
    return ListWatch.Settings.defaults()
        .withBackoff(Duration.ofMillis(100), Duration.ofMillis(3200));
  }

  @BeforeEach
  void seed() {
    api.clearRequests();
    api.streamingLists(true);
    seededOnNode = pods.seed();
    client = new ApiServerClient(vertx, agent.getConfiguration(), worker, clock);
    source = newSource(settings());
  }

  private PodListWatch newSource(ListWatch.Settings settings) {
    return new PodListWatch(
        client, NODE, new PodJsonDecoder(), clock, new Random(7)::nextDouble, settings);
  }

  @AfterEach
  void cleanUp() {
    source.close();
    client.close();
    if (api.isDown()) {
      api.up();
    }
    api.acceptWatches();
    api.bookmarkEvery(Duration.ofSeconds(10));
    pods.wipe();
    await().until(pods::empty);
  }

  private long agentPodLists() {
    return api.count(r -> !r.backstage() && r.isPodCollection("list"));
  }

  private long agentPodWatches() {
    return api.count(r -> !r.backstage() && r.isPodCollection("watch") && r.code() == 101);
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
    // A streaming list: one watch, no LIST at all.
    assertThat(source.streamingListSupported()).contains(true);
    assertThat(agentPodLists()).isZero();
    assertThat(agentPodWatches()).isEqualTo(1);
    assertThat(
            api.count(
                r ->
                    r.isPodCollection("watch")
                        && r.queryParameter("sendInitialEvents").equals("true")
                        && r.queryParameter("allowWatchBookmarks").equals("true")))
        .isEqualTo(1);
  }

  @Test
  void withoutStreamingListsTheInitialSyncIsAPagedListThenAWatchFromItsVersion() {
    api.streamingLists(false);
    source.close();
    source = newSource(settings().withListPageSize(5));
    source.start();

    awaitConverged();
    assertThat(source.streamingListSupported()).contains(false);
    assertThat(view().size()).isEqualTo(24);
    assertThat(view().relists()).isZero();
    // 24 pods in pages of 5: five pages, each a LIST with the limit, the later ones continued.
    List<SimApiRequest> lists =
        api.requests().stream().filter(r -> !r.backstage() && r.isPodCollection("list")).toList();
    assertThat(lists).hasSize(5);
    assertThat(lists).allSatisfy(r -> assertThat(r.queryParameter("limit")).isEqualTo("5"));
    assertThat(lists.getFirst().queryParameter("continue")).isNull();
    assertThat(lists.subList(1, 5))
        .allSatisfy(r -> assertThat(r.queryParameter("continue")).isNotEmpty());
    // Refused once (422), then the watch from the list's version.
    SimApiRequest watch =
        api.requests().stream()
            .filter(r -> !r.backstage() && r.isPodCollection("watch") && r.code() == 101)
            .findFirst()
            .orElseThrow();
    assertThat(watch.queryParameter("resourceVersion")).isEqualTo(view().resourceVersion());
    assertThat(watch.queryParameter("sendInitialEvents")).isNull();
    assertThat(api.count(r -> r.isPodCollection("watch") && r.code() == 422)).isEqualTo(1);
    assertThat(view().watchRestarts()).isZero();
  }

  @Test
  void aDroppedWatchResumesFromItsLastVersionWithoutAListAndCatchesUp() {
    source.start();
    awaitConverged();
    String deletedUid = uidOf("scraper", "e2e-failjob-28dqq");
    long watchesBefore = agentPodWatches();

    api.refuseWatches(); // drops the watch and keeps it closed while the cluster changes
    await().until(() -> view().relisting());
    cluster.pods().inNamespace("scraper").withName("e2e-failjob-28dqq").delete();
    String addedUid =
        pods.create(pods.copyOnNode(template("e2e-statefulset-0"), "e2e-added", NODE))
            .getMetadata()
            .getUid();
    api.acceptWatches();

    awaitConverged();
    ControlPlaneView v = view();
    assertThat(v.podsByUid()).doesNotContainKey(deletedUid).containsKey(addedUid);
    assertThat(v.relists()).isZero();
    assertThat(v.watchRestarts()).isEqualTo(1);
    assertThat(agentPodLists()).isZero();
    assertThat(agentPodWatches()).isEqualTo(watchesBefore + 1);
    SimApiRequest resumed =
        api.requests().stream()
            .filter(r -> !r.backstage() && r.isPodCollection("watch") && r.code() == 101)
            .reduce((a, b) -> b)
            .orElseThrow();
    assertThat(resumed.queryParameter("sendInitialEvents")).isNull();
    assertThat(resumed.queryParameter("resourceVersion")).isNotEmpty();
  }

  @Test
  void aWatchThatEndsAtItsTimeoutIsResumedWithoutAList() {
    api.bookmarkEvery(Duration.ofMillis(200));
    source.close();
    source = newSource(settings().withWatchTimeout(Duration.ofSeconds(1)));
    source.start();
    awaitConverged();

    await().atMost(Duration.ofSeconds(15)).until(() -> view().watchRestarts() >= 2);
    awaitConverged();
    assertThat(view().relists()).isZero();
    assertThat(agentPodLists()).isZero();
    // Bookmarks moved the version on although no pod changed.
    assertThat(Long.parseLong(view().resourceVersion())).isPositive();
  }

  @Test
  void compactionMidWatchAnswersTheResumeWith410AndTheViewReLists() {
    source.start();
    awaitConverged();
    String deletedUid = uidOf("kube-system", "kindnet-zkpn8");

    api.refuseWatches();
    await().until(() -> view().relisting());
    cluster.pods().inNamespace("kube-system").withName("kindnet-zkpn8").delete();
    clock.advance(Duration.ofSeconds(9));
    api.compact();
    api.acceptWatches();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> view().relists() == 1 && !view().relisting());
    ControlPlaneView v = view();
    assertThat(v.lastRelistAt()).isEqualTo(T0.plusSeconds(9));
    assertThat(v.podsByUid()).doesNotContainKey(deletedUid);
    assertThat(v.podsByUid()).isEqualTo(pods.expectedOn(NODE));
    // The resume answered 410 (an accepted watch, then the ERROR event), then the streaming
    // re-list.
    assertThat(v.watchRestarts()).isEqualTo(2);
  }

  @Test
  void bookmarksKeepTheResumeVersionRecentSoAResumeAfterCompactionOfOlderEventsNeedsNoList() {
    api.bookmarkEvery(Duration.ofMillis(100));
    source.start();
    awaitConverged();
    // Another node's pod changes: no event for this watch, but the version moves on.
    pods.create(pods.copyOnNode(template("e2e-statefulset-1"), "e2e-elsewhere", OTHER_NODE));
    String now = api.podResourceVersion();
    await().until(() -> now.equals(view().resourceVersion()));
    api.compact();

    api.dropWatches();
    await().until(() -> view().watchRestarts() == 1 && !view().relisting());
    assertThat(view().relists()).isZero();
    assertThat(agentPodLists()).isZero();
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
    // The 410 watch and the streaming re-list (a watch too); no LIST.
    assertThat(v.watchRestarts()).isEqualTo(2);
    assertThat(source.relists()).isEqualTo(1);
    assertThat(agentPodLists()).isZero();
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
  void closingTheSourceEndsItsWatchAndLeavesTheGivenClientOpen() throws Exception {
    source.start();
    awaitConverged();

    source.close();

    await().until(() -> api.openWatches() == 0);
    assertThat(client.get("/api/v1/pods").await(10, TimeUnit.SECONDS).status()).isEqualTo(200);
  }
}
