package dev.stateprobe.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketConnectOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

// try-with-resources closes the watches; their bodies need not name them.
@SuppressWarnings("try")
// A hung watch fails the test instead of the build.
@Timeout(60)
class SimApiServerIT {
  private static SimApiServer api;
  private static KubernetesClient cluster;
  private static KubernetesClient agent;

  @BeforeAll
  static void start() {
    api = new SimApiServer().start();
    cluster = api.client();
    agent = api.newClient();
  }

  private static Vertx vertx;

  @AfterAll
  static void stop() throws Exception {
    api.close();
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** A raw WebSocket watch, as kube-apiserver's clients open one: every message, in order. */
  private static final class RawWatch implements AutoCloseable {
    final List<JsonNode> events = new CopyOnWriteArrayList<>();
    final AtomicBoolean closed = new AtomicBoolean();
    final int status;
    private final WebSocket ws;

    RawWatch(String pathAndQuery) throws Exception {
      if (vertx == null) {
        vertx = Vertx.vertx();
      }
      java.net.URI base = java.net.URI.create(api.url());
      JsonMapper json = JsonMapper.builder().build();
      WebSocket socket = null;
      int code = 101;
      try {
        // Handlers set as the connection completes, on its event loop, before any message: a
        // server that answers and closes at once loses nothing.
        socket =
            vertx
                .createWebSocketClient()
                .connect(
                    new WebSocketConnectOptions()
                        .setHost(base.getHost())
                        .setPort(base.getPort())
                        .setURI(pathAndQuery))
                .map(
                    ws -> {
                      ws.textMessageHandler(t -> events.add(json.readTree(t)));
                      ws.closeHandler(v -> closed.set(true));
                      return ws;
                    })
                .await(10, TimeUnit.SECONDS);
      } catch (UpgradeRejectedException e) {
        code = e.getStatus();
      }
      this.status = code;
      this.ws = socket;
    }

    List<String> types() {
      return events.stream().map(e -> e.path("type").asString()).toList();
    }

    List<String> typed(String type) {
      return events.stream()
          .filter(e -> e.path("type").asString().equals(type))
          .map(e -> e.path("object").path("metadata").path("name").asString())
          .toList();
    }

    @Override
    public void close() {
      if (ws != null) {
        ws.close();
      }
    }
  }

  private static String rv(Pod p) {
    return p.getMetadata().getResourceVersion();
  }

  @Test
  void aPodListIsPagedByLimitAndContinueAtTheFirstPagesVersion() {
    for (int i = 0; i < 5; i++) {
      create(pod("ns1", "p" + i, "node-a"));
    }
    create(pod("ns1", "elsewhere", "node-b"));
    var first =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", "node-a")
            .list(new ListOptionsBuilder().withLimit(2L).build());
    assertThat(names(first.getItems())).containsExactly("p0", "p1");
    assertThat(first.getMetadata().getContinue()).isNotEmpty();
    assertThat(first.getMetadata().getRemainingItemCount()).isEqualTo(3);
    // A change after the first page does not show in the later ones: they are as of its version.
    cluster.pods().inNamespace("ns1").withName("p4").delete();
    var second =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", "node-a")
            .list(
                new ListOptionsBuilder()
                    .withLimit(2L)
                    .withContinue(first.getMetadata().getContinue())
                    .build());
    assertThat(names(second.getItems())).containsExactly("p2", "p3");
    assertThat(second.getMetadata().getResourceVersion())
        .isEqualTo(first.getMetadata().getResourceVersion());
    var third =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", "node-a")
            .list(
                new ListOptionsBuilder()
                    .withLimit(2L)
                    .withContinue(second.getMetadata().getContinue())
                    .build());
    assertThat(names(third.getItems())).containsExactly("p4");
    assertThat(third.getMetadata().getContinue()).isNull();
  }

  @Test
  void aContinueTokenFromBeforeACompactionIsAnswered410() {
    for (int i = 0; i < 3; i++) {
      create(pod("ns1", "p" + i, "node-a"));
    }
    var first = agent.pods().inAnyNamespace().list(new ListOptionsBuilder().withLimit(1L).build());
    create(pod("ns1", "later", "node-a"));
    api.compact();

    assertThatThrownBy(
            () ->
                agent
                    .pods()
                    .inAnyNamespace()
                    .list(
                        new ListOptionsBuilder()
                            .withLimit(1L)
                            .withContinue(first.getMetadata().getContinue())
                            .build()))
        .isInstanceOf(KubernetesClientException.class)
        .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(410));
  }

