package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.policy.ConsistencyLevel;
import dev.stateprobe.policy.PolicySet;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.TestClock;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent's policy source against the simulated API server: policies created, edited and deleted
 * by someone else show up in the next snapshot; an invalid one is kept as invalid, named with its
 * field, and a fix replaces it; the agent only lists and watches.
 */
@Timeout(60)
class PolicyWatchIT {
  private static final Instant T0 = Instant.parse("2026-12-06T12:00:00Z");
  private static final ResourceDefinitionContext CPOL =
      new ResourceDefinitionContext.Builder()
          .withGroup("stateprobe.dev")
          .withVersion("v1alpha1")
          .withPlural("consistencypolicies")
          .withKind("ConsistencyPolicy")
          .withNamespaced(false)
          .build();

  private static SimApiServer api;
  private static KubernetesClient cluster;
  private static KubernetesClient agent;
  private static Vertx vertx;
  private static WorkerExecutor worker;

  private final TestClock clock = new TestClock(T0);
  private ApiServerClient client;
  private PolicyWatch watch;

  @BeforeAll
  static void startApi() {
    api = new SimApiServer().start();
    cluster = api.client();
    agent = api.newClient();
    vertx = Vertx.vertx();
    worker = vertx.createSharedWorkerExecutor("test-worker", 1);
  }

  @AfterAll
  static void stopApi() throws Exception {
    api.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @BeforeEach
  void setUp() {
    api.clearRequests();
    client = new ApiServerClient(vertx, agent.getConfiguration(), worker, clock);
    watch =
        new PolicyWatch(
            client,
            Arrays.stream(DriftKind.values()).map(DriftKind::wireName).collect(Collectors.toSet()),
            ListWatch.Settings.defaults()
                .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(2)),
            clock,
            new Random(7)::nextDouble);
  }

  @AfterEach
  void cleanUp() {
    watch.close();
    client.close();
    cluster.genericKubernetesResources(CPOL).delete();
    await().until(() -> cluster.genericKubernetesResources(CPOL).list().getItems().isEmpty());
  }

  private static void put(String name, Map<String, Object> spec) {
    GenericKubernetesResource p =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("stateprobe.dev/v1alpha1")
            .withKind("ConsistencyPolicy")
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withAdditionalProperties(Map.of("spec", spec))
            .build();
    cluster.genericKubernetesResources(CPOL).resource(p).createOr(op -> op.update());
  }

  private ConsistencyLevel levelOf(String name) {
    return watch.snapshot().named(name).map(p -> p.level()).orElse(null);
  }

  @Test
  void createEditDeleteAndAnInvalidPolicyReachTheSnapshot() throws Exception {
    assertThat(watch.snapshot()).isEqualTo(PolicySet.UNSYNCED);
    put(
        "payments",
        Map.of(
            "consistencyLevel",
            "Critical",
            "selector",
            Map.of("namespaces", java.util.List.of("shop"))));
    watch.start();
    watch.firstSync().toCompletableFuture().get(30, TimeUnit.SECONDS);
    PolicySet first = watch.snapshot();
    assertThat(first.synced()).isTrue();
    assertThat(first.valid()).hasSize(1);
    assertThat(first.winner("shop", Map.of()).orElseThrow().name()).isEqualTo("payments");
    assertThat(watch.snapshot()).isSameAs(first); // rebuilt only on change

    put("batch", Map.of("consistencyLevel", "Eventual"));
    await().until(() -> levelOf("batch") == ConsistencyLevel.EVENTUAL);
    put("payments", Map.of("consistencyLevel", "Strict"));
    await().until(() -> levelOf("payments") == ConsistencyLevel.STRICT);

    put(
        "broken",
        Map.of("consistencyLevel", "Critical", "overrides", Map.of("minObservations", 1)));
    await().until(() -> watch.snapshot().invalid().size() == 1);
    var bad = watch.snapshot().invalid().getFirst();
    assertThat(bad.name()).isEqualTo("broken");
    assertThat(bad.field()).isEqualTo("spec.overrides.minObservations");
    assertThat(bad.resourceVersion()).isNotEmpty();
    assertThat(watch.snapshot().named("broken")).isEmpty();

    put(
        "broken",
        Map.of("consistencyLevel", "Critical", "overrides", Map.of("minObservations", 2)));
    await().until(() -> levelOf("broken") == ConsistencyLevel.CRITICAL);
    assertThat(watch.snapshot().invalid()).isEmpty();

    cluster.genericKubernetesResources(CPOL).withName("payments").delete();
    await().until(() -> watch.snapshot().named("payments").isEmpty());
    assertThat(watch.snapshot().valid())
        .extracting(p -> p.name())
        .containsExactly("batch", "broken");

    // Read only: one list, watches, nothing else.
    assertThat(
            api.count(
                r ->
                    !r.backstage()
                        && "consistencypolicies".equals(r.resource())
                        && !r.verb().equals("list")
                        && !r.verb().equals("watch")))
        .isZero();
    assertThat(
            api.count(
                r ->
                    !r.backstage()
                        && "consistencypolicies".equals(r.resource())
                        && r.verb().equals("list")))
        .isEqualTo(1);
  }
}
