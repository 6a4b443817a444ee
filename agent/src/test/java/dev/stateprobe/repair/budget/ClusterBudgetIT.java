package dev.stateprobe.repair.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.budget.RepairBudget.Request;
import dev.stateprobe.repair.budget.RepairBudget.Slot;
import dev.stateprobe.repair.budget.SlotDecision.Reason;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.TestClock;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several budget clients (simulated agents, each with its own identity and API client) competing
 * for the slot Leases on one simulated API server, judged from outside: the grants each saw, and
 * the Leases as the API server has them.
 */
@Timeout(120)
class ClusterBudgetIT {
  private static final String NS = "state-probe";
  private static final ClusterBudget.Settings FAST =
      new ClusterBudget.Settings(
          Duration.ofMillis(20),
          Duration.ofMillis(200),
          Duration.ofSeconds(2),
          Duration.ofSeconds(1),
          3);

  private static SimApiServer api;
  private static Vertx vertx;
  private static WorkerExecutor worker;
  private final List<ClusterBudget> budgets = new ArrayList<>();
  private final List<KubernetesClient> clients = new ArrayList<>();
  private SimpleMeterRegistry registry;

  @BeforeAll
  static void startServer() {
    api = new SimApiServer().start();
    vertx = Vertx.vertx();
    worker = vertx.createSharedWorkerExecutor("state-probe-worker", 4);
  }

  @AfterAll
  static void stopServer() {
    worker.close();
    vertx.close().await();
    api.close();
  }

  @BeforeEach
  void clean() {
    api.up();
    api.client().leases().inNamespace(NS).delete();
    await().until(() -> api.client().leases().inNamespace(NS).list().getItems().isEmpty());
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void closeBudgets() {
    budgets.forEach(ClusterBudget::close);
    clients.forEach(KubernetesClient::close);
  }

  private ClusterBudget agent(String node, int slots, int cap, Clock clock) {
    KubernetesClient c = api.newClient();
    clients.add(c);
    ClusterBudget b =
        new ClusterBudget(
            new LeaseSlotStore(c, NS),
            new SlotDecision.Rules(slots, cap, FAST.skew()),
            FAST,
            node,
            vertx,
            worker,
            new Metrics(registry, "test", clock::millis),
            clock,
            new SplittableRandom(node.hashCode()));
    budgets.add(b);
    return b;
  }

  private static <T> T result(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Lease lease(int i) {
    return api.client().leases().inNamespace(NS).withName(SlotView.name(i)).get();
  }

  @Test
  void theSimulatorAnswersAStaleUpdateAndADuplicateCreateWith409AsKubeApiserverDoes() {
    KubernetesClient c = api.client();
    Lease l =
        new LeaseBuilder()
            .withNewMetadata()
            .withName("state-probe-slot-0")
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity("node-a")
            .endSpec()
            .build();
    Lease created = c.leases().inNamespace(NS).resource(l).create();
    assertThatThrownBy(() -> c.leases().inNamespace(NS).resource(l).create())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
    Lease first =
        new LeaseBuilder(created).editSpec().withHolderIdentity("node-b").endSpec().build();
    c.leases().inNamespace(NS).resource(first).update();
    Lease stale =
        new LeaseBuilder(created).editSpec().withHolderIdentity("node-c").endSpec().build();
    assertThatThrownBy(() -> c.leases().inNamespace(NS).resource(stale).update())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409));
    assertThat(lease(0).getSpec().getHolderIdentity()).isEqualTo("node-b");
  }

  @Test
  void tenAgentsForThreeSlotsNeverHoldMoreThanThreeAndLeakNone() throws Exception {
    int agents = 10;
    int repairsEach = 5;
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    Map<Integer, String> slotUser = new ConcurrentHashMap<>();
    List<String> violations = new CopyOnWriteArrayList<>();
    List<Future<Void>> done = new ArrayList<>();
    SplittableRandom lengths = new SplittableRandom(11);
    for (int a = 0; a < agents; a++) {
      String node = "node-" + a;
      ClusterBudget b = agent(node, 3, 0, Clock.systemUTC());
      Future<Void> chain = Future.succeededFuture();
      for (int r = 0; r < repairsEach; r++) {
        long scriptMillis = 5 + lengths.nextInt(60);
        chain =
            chain.compose(
                v ->
                    b.acquire(new Request(Request.NORMAL, Duration.ofSeconds(30), x -> {}))
                        .compose(
                            slot -> {
                              String before = slotUser.putIfAbsent(slot.index(), node);
                              if (before != null) {
                                violations.add(
                                    slot.name() + " granted to " + node + " while " + before);
                              }
                              int now = running.incrementAndGet();
                              maxRunning.accumulateAndGet(now, Math::max);
                              Promise<Void> script = Promise.promise();
                              vertx.setTimer(scriptMillis, id -> script.complete());
                              return script
                                  .future()
                                  .compose(
                                      x -> {
                                        running.decrementAndGet();
                                        slotUser.remove(slot.index(), node);
                                        return b.release(slot);
                                      });
                            }));
      }
      done.add(chain);
    }
    result(Future.all(done));
    assertThat(violations).isEmpty();
    assertThat(maxRunning.get()).isBetween(1, 3);
    List<Lease> leases = api.client().leases().inNamespace(NS).list().getItems();
    assertThat(leases)
        .extracting(l -> l.getMetadata().getName())
        .allMatch(n -> SlotView.indexOf(n) >= 0 && SlotView.indexOf(n) < 3);
    assertThat(leases).allSatisfy(l -> assertThat(l.getSpec().getHolderIdentity()).isNull());
    int starts = 0;
    for (Lease l : leases) {
      starts += Starts.parse(l.getMetadata().getAnnotations().get(Starts.ANNOTATION)).size();
    }
    // Every grant was written as a start on its slot: the hour's count lost none to a race.
    assertThat(starts).isEqualTo(agents * repairsEach);
    for (ClusterBudget b : budgets) {
      assertThat(result(b.heldSlots())).isEmpty();
    }
    System.out.printf(
        "ClusterBudgetIT: %d grants, max %d at once, lease conflicts %s%n",
        agents * repairsEach,
        maxRunning.get(),
        registry.find("stateprobe.cluster.lease.errors").counters().stream()
            .filter(c -> "conflict".equals(c.getId().getTag("kind")))
            .mapToDouble(c -> c.count())
            .sum());
  }