  @Test
  void aWatchResumesFromAResourceVersionWithTheEventsAfterIt() throws Exception {
    Pod a = create(pod("ns1", "a", "node-a"));
    create(pod("ns1", "b", "node-a"));
    cluster.pods().inNamespace("ns1").withName("a").delete();

    try (RawWatch w =
        new RawWatch(
            "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-a&resourceVersion="
                + rv(a))) {
      await().until(() -> w.events.size() == 2);
      assertThat(w.types()).containsExactly("ADDED", "DELETED");
      assertThat(w.typed("ADDED")).containsExactly("b");
      assertThat(w.typed("DELETED")).containsExactly("a");
      // A deletion has a version of its own, newer than the object's last one.
      long deletedAt =
          Long.parseLong(w.events.get(1).at("/object/metadata/resourceVersion").asString());
      assertThat(deletedAt).isGreaterThan(Long.parseLong(rv(a)));
    }
  }

  @Test
  void aWatchFromACompactedVersionGetsOne410ErrorEventAndIsClosed() throws Exception {
    Pod a = create(pod("ns1", "a", "node-a"));
    create(pod("ns1", "b", "node-a"));
    api.compact();

    try (RawWatch w = new RawWatch("/api/v1/pods?watch=true&resourceVersion=" + rv(a))) {
      await().until(() -> w.closed.get());
      assertThat(w.types()).containsExactly("ERROR");
      assertThat(w.events.getFirst().at("/object/code").asInt()).isEqualTo(410);
      assertThat(w.events.getFirst().at("/object/reason").asString()).isEqualTo("Expired");
    }
    // From the current version it is served.
    try (RawWatch w =
        new RawWatch("/api/v1/pods?watch=true&resourceVersion=" + api.podResourceVersion())) {
      create(pod("ns1", "c", "node-a"));
      await().until(() -> w.typed("ADDED").contains("c"));
      assertThat(w.closed.get()).isFalse();
    }
  }

  @Test
  void bookmarksComeOnlyWhenAllowedAndCarryTheCurrentVersion() throws Exception {
    api.bookmarkEvery(Duration.ofMillis(100));
    try {
      create(pod("ns1", "a", "node-a"));
      try (RawWatch with =
              new RawWatch(
                  "/api/v1/pods?watch=true&allowWatchBookmarks=true&resourceVersion="
                      + api.podResourceVersion());
          RawWatch without =
              new RawWatch("/api/v1/pods?watch=true&resourceVersion=" + api.podResourceVersion())) {
        create(pod("ns1", "b", "node-b"));
        String now = api.podResourceVersion();
        await()
            .until(
                () ->
                    with.events.stream()
                        .anyMatch(
                            e ->
                                e.path("type").asString().equals("BOOKMARK")
                                    && e.at("/object/metadata/resourceVersion")
                                        .asString()
                                        .equals(now)));
        assertThat(without.types()).doesNotContain("BOOKMARK");
      }
    } finally {
      api.bookmarkEvery(Duration.ofSeconds(10));
    }
  }

