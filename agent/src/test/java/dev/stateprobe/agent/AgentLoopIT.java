package dev.stateprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.controlplane.ControlPlaneSource;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.TrustGate;
import dev.stateprobe.http.HttpApi;
import dev.stateprobe.kubelet.KubeletSource;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.report.Reports;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimeView;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The loop itself, with stub sources: threads, stopping, the quiet period after a watch restart.
 */
class AgentLoopIT {
  private static Vertx vertx;
  private static ExecutorService elsewhere;

  private final TestClock clock = new TestClock(Instant.parse("2026-11-26T10:00:00Z"));
  private final StubControlPlane api = new StubControlPlane();
  private final StubKubelet kubelet = new StubKubelet();
  private final List<CycleResult> cycles = new CopyOnWriteArrayList<>();
  private final List<Context> cycleContexts = new CopyOnWriteArrayList<>();
  private Agent agent;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
    elsewhere = Executors.newSingleThreadExecutor();
  }

  @AfterAll
  static void stopVertx() {
    elsewhere.shutdownNow();
    vertx.close().await();
  }

  @BeforeEach
  void newAgent() throws Exception {
    AgentConfig config =
        ConfigLoader.load(
            Map.of(
                "NODE_NAME", "n1",
                "KUBELET_URL", "https://127.0.0.1:10250",
                "POLL_INTERVAL", "100ms",
                "QUIET_PERIOD", "1s",
                "MIN_OBSERVATIONS", "1",
                "REPAIR_MODE", "off"),
            List.of());
    agent =
        new Agent(
            vertx,
            config,
            api,
            kubelet,
            new Metrics(new SimpleMeterRegistry(), "test", clock::millis),
            clock);
    agent.onCycle(
        c -> {
          cycles.add(c);
          cycleContexts.add(Vertx.currentContext());
        });
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  private Context agentContext() {
    return agent.onContext(() -> Future.succeededFuture(Vertx.currentContext())).await();
  }

  private CycleResult cycle() throws Exception {
    return agent.runCycle().await(5, TimeUnit.SECONDS);
  }

  @Test
  void cyclesFinishOnTheAgentsContextWhicheverThreadTheSourcesCompleteOn() throws Exception {
    kubelet.complete = view -> completeElsewhere(view);

    CycleResult r = cycle();

    assertThat(r.trusted()).isTrue();
    assertThat(cycleContexts).containsExactly(agentContext());
  }

  @Test
  void aSourceThatThrowsInsteadOfFailingCostsOneUntrustedCycle() throws Exception {
    kubelet.throwNext.set(new IllegalStateException("client is closed"));

    CycleResult bad = cycle();
    CycleResult good = cycle();

    assertThat(bad.trusted()).isFalse();
    assertThat(bad.trust().reasons()).contains(TrustGate.KUBELET_POLL_FAILED);
    assertThat(bad.kubeletError())
        .hasValueSatisfying(e -> assertThat(e).contains("client is closed"));
    assertThat(good.trusted()).isTrue();
  }

  @Test
  void stopWaitsForTheCycleInFlightAndNoCycleStartsAfterIt() {
    Promise<KubeletView> held = Promise.promise();
    kubelet.complete = view -> held.future();
    agent.start();
    await().until(() -> kubelet.polls.get() == 1);

    Future<Void> stopped = agent.stop();

    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> !stopped.isComplete());
    held.complete(kubelet.view());
    await().until(stopped::isComplete);
    assertThat(cycles).hasSize(1);
    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> kubelet.polls.get() == 1);
  }

  @Test
  void anAgentClosedBeforeItStartsNeverPolls() {
    agent.close();
    agent.start();

    await()
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> kubelet.polls.get() == 0);
  }

  @Test
  void theFirstSyncRunsACycleAtOnceInsteadOfAtTheNextTick() throws Exception {
    StubControlPlane late = new StubControlPlane();
    late.synced = false;
    CompletableFuture<Void> synced = new CompletableFuture<>();
    late.firstSyncStage = synced;
    AgentConfig hourly =
        ConfigLoader.load(
            Map.of(
                "NODE_NAME", "n1",
                "KUBELET_URL", "https://127.0.0.1:10250",
                "POLL_INTERVAL", "1h",
                "MIN_OBSERVATIONS", "1",
                "REPAIR_MODE", "off"),
            List.of());
    List<CycleResult> seen = new CopyOnWriteArrayList<>();
    try (Agent a =
        new Agent(
            vertx,
            hourly,
            late,
            kubelet,
            new Metrics(new SimpleMeterRegistry(), "test", clock::millis),
            clock)) {
      a.onCycle(seen::add);
      a.start();
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 1);
      assertThat(seen.getFirst().trust().reasons()).containsExactly(TrustGate.INFORMER_NOT_SYNCED);

      late.synced = true;
      synced.complete(null);

      // The next tick is an hour away: only the sync can have run this cycle.
      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 2);
      assertThat(seen.get(1).trusted()).isTrue();
      assertThat(kubelet.polls).hasValue(2);
    }
  }

  @Test
  void aWatchRestartHoldsTrustForTheQuietPeriod() throws Exception {
    assertThat(cycle().trusted()).isTrue();

    api.watchRestarts = 1;
    CycleResult restarted = cycle();
    clock.advance(Duration.ofMillis(999));
    CycleResult almost = cycle();
    clock.advance(Duration.ofMillis(1));
    CycleResult over = cycle();

    assertThat(restarted.trust().reasons()).containsExactly(TrustGate.QUIET_PERIOD);
    assertThat(almost.trust().reasons()).containsExactly(TrustGate.QUIET_PERIOD);
    assertThat(over.trusted()).isTrue();
    assertThat(cycle().trusted()).isTrue();
  }

  @Test
  void healthzFailsWhenNoCycleFinishedForTheStallTimeEvenBeforeTheFirstOne() throws Exception {
    HttpApi http =
        new HttpApi(
            vertx,
            "n1",
            agent,
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
            new Reports(),
            clock,
            Duration.ofSeconds(60));
    http.start(0).await(5, TimeUnit.SECONDS);
    try {
      assertThat(get(http, "/healthz").statusCode()).isEqualTo(200);
      clock.advance(Duration.ofSeconds(61));
      HttpResponse<String> neverRan = get(http, "/healthz");
      assertThat(neverRan.statusCode()).isEqualTo(503);
      assertThat(neverRan.body())
          .isEqualTo("{\"status\":\"stalled\",\"lastCycleAt\":null,\"cycle\":0}");

      CycleResult r = cycle();
      assertThat(get(http, "/healthz").body()).isEqualTo("ok\n");
      clock.advance(Duration.ofSeconds(60));
      assertThat(get(http, "/healthz").statusCode())
          .isEqualTo(200); // exactly the limit: still fine
      clock.advance(Duration.ofMillis(1));
      assertThat(get(http, "/healthz").body())
          .isEqualTo(
              "{\"status\":\"stalled\",\"lastCycleAt\":\""
                  + r.snapshot().now()
                  + "\",\"cycle\":1}");
    } finally {
      http.stop().await(5, TimeUnit.SECONDS);
    }
  }

  private static HttpResponse<String> get(HttpApi http, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  private static <T> Future<T> completeElsewhere(T value) {
    Promise<T> p = Promise.promise();
    elsewhere.execute(() -> p.complete(value));
    return p.future();
  }

  private final class StubControlPlane implements ControlPlaneSource {
    volatile long watchRestarts;
    volatile boolean synced = true;
    volatile CompletableFuture<Void> firstSyncStage = CompletableFuture.completedFuture(null);

    @Override
    public void start() {}

    @Override
    public ControlPlaneView snapshot(Instant now) {
      return new ControlPlaneView(Map.of(), now, synced, false, null, "1", 0, watchRestarts);
    }

    @Override
    public CompletionStage<Void> firstSync() {
      return firstSyncStage;
    }

    @Override
    public void close() {}
  }

  private final class StubKubelet implements KubeletSource {
    final AtomicInteger polls = new AtomicInteger();
    final AtomicReference<RuntimeException> throwNext = new AtomicReference<>();
    volatile java.util.function.Function<KubeletView, Future<KubeletView>> complete =
        Future::succeededFuture;

    KubeletView view() {
      return new KubeletView(Map.of(), clock.instant());
    }

    @Override
    public Future<KubeletView> pollPods() {
      polls.incrementAndGet();
      RuntimeException e = throwNext.getAndSet(null);
      if (e != null) {
        throw e;
      }
      return complete.apply(view());
    }

    @Override
    public Future<Optional<RuntimeView>> pollRunningPods() {
      return Future.succeededFuture(Optional.empty());
    }

    @Override
    public boolean runtimeAvailable() {
      return false;
    }

    @Override
    public String describe() {
      return "stub kubelet";
    }

    @Override
    public void close() {}
  }
}