  @Test
  void aHolderThatStopsRenewingLosesItsSlotAtExpiryAndARenewingOneKeepsIt() throws Exception {
    TestClock clock = new TestClock(Instant.parse("2026-12-06T12:00:00Z"));
    ClusterBudget a = agent("node-a", 1, 0, clock);
    ClusterBudget b = agent("node-b", 1, 0, clock);
    Slot held = result(a.acquire(new Request(Request.NORMAL, Duration.ofSeconds(1), x -> {})));
    assertThat(lease(0).getSpec().getHolderIdentity()).isEqualTo("node-a");
    // Held for 1 s + 2 s margin: renewed every second of real time, at the (fake) clock's time.
    clock.advance(Duration.ofSeconds(2));
    Instant renewedAt = clock.instant();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> !lease(0).getSpec().getRenewTime().toInstant().isBefore(renewedAt));

    List<Reason> told = new CopyOnWriteArrayList<>();
    Future<Slot> waiting = b.acquire(new Request(Request.NORMAL, Duration.ofSeconds(1), told::add));
    await().atMost(Duration.ofSeconds(20)).until(() -> told.contains(Reason.NO_FREE_SLOT));
    assertThat(waiting.isComplete()).isFalse();

    a.abandon(); // killed: no renewal, no release
    assertThat(held.index()).isZero();
    // Duration 3 s plus 1 s skew after the last renewal: then it is free.
    clock.advance(Duration.ofSeconds(5));
    Slot taken = result(waiting);
    assertThat(taken.index()).isZero();
    assertThat(lease(0).getSpec().getHolderIdentity()).isEqualTo("node-b");
  }

  @Test
  void theHourlyCapStopsStartsUntilTheOldestLeavesTheHour() throws Exception {
    TestClock clock = new TestClock(Instant.parse("2026-12-06T12:00:00Z"));
    List<ClusterBudget> agents = List.of(agent("n-0", 3, 4, clock), agent("n-1", 3, 4, clock));
    for (int i = 0; i < 4; i++) {
      ClusterBudget b = agents.get(i % 2);
      Slot s = result(b.acquire(new Request(Request.NORMAL, Duration.ofSeconds(10), x -> {})));
      result(b.release(s));
      clock.advance(Duration.ofMinutes(1));
    }
    List<Reason> told = new CopyOnWriteArrayList<>();
    Future<Slot> fifth =
        agents.get(0).acquire(new Request(Request.NORMAL, Duration.ofSeconds(10), told::add));
    await().atMost(Duration.ofSeconds(20)).until(() -> told.contains(Reason.HOURLY_CAP));
    assertThat(fifth.isComplete()).isFalse();
    // The first start (12:00) leaves the hour at 13:00.
    clock.set(Instant.parse("2026-12-06T13:00:01Z"));
    assertThat(result(fifth).index()).isBetween(0, 2);
    assertThat(
            registry
                .find("stateprobe.cluster.budget.waits")
                .tag("reason", "hourly_cap")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void aHigherPriorityRequestOnTheNodeJumpsAheadOfAnEarlierLowerOne() throws Exception {
    ClusterBudget other = agent("node-o", 1, 0, Clock.systemUTC());
    ClusterBudget node = agent("node-n", 1, 0, Clock.systemUTC());
    Slot held = result(other.acquire(new Request(Request.NORMAL, Duration.ofSeconds(30), x -> {})));
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    List<Reason> lowTold = new CopyOnWriteArrayList<>();
    Future<Slot> low =
        node.acquire(new Request(Request.NORMAL, Duration.ofSeconds(30), lowTold::add))
            .andThen(ar -> order.add("low"));
    await().atMost(Duration.ofSeconds(20)).until(() -> lowTold.contains(Reason.NO_FREE_SLOT));
    Future<Slot> high =
        node.acquire(new Request(Request.NORMAL + 10, Duration.ofSeconds(30), x -> {}))
            .andThen(ar -> order.add("high"));
    result(other.release(held));
    Slot first = result(high);
    assertThat(low.isComplete()).isFalse();
    result(node.release(first));
    result(low);
    assertThat(order).containsExactly("high", "low");
  }

  @Test
  void anUnreachableApiServerMeansNoSlotUntilItAnswers() throws Exception {
    ClusterBudget b = agent("node-e", 2, 0, Clock.systemUTC());
    api.down();
    List<Reason> told = new CopyOnWriteArrayList<>();
    Future<Slot> f = b.acquire(new Request(Request.NORMAL, Duration.ofSeconds(30), told::add));
    await().atMost(Duration.ofSeconds(30)).until(() -> told.contains(Reason.API_ERROR));
    assertThat(f.isComplete()).isFalse();
    assertThat(
            registry
                .find("stateprobe.cluster.lease.errors")
                .tag("call", "list")
                .tag("kind", "error")
                .counter()
                .count())
        .isGreaterThanOrEqualTo(1.0);
    api.up();
    assertThat(result(f).index()).isBetween(0, 1);
    assertThat(registry.find("stateprobe.cluster.slot.held").gauge().value()).isEqualTo(1.0);
  }
}