  @Test
  void aStreamingListSendsTheCurrentPodsThenTheBookmarkThatEndsThemThenLiveEvents()
      throws Exception {
    api.streamingLists(true);
    create(pod("ns1", "a", "node-a"));
    create(pod("ns1", "b", "node-a"));
    create(pod("ns1", "x", "node-b"));
    String query =
        "/api/v1/pods?watch=true&fieldSelector=spec.nodeName%3Dnode-a&sendInitialEvents=true"
            + "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=";
    try (RawWatch w = new RawWatch(query)) {
      await().until(() -> w.events.size() == 3);
      assertThat(w.types()).containsExactly("ADDED", "ADDED", "BOOKMARK");
      assertThat(w.typed("ADDED")).containsExactly("a", "b");
      JsonNode end = w.events.get(2).at("/object/metadata");
      assertThat(end.path("annotations").path("k8s.io/initial-events-end").asString())
          .isEqualTo("true");
      assertThat(end.path("resourceVersion").asString()).isEqualTo(api.podResourceVersion());
      create(pod("ns1", "c", "node-a"));
      await().until(() -> w.typed("ADDED").contains("c"));
    }
    // Without the bookmarks it asks for, and on a server without the feature: 422.
    try (RawWatch w =
        new RawWatch(
            "/api/v1/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan")) {
      assertThat(w.status).isEqualTo(422);
    }
    api.streamingLists(false);
    try (RawWatch w = new RawWatch(query)) {
      assertThat(w.status).isEqualTo(422);
    }
  }

  @Test
  void aWatchEndsCleanlyAfterItsTimeoutSeconds() throws Exception {
    try (RawWatch w = new RawWatch("/api/v1/pods?watch=true&timeoutSeconds=1")) {
      await().atMost(Duration.ofSeconds(5)).until(() -> w.closed.get());
      assertThat(w.types()).doesNotContain("ERROR");
    }
  }

  @AfterEach
  void cleanUp() {
    if (api.isDown()) {
      api.up();
    }
    cluster.pods().inAnyNamespace().list().getItems().forEach(p -> cluster.resource(p).delete());
    await().until(() -> cluster.pods().inAnyNamespace().list().getItems().isEmpty());
  }

