package dev.stateprobe.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.controlplane.ControlPlaneSource;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.kubelet.KubeletSource;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.policy.ConsistencyLevel;
import dev.stateprobe.policy.ConsistencyPolicy;
import dev.stateprobe.policy.InvalidPolicy;
import dev.stateprobe.policy.LabelSelector;
import dev.stateprobe.policy.PolicySet;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.PodRecordBuilder;
import dev.stateprobe.view.RuntimeView;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The loop with a policy source whose policies change between cycles (an in-memory fake of the
 * policy watch): one orphaned pod (the kubelet lists it, the API server has no such pod) whose
 * labels select it, confirmed after its level's window; an edit applies from the next cycle, a
 * deleted policy returns the pod to Strict, and an invalid policy is counted once per version.
 */
class AgentPoliciesIT {
  private static Vertx vertx;

  private final TestClock clock = new TestClock(Instant.parse("2026-11-26T10:00:00Z"));
  private final AtomicReference<PolicySet> policies = new AtomicReference<>(PolicySet.EMPTY);
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final PodRecord orphan =
      PodRecordBuilder.pod("shop", "pay-1").nodeName("n1").labels(Map.of("app", "pay")).build();
  private Agent agent;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() {
    vertx.close().await();
  }

  @BeforeEach
  void newAgent() throws Exception {
    AgentConfig config =
        ConfigLoader.load(
            Map.of(
                "NODE_NAME", "n1",
                "KUBELET_URL", "https://127.0.0.1:10250",
                "POLL_INTERVAL", "5s",
                "QUIET_PERIOD", "1s",
                "MIN_OBSERVATIONS", "1",
                "WINDOW_ORPHANED_POD", "60s",
                "REPAIR_MODE", "off"),
            List.of());
    agent =
        new Agent(
            vertx,
            config,
            new EmptyControlPlane(),
            new OneOrphanKubelet(),
            new Metrics(registry, "test", clock::millis),
            clock,
            policies::get);
  }

  @AfterEach
  void stopAgent() {
    agent.close();
  }

  private static ConsistencyPolicy pay(ConsistencyLevel level) {
    return new ConsistencyPolicy(
        "pay",
        "1",
        Set.of(),
        Optional.of(new LabelSelector(Map.of("app", "pay"), List.of())),
        level,
        ConsistencyPolicy.Overrides.NONE,
        "cluster");
  }

  private static PolicySet only(ConsistencyPolicy p) {
    return new PolicySet(List.of(p), List.of());
  }

  /** Runs a cycle every 5 s of the fake clock until the orphan is confirmed; its cycle index. */
  private int cyclesToConfirm() throws Exception {
    for (int i = 0; i < 40; i++) {
      CycleResult r = agent.runCycle().await(5, TimeUnit.SECONDS);
      assertThat(r.trusted()).as("cycle %d trusted: %s", i, r.trust()).isTrue();
      if (!r.confirmed().isEmpty()) {
        return i;
      }
      clock.advance(Duration.ofSeconds(5));
    }
    throw new AssertionError("never confirmed");
  }

  private CycleResult cycle() throws Exception {
    CycleResult r = agent.runCycle().await(5, TimeUnit.SECONDS);
    clock.advance(Duration.ofSeconds(5));
    return r;
  }

  @Test
  void aCriticalPodIsConfirmedSoonerAndNamesItsPolicy() throws Exception {
    policies.set(only(pay(ConsistencyLevel.CRITICAL)));
    assertThat(cyclesToConfirm()).isEqualTo(6); // 30 s
    TrackedDrift d = agent.last().confirmed().getFirst();
    assertThat(agent.last().policy(d).policyName()).isEqualTo("pay");
    assertThat(agent.last().policy(d).level()).isEqualTo(ConsistencyLevel.CRITICAL);
    assertThat(
            registry
                .get("stateprobe.drifts.confirmed.level")
                .tag("level", "critical")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void anEventualPodWaitsTwiceAsLongAndAStrictOneAsConfigured() throws Exception {
    policies.set(only(pay(ConsistencyLevel.EVENTUAL)));
    assertThat(cyclesToConfirm()).isEqualTo(24); // 120 s
  }

  @Test
  void anEditAppliesNextCycleAndADeleteReturnsThePodToStrict() throws Exception {
    policies.set(only(pay(ConsistencyLevel.EVENTUAL)));
    for (int i = 0; i < 10; i++) {
      assertThat(cycle().confirmed()).isEmpty(); // 45 s held: under Eventual's 120 s
    }
    policies.set(only(pay(ConsistencyLevel.CRITICAL)));
    CycleResult edited = cycle(); // 50 s held: over Critical's 30 s
    assertThat(edited.confirmed()).hasSize(1);
    assertThat(edited.policy(edited.confirmed().getFirst()).level())
        .isEqualTo(ConsistencyLevel.CRITICAL);
    policies.set(PolicySet.EMPTY);
    CycleResult deleted = cycle();
    assertThat(deleted.policy(deleted.drifts().getFirst()).level())
        .isEqualTo(ConsistencyLevel.STRICT);
    assertThat(deleted.policy(deleted.drifts().getFirst()).policy()).isEmpty();
  }

  @Test
  void anInvalidPolicyIsCountedOncePerVersionAndSelectsNothing() throws Exception {
    InvalidPolicy bad = new InvalidPolicy("broken", "7", "u", "spec.consistencyLevel", "missing");
    policies.set(new PolicySet(List.of(), List.of(bad)));
    cycle();
    cycle();
    assertThat(registry.get("stateprobe.policy.invalid").counter().count()).isEqualTo(1);
    assertThat(registry.get("stateprobe.policies").tag("state", "invalid").gauge().value())
        .isEqualTo(1);
    policies.set(
        new PolicySet(
            List.of(),
            List.of(new InvalidPolicy("broken", "8", "u", "spec.consistencyLevel", "missing"))));
    CycleResult r = cycle();
    assertThat(registry.get("stateprobe.policy.invalid").counter().count()).isEqualTo(2);
    assertThat(r.policy(r.drifts().getFirst()).level()).isEqualTo(ConsistencyLevel.STRICT);
  }

  private final class EmptyControlPlane implements ControlPlaneSource {
    @Override
    public void start() {}

    @Override
    public ControlPlaneView snapshot(Instant now) {
      return new ControlPlaneView(Map.of(), now, true, false, null, "1", 0, 0);
    }

    @Override
    public CompletionStage<Void> firstSync() {
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {}
  }

  private final class OneOrphanKubelet implements KubeletSource {
    @Override
    public Future<KubeletView> pollPods() {
      return Future.succeededFuture(new KubeletView(Map.of(orphan.uid(), orphan), clock.instant()));
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
      return "one orphan";
    }

    @Override
    public void close() {}
  }
}
