package dev.stateprobe.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The recorder against the simulated API server: what lands in events.k8s.io/v1, and when. */
@Timeout(60)
class EventRecorderIT {
  private static final PodRef CART = new PodRef("shop", "cart-1", "uid-cart-1");
  private static final PodRef WEB = new PodRef("shop", "web-1", "uid-web-1");
  private static final Instant T0 = Instant.parse("2026-11-01T10:00:00Z");

  private static SimApiServer api;
  private static Vertx vertx;
  private KubernetesClient cluster;
  private WorkerExecutor worker;
  private SimpleMeterRegistry registry;
  private TestClock clock;
  private EventRecorder recorder;
  private Context context;

  @BeforeAll
  static void startServer() {
    api = new SimApiServer().start();
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopServer() {
    api.close();
    vertx.close().await();
  }

  @BeforeEach
  void setUp() {
    cluster = api.client();
    cluster
        .events()
        .v1()
        .events()
        .inAnyNamespace()
        .list()
        .getItems()
        .forEach(e -> cluster.resource(e).delete());
    api.up();
    api.clearRequests();
    worker = vertx.createSharedWorkerExecutor("state-probe-worker", 2);
    registry = new SimpleMeterRegistry();
    clock = new TestClock(T0);
    recorder =
        new EventRecorder(
            api.newClient(), worker, "node-1", new Metrics(registry, "test", clock::millis), clock);
    context = vertx.getOrCreateContext();
  }

  @AfterEach
  void tearDown() {
    worker.close();
  }

  /** Emits on one Vert.x context, as the agent does, and waits until every write is done. */
  private void emit(List<Supplier<Future<Void>>> emits) throws Exception {
    Promise<Void> all = Promise.promise();
    context.runOnContext(
        v -> {
          List<Future<Void>> fs = new ArrayList<>();
          emits.forEach(e -> fs.add(e.get()));
          Future.all(fs).<Void>mapEmpty().onComplete(all);
        });
    all.future().await(20, TimeUnit.SECONDS);
  }

  private void emit(Supplier<Future<Void>> e) throws Exception {
    emit(List.of(e));
  }

  private Supplier<Future<Void>> started(PodRef pod, String note) {
    return () -> recorder.pod(pod, EventRecorder.Type.NORMAL, "RepairStarted", "Repair", note);
  }

  private List<Event> events() {
    return cluster.events().v1().events().inAnyNamespace().list().getItems().stream()
        .sorted(
            Comparator.comparing((Event e) -> e.getRegarding().getName())
                .thenComparing(Event::getReason))
        .toList();
  }

  private double written(String reason) {
    Counter c = registry.find("stateprobe.events").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void anEventSaysWhatHappenedToWhichPodAndWho() throws Exception {
    emit(started(CART, "stop-sandbox attempt 1"));

    Event e = events().getFirst();
    assertThat(e.getMetadata().getNamespace()).isEqualTo("shop");
    assertThat(e.getMetadata().getName())
        .isEqualTo(EventRecorder.podEventName(CART, "RepairStarted", T0))
        .matches(
            "cart-1\\.repairstarted\\.[0-9a-f]{8}\\."
                + Long.toHexString(T0.getEpochSecond() / 600));
    assertThat(e.getRegarding().getKind()).isEqualTo("Pod");
    assertThat(e.getRegarding().getUid()).isEqualTo("uid-cart-1");
    assertThat(e.getReason()).isEqualTo("RepairStarted");
    assertThat(e.getAction()).isEqualTo("Repair");
    assertThat(e.getType()).isEqualTo("Normal");
    assertThat(e.getNote()).isEqualTo("stop-sandbox attempt 1");
    assertThat(e.getReportingController()).isEqualTo("stateprobe.dev/agent");
    assertThat(e.getReportingInstance()).isEqualTo("stateprobe.dev/agent-node-1");
    assertThat(e.getEventTime().getTime()).isEqualTo("2026-11-01T10:00:00.000000Z");
    assertThat(e.getSeries()).isNull();
    assertThat(written("RepairStarted")).isEqualTo(1);
  }

  @Test
  void repeatsEmittedBackToBackJoinOneEventWhoseSeriesCounts() throws Exception {
    // All five are handed over before the first is written: the repeats must wait for the create.
    emit(
        List.of(
            started(CART, "a 1"),
            started(CART, "a 2"),
            started(CART, "a 3"),
            started(CART, "a 4"),
            started(CART, "a 5")));

    assertThat(events()).hasSize(1);
    Event e = events().getFirst();
    assertThat(e.getSeries().getCount()).isEqualTo(5);
    // events.k8s.io/v1 refuses a change of note in an update: the first one stays.
    assertThat(e.getNote()).isEqualTo("a 1");
    assertThat(written("RepairStarted")).isEqualTo(5);
    // Two reads (this window's and the last one's name: no predecessor's series), one create,
    // four patches of series alone.
    assertThat(api.count(r -> "events".equals(r.resource()) && !r.backstage())).isEqualTo(7);
    assertThat(
            api.count(
                r -> "events".equals(r.resource()) && r.verb().equals("get") && !r.backstage()))
        .isEqualTo(2);
  }

  @Test
  void otherPodsAndOtherReasonsAreEventsOfTheirOwn() throws Exception {
    emit(
        List.of(
            started(CART, "x"),
            started(WEB, "y"),
            () -> recorder.pod(CART, EventRecorder.Type.WARNING, "RepairFailed", "Repair", "z")));

    assertThat(events())
        .extracting(e -> e.getRegarding().getName() + "/" + e.getReason() + "/" + e.getType())
        .containsExactly(
            "cart-1/RepairFailed/Warning",
            "cart-1/RepairStarted/Normal",
            "web-1/RepairStarted/Normal");
  }

  @Test
  void aRepeatAfterTheSeriesWindowIsANewEvent() throws Exception {
    emit(started(CART, "first"));
    clock.advance(EventRecorder.SERIES_WINDOW);
    emit(started(CART, "later"));

    assertThat(events()).extracting(Event::getNote).containsExactlyInAnyOrder("first", "later");
    assertThat(events()).allSatisfy(e -> assertThat(e.getSeries()).isNull());
  }

  @Test
  void aRepeatWhoseEventIsGoneIsWrittenAsANewEventNotLost() throws Exception {
    emit(started(CART, "first"));
    // The API server's event TTL (or a person) removed it.
    events().forEach(e -> cluster.resource(e).delete());
    clock.advance(Duration.ofSeconds(1));
    emit(started(CART, "second"));
    emit(started(CART, "third"));

    assertThat(events()).hasSize(1);
    Event e = events().getFirst();
    assertThat(e.getNote()).isEqualTo("second");
    assertThat(e.getSeries().getCount()).isEqualTo(2);
    assertThat(written("RepairStarted")).isEqualTo(3);
  }

  private EventRecorder nextLifetime() {
    return new EventRecorder(
        api.newClient(), worker, "node-1", new Metrics(registry, "test", clock::millis), clock);
  }

  @Test
  void aRestartedAgentContinuesTheSeriesItsPredecessorBegan() throws Exception {
    emit(started(CART, "before the restart"));
    clock.advance(Duration.ofMinutes(3));
    recorder = nextLifetime();
    emit(started(CART, "after the restart"));

    assertThat(events()).hasSize(1);
    Event e = events().getFirst();
    assertThat(e.getSeries().getCount()).isEqualTo(2);
    assertThat(e.getSeries().getLastObservedTime().getTime())
        .isEqualTo("2026-11-01T10:03:00.000000Z");
    assertThat(e.getEventTime().getTime()).isEqualTo("2026-11-01T10:00:00.000000Z");
    assertThat(e.getNote()).isEqualTo("before the restart");
  }

  @Test
  void aRestartInTheNextWindowStillFindsASeriesThatIsLive() throws Exception {
    clock.advance(Duration.ofMinutes(7)); // 10:07: the series begins in the window of 10:00
    emit(started(CART, "first"));
    clock.advance(Duration.ofMinutes(6)); // 10:13: another window; the series is live to 10:17
    recorder = nextLifetime();
    emit(started(CART, "second"));
    emit(started(CART, "third"));

    assertThat(events()).hasSize(1);
    assertThat(events().getFirst().getSeries().getCount()).isEqualTo(3);
  }

  @Test
  void aRestartAfterTheSeriesEndedBeginsANewOne() throws Exception {
    emit(started(CART, "old"));
    clock.advance(EventRecorder.SERIES_WINDOW.plusSeconds(1));
    recorder = nextLifetime();
    emit(started(CART, "new"));

    assertThat(events()).extracting(Event::getNote).containsExactlyInAnyOrder("old", "new");
    assertThat(events()).allSatisfy(e -> assertThat(e.getSeries()).isNull());
  }

  @Test
  void aRecreatedPodsEventsAreNotItsPredecessorsSeries() throws Exception {
    emit(started(CART, "old pod"));
    emit(started(new PodRef("shop", "cart-1", "uid-cart-1-new"), "new pod"));

    assertThat(events()).hasSize(2);
    assertThat(events()).allSatisfy(e -> assertThat(e.getSeries()).isNull());
  }

  @Test
  void aWriteTheApiServerRefusesIsNotCountedAndFailsNobody() throws Exception {
    api.down();
    emit(started(CART, "lost"));
    api.up();
    emit(started(CART, "kept"));

    assertThat(events()).extracting(Event::getNote).containsExactly("kept");
    assertThat(events().getFirst().getSeries()).isNull();
    assertThat(written("RepairStarted")).isEqualTo(1);
  }

  @Test
  void nodeEventsAreInTheDefaultNamespace() throws Exception {
    emit(
        () ->
            recorder.node(
                EventRecorder.Type.WARNING, "CircuitOpen", "Repair", "4 confirmed drifts"));

    Event e = events().getFirst();
    assertThat(e.getMetadata().getNamespace()).isEqualTo("default");
    assertThat(e.getRegarding().getKind()).isEqualTo("Node");
    assertThat(e.getRegarding().getName()).isEqualTo("node-1");
    assertThat(e.getType()).isEqualTo("Warning");
  }
}