  static Pod pod(String namespace, String name, String node) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace(namespace)
        .withName(name)
        .addToLabels("app", name)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("main")
        .withImage("busybox")
        .endContainer()
        .endSpec()
        .build();
  }

  private static Pod create(Pod p) {
    return cluster.pods().inNamespace(p.getMetadata().getNamespace()).resource(p).create();
  }

  private static List<String> names(List<Pod> pods) {
    return pods.stream().map(p -> p.getMetadata().getName()).sorted().toList();
  }

  @Test
  void nodeSelectorListReturnsOnlyThatNodesPods() {
    create(pod("ns1", "a1", "node-a"));
    create(pod("ns2", "a2", "node-a"));
    create(pod("ns1", "b1", "node-b"));
    create(pod("ns1", "pending", null));

    List<Pod> onA =
        agent.pods().inAnyNamespace().withField("spec.nodeName", "node-a").list().getItems();
    List<Pod> notA =
        agent.pods().inAnyNamespace().withoutField("spec.nodeName", "node-a").list().getItems();
    List<Pod> onAInNs1 =
        agent.pods().inNamespace("ns1").withField("spec.nodeName", "node-a").list().getItems();

    assertThat(names(onA)).containsExactly("a1", "a2");
    assertThat(names(notA)).containsExactly("b1", "pending");
    assertThat(names(onAInNs1)).containsExactly("a1");
  }

  @Test
  void nodeSelectorListCarriesTheListResourceVersion() {
    create(pod("ns1", "a1", "node-a"));

    String rv =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", "node-a")
            .list()
            .getMetadata()
            .getResourceVersion();

    assertThat(rv).isNotBlank();
  }

  record Event(Watcher.Action action, String name) {}

  @Test
  void nodeSelectorWatchDeliversOnlyThatNodesEvents() {
    create(pod("ns1", "before", "node-a"));
    create(pod("ns1", "other-before", "node-b"));
    List<Event> events = new CopyOnWriteArrayList<>();
    try (Watch ignored =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", "node-a")
            .watch(
                new Watcher<Pod>() {
                  @Override
                  public void eventReceived(Action action, Pod pod) {
                    events.add(new Event(action, pod.getMetadata().getName()));
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      await().until(() -> events.size() == 1);

      create(pod("ns1", "a1", "node-a"));
      create(pod("ns1", "b1", "node-b"));
      cluster.pods().inNamespace("ns1").withName("b1").edit(p -> label(p, "changed"));
      cluster.pods().inNamespace("ns1").withName("a1").edit(p -> label(p, "changed"));
      // A pending pod bound to node-a enters the selection: ADDED, as kube-apiserver sends.
      create(pod("ns1", "late", null));
      cluster.pods().inNamespace("ns1").withName("late").edit(p -> bind(p, "node-a"));
      cluster.pods().inNamespace("ns1").withName("b1").delete();
      cluster.pods().inNamespace("ns1").withName("a1").delete();

      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> events.contains(new Event(Watcher.Action.DELETED, "a1")));
      assertThat(events)
          .containsExactly(
              new Event(Watcher.Action.ADDED, "before"),
              new Event(Watcher.Action.ADDED, "a1"),
              new Event(Watcher.Action.MODIFIED, "a1"),
              new Event(Watcher.Action.ADDED, "late"),
              new Event(Watcher.Action.DELETED, "a1"));
    }
  }

  private static Pod label(Pod p, String value) {
    p.getMetadata().getLabels().put("changed", value);
    return p;
  }

  private static Pod bind(Pod p, String node) {
    p.getSpec().setNodeName(node);
    return p;
  }

  @Test
  void failedPodWatchSendsA410ErrorEventOnce() {
    String rv = create(pod("ns1", "a1", "node-a")).getMetadata().getResourceVersion();
    api.failNextPodWatch();
    AtomicReference<WatcherException> closed = new AtomicReference<>();

    try (Watch ignored =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", "node-a")
            .watch(new ListOptionsBuilder().withResourceVersion(rv).build(), closer(closed))) {
      await().until(() -> closed.get() != null);
    }

    assertThat(closed.get().isHttpGone()).isTrue();
    assertThat(closed.get().getMessage()).contains("too old resource version");
    // Only the next one: a second watch works.
    List<Event> events = new CopyOnWriteArrayList<>();
    try (Watch ignored =
        agent
            .pods()
            .inAnyNamespace()
            .withField("spec.nodeName", "node-a")
            .watch(recorder(events))) {
      await().until(() -> events.equals(List.of(new Event(Watcher.Action.ADDED, "a1"))));
    }
  }

  private static Watcher<Pod> closer(AtomicReference<WatcherException> closed) {
    return new Watcher<>() {
      @Override
      public void eventReceived(Action action, Pod resource) {}

      @Override
      public void onClose(WatcherException cause) {
        closed.set(cause);
      }
    };
  }

  private static Watcher<Pod> recorder(List<Event> events) {
    return new Watcher<>() {
      @Override
      public void eventReceived(Action action, Pod pod) {
        events.add(new Event(action, pod.getMetadata().getName()));
      }

      @Override
      public void onClose(WatcherException cause) {}
    };
  }

  @Test
  void downRefusesTheAgentButNotTheClusterThenUpExpiresOldWatches() {
    String rv = create(pod("ns1", "a1", "node-a")).getMetadata().getResourceVersion();

    api.down();

    assertThat(api.isDown()).isTrue();
    assertThatThrownBy(() -> agent.pods().inAnyNamespace().list())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(503));
    create(pod("ns1", "a2", "node-a"));

    api.up();

    assertThat(names(agent.pods().inAnyNamespace().list().getItems())).containsExactly("a1", "a2");
    AtomicReference<WatcherException> closed = new AtomicReference<>();
    try (Watch ignored =
        agent
            .pods()
            .inAnyNamespace()
            .watch(new ListOptionsBuilder().withResourceVersion(rv).build(), closer(closed))) {
      await().until(() -> closed.get() != null);
    }
    assertThat(closed.get().isHttpGone()).isTrue();
  }

  @Test
  void aServedDocumentAnswersItsPathWithAnyQueryAndFailsWhileDown() {
    create(pod("ns1", "a1", "node-a"));
    String versions = "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}";
    api.serveDocument("/api", versions);

    assertThat(agent.raw(api.url() + "api?timeout=32s")).isEqualTo(versions);
    assertThat(cluster.raw(api.url() + "api")).isEqualTo(versions);
    // Other paths still reach the CRUD store.
    assertThat(names(agent.pods().inNamespace("ns1").list().getItems())).containsExactly("a1");
    assertThatThrownBy(() -> api.serveDocument("/api?x=1", versions))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/api?x=1");

    api.down();
    assertThatThrownBy(() -> agent.raw(api.url() + "api"))
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(503));
    assertThat(cluster.raw(api.url() + "api")).isEqualTo(versions);
  }

  @Test
  void dropWatchesClosesOnlyTheAgentsWatches() {
    List<Event> agentEvents = new CopyOnWriteArrayList<>();
    List<Event> clusterEvents = new CopyOnWriteArrayList<>();
    AtomicReference<WatcherException> agentClosed = new AtomicReference<>();
    Watcher<Pod> agentWatcher =
        new Watcher<>() {
          @Override
          public void eventReceived(Action action, Pod pod) {
            agentEvents.add(new Event(action, pod.getMetadata().getName()));
          }

          @Override
          public void onClose(WatcherException cause) {
            agentClosed.set(cause);
          }
        };
    try (Watch a = agent.pods().inAnyNamespace().watch(agentWatcher);
        Watch c = cluster.pods().inAnyNamespace().watch(recorder(clusterEvents))) {
      await().until(() -> api.openWatches() == 2);

      assertThat(api.dropWatches()).isEqualTo(1);

      // fabric8 reconnects a plain watch by itself; the cluster's watch never noticed.
      await().until(() -> api.count(r -> !r.backstage() && r.verb().equals("watch")) == 2);
      await().until(() -> api.openWatches() == 2);
      create(pod("ns1", "a1", "node-a"));
      await().until(() -> clusterEvents.size() == 1 && agentEvents.size() == 1);
      assertThat(agentClosed.get()).isNull();
    }
  }

  @Test
  void requestLogResolvesVerbResourceAndSubresource() {
    api.clearRequests();
    Pod created = create(pod("ns1", "a1", "node-a"));
    agent.pods().inAnyNamespace().withField("spec.nodeName", "node-a").list();
    agent.pods().inNamespace("ns1").withName("a1").get();
    created.setStatus(
        new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running").build());
    cluster.pods().inNamespace("ns1").resource(created).updateStatus();

    List<SimApiRequest> log = api.requests();

    assertThat(log)
        .extracting(
            SimApiRequest::verb,
            SimApiRequest::resource,
            SimApiRequest::subresource,
            SimApiRequest::namespace,
            SimApiRequest::name,
            SimApiRequest::backstage)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("create", "pods", null, "ns1", null, true),
            org.assertj.core.groups.Tuple.tuple("list", "pods", null, null, null, false),
            org.assertj.core.groups.Tuple.tuple("get", "pods", null, "ns1", "a1", false),
            org.assertj.core.groups.Tuple.tuple("update", "pods", "status", "ns1", "a1", true));
    SimApiRequest list = log.get(1);
    assertThat(list.method()).isEqualTo("GET");
    assertThat(list.path()).isEqualTo("/api/v1/pods");
    assertThat(list.queryParameter("fieldSelector")).isEqualTo("spec.nodeName=node-a");
    assertThat(list.code()).isEqualTo(200);
    assertThat(log.get(0).code()).isEqualTo(201);
  }
}
