package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.sim.SimApiRequest;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.TestClock;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link ListWatch} of the fleet's two extra watches against the simulated API server: every
 * ConsistencyPolicy (cluster-scoped custom resource) and one Lease watched by name with {@code
 * fieldSelector=metadata.name=...}.
 */
// A hung watch fails the test instead of the build.
@Timeout(60)
class ListWatchIT {
  private static final Instant T0 = Instant.parse("2026-12-06T12:00:00Z");
  private static final String NS = "state-probe";
  private static final String BRAKE = "state-probe-brake";
  private static final ResourceDefinitionContext CPOL =
      new ResourceDefinitionContext.Builder()
          .withGroup("stateprobe.dev")
          .withVersion("v1alpha1")
          .withPlural("consistencypolicies")
          .withKind("ConsistencyPolicy")
          .withNamespaced(false)
          .build();
  private static final ResourceRef POLICIES =
      ResourceRef.cluster(
          "stateprobe.dev", "v1alpha1", "consistencypolicies", "ConsistencyPolicyList");
  private static final ResourceRef THE_BRAKE =
      ResourceRef.namespaced("coordination.k8s.io", "v1", "leases", "LeaseList", NS).named(BRAKE);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static SimApiServer api;
  private static KubernetesClient cluster;
  private static KubernetesClient agent;
  private static Vertx vertx;
  private static WorkerExecutor worker;

  private final TestClock clock = new TestClock(T0);
  private ApiServerClient client;
  private ListWatch<?> source;

  /** What the policy engineer's decoder would make of a policy; refuses an unknown level. */
  record Policy(String name, String level) {}

  /** A policy by the streaming-parser decoder: only name and level are read. */
  static Policy readPolicy(JsonParser p) {
    String name = null;
    String level = null;
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw new IllegalArgumentException("not an object");
    }
    String field;
    while ((field = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      if (field.equals("metadata") && t == JsonToken.START_OBJECT) {
        String m;
        while ((m = p.nextName()) != null) {
          JsonToken v = p.nextToken();
          if (m.equals("name") && v == JsonToken.VALUE_STRING) {
            name = p.getString();
          } else {
            p.skipChildren();
          }
        }
      } else if (field.equals("spec") && t == JsonToken.START_OBJECT) {
        String s;
        while ((s = p.nextName()) != null) {
          JsonToken v = p.nextToken();
          if (s.equals("consistencyLevel") && v == JsonToken.VALUE_STRING) {
            level = p.getString();
          } else {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
    if (!Set.of("Eventual", "Strict", "Critical").contains(level)) {
      throw new IllegalArgumentException("spec.consistencyLevel is " + level);
    }
    return new Policy(name, level);
  }

  /** The brake as the brake engineer's decoder might read it: the raw bytes, any JSON reader. */
  record Brake(String namespace, String name, String holder) {}

  static Brake readBrake(byte[] json, int offset, int length) {
    JsonNode n =
        JSON.readTree(new String(json, offset, length, java.nio.charset.StandardCharsets.UTF_8));
    return new Brake(
        n.path("metadata").path("namespace").asString(null),
        n.path("metadata").path("name").asString(null),
        n.path("spec").path("holderIdentity").asString(null));
  }

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

  private static ListWatch.Settings settings() {
    return ListWatch.Settings.defaults()
        .withBackoff(Duration.ofMillis(100), Duration.ofMillis(3200));
  }

  @BeforeEach
  void setUp() {
    api.clearRequests();
    api.streamingLists(false);
    client = new ApiServerClient(vertx, agent.getConfiguration(), worker, clock);
  }

  @AfterEach
  void cleanUp() {
    if (source != null) {
      source.close();
    }
    client.close();
    api.acceptWatches();
    api.bookmarkEvery(Duration.ofSeconds(10));
    cluster.genericKubernetesResources(CPOL).delete();
    cluster.resources(Lease.class).inAnyNamespace().delete();
    await()
        .until(
            () ->
                cluster.genericKubernetesResources(CPOL).list().getItems().isEmpty()
                    && cluster.resources(Lease.class).inAnyNamespace().list().getItems().isEmpty());
  }

  private ListWatch<Policy> policies(ListWatch.Settings settings) {
    ListWatch<Policy> lw =
        ListWatch.of(
            client,
            POLICIES,
            ObjectDecoder.streaming(ListWatchIT::readPolicy),
            settings,
            clock,
            new Random(7)::nextDouble);
    source = lw;
    return lw;
  }

  private ListWatch<Brake> brake() {
    ListWatch<Brake> lw =
        ListWatch.of(
            client,
            THE_BRAKE,
            ListWatchIT::readBrake,
            settings(),
            clock,
            new Random(7)::nextDouble);
    source = lw;
    return lw;
  }

  private static void putPolicy(String name, String level) {
    GenericKubernetesResource p =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("stateprobe.dev/v1alpha1")
            .withKind("ConsistencyPolicy")
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withAdditionalProperties(Map.of("spec", Map.of("consistencyLevel", level)))
            .build();
    cluster.genericKubernetesResources(CPOL).resource(p).createOr(op -> op.update());
  }

  private static void deletePolicy(String name) {
    cluster.genericKubernetesResources(CPOL).withName(name).delete();
  }

  private static void putLease(String namespace, String name, String holder) {
    Lease l =
        new LeaseBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(holder)
            .endSpec()
            .build();
    cluster.resources(Lease.class).inNamespace(namespace).resource(l).createOr(op -> op.update());
  }

  private static Map<String, Policy> expectedPolicies() {
    Map<String, Policy> m = new java.util.HashMap<>();
    for (GenericKubernetesResource r : cluster.genericKubernetesResources(CPOL).list().getItems()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> spec = (Map<String, Object>) r.getAdditionalProperties().get("spec");
      String level = String.valueOf(spec.get("consistencyLevel"));
      if (Set.of("Eventual", "Strict", "Critical").contains(level)) {
        m.put(r.getMetadata().getName(), new Policy(r.getMetadata().getName(), level));
      }
    }
    return m;
  }

  private static long agentRequests(String verb, String resource) {
    return api.count(
        r ->
            !r.backstage()
                && r.verb().equals(verb)
                && resource.equals(r.resource())
                && (!verb.equals("watch") || r.code() == 101));
  }

  /**
   * The client sees its watch open a moment before the server has registered it; a fault injected
   * in between would miss it.
   */
  private static void awaitServerSideWatch() {
    await().until(() -> api.openWatches() == 1);
  }

  @Test
  void clusterScopedPoliciesAreListedThenAddModifyAndDeleteAreFollowed() {
    putPolicy("critical-payments", "Critical");
    putPolicy("eventual-batch", "Eventual");
    ListWatch<Policy> lw = policies(settings());
    List<ListWatch.Snapshot<Policy>> seen = new CopyOnWriteArrayList<>();
    lw.onChange(seen::add);
    lw.start();

    lw.firstSync().toCompletableFuture().join();
    ListWatch.Snapshot<Policy> first = lw.snapshot();
    assertThat(first.synced()).isTrue();
    assertThat(first.relisting()).isFalse();
    assertThat(first.objects())
        .containsOnlyKeys("critical-payments", "eventual-batch")
        .containsEntry("critical-payments", new Policy("critical-payments", "Critical"));
    assertThat(first.resourceVersion()).isNotBlank();
    assertThat(seen).isNotEmpty();

    putPolicy("strict-web", "Strict");
    putPolicy("eventual-batch", "Strict");
    deletePolicy("critical-payments");

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> lw.snapshot().objects().equals(expectedPolicies()));
    assertThat(lw.snapshot().objects())
        .containsOnlyKeys("eventual-batch", "strict-web")
        .containsEntry("eventual-batch", new Policy("eventual-batch", "Strict"));
    assertThat(seen.getLast().objects()).isEqualTo(lw.snapshot().objects());
    // The first snapshot is a moment, not a live map.
    assertThat(first.objects()).containsKey("critical-payments");
    assertThat(lw.decodeFailures()).isZero();
    assertThat(lw.relists()).isZero();
    assertThat(agentRequests("list", "consistencypolicies")).isEqualTo(1);
    assertThat(
            api.count(
                r ->
                    !r.backstage()
                        && "consistencypolicies".equals(r.resource())
                        && "stateprobe.dev".equals(r.apiGroup())
                        && r.namespace() == null))
        .isEqualTo(api.count(r -> !r.backstage() && "consistencypolicies".equals(r.resource())));
  }

  @Test
  void aPagedListOfPoliciesFollowsItsContinueTokens() {
    for (int i = 0; i < 7; i++) {
      putPolicy("p" + i, "Strict");
    }
    ListWatch<Policy> lw = policies(settings().withListPageSize(3));
    lw.start();

    lw.firstSync().toCompletableFuture().join();
    assertThat(lw.snapshot().objects()).hasSize(7).isEqualTo(expectedPolicies());
    assertThat(lw.listRequests()).isEqualTo(3);
    assertThat(
            api.count(
                r ->
                    !r.backstage()
                        && r.verb().equals("list")
                        && "consistencypolicies".equals(r.resource())
                        && r.queryParameter("continue") != null))
        .isEqualTo(2);
  }

  @Test
  void aDroppedPolicyWatchResumesFromItsLastVersionWithoutAList() {
    putPolicy("a", "Strict");
    ListWatch<Policy> lw = policies(settings());
    lw.start();
    lw.firstSync().toCompletableFuture().join();
    awaitServerSideWatch();

    api.refuseWatches();
    await().until(() -> lw.snapshot().relisting());
    putPolicy("b", "Critical");
    putPolicy("a", "Eventual");
    api.acceptWatches();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> !lw.snapshot().relisting() && lw.snapshot().objects().equals(expectedPolicies()));
    assertThat(lw.snapshot().objects()).containsOnlyKeys("a", "b");
    assertThat(lw.relists()).isZero();
    assertThat(lw.listRequests()).isEqualTo(1);
    assertThat(agentRequests("list", "consistencypolicies")).isEqualTo(1);
    assertThat(lw.watchRestarts()).isEqualTo(1);
    // The resume asked for the events after the version it had.
    assertThat(
            api.requests().stream()
                .filter(
                    r ->
                        !r.backstage()
                            && r.verb().equals("watch")
                            && "consistencypolicies".equals(r.resource())
                            && r.code() == 101)
                .map(r -> r.queryParameter("resourceVersion"))
                .toList())
        .hasSize(2)
        .allSatisfy(rv -> assertThat(rv).isNotBlank());
  }

  @Test
  void aCompactedVersionAnswers410AndThePoliciesAreListedAgain() {
    putPolicy("a", "Strict");
    putPolicy("b", "Strict");
    ListWatch<Policy> lw = policies(settings());
    lw.start();
    lw.firstSync().toCompletableFuture().join();
    awaitServerSideWatch();

    api.refuseWatches();
    await().until(() -> lw.snapshot().relisting());
    deletePolicy("a");
    putPolicy("c", "Critical");
    clock.advance(Duration.ofSeconds(5));
    api.compact();
    api.acceptWatches();

    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> lw.relists() == 1 && !lw.snapshot().relisting());
    assertThat(lw.snapshot().objects()).isEqualTo(expectedPolicies()).containsOnlyKeys("b", "c");
    assertThat(agentRequests("list", "consistencypolicies")).isEqualTo(2);
  }

  @Test
  void aPolicyThatDoesNotDecodeIsCountedAndTheOthersStay() {
    putPolicy("good", "Strict");
    putPolicy("bad", "Sometimes");
    ListWatch<Policy> lw = policies(settings());
    lw.start();
    lw.firstSync().toCompletableFuture().join();

    assertThat(lw.snapshot().objects()).containsOnlyKeys("good");
    assertThat(lw.decodeFailures()).isEqualTo(1);

    // A later bad version of a good policy: counted, and its last good value stays.
    putPolicy("good", "Never");
    await().until(() -> lw.decodeFailures() == 2);
    assertThat(lw.snapshot().objects()).containsEntry("good", new Policy("good", "Strict"));

    putPolicy("bad", "Critical");
    await().until(() -> lw.snapshot().objects().containsKey("bad"));
    assertThat(lw.snapshot().objects().get("bad").level()).isEqualTo("Critical");
    assertThat(lw.relists()).isZero();
  }

  @Test
  void aListPageLargerThanTheLimitIsRefusedAndRetriedNeverHalfApplied() {
    for (int i = 0; i < 5; i++) {
      putPolicy("policy-with-a-long-name-" + i, "Strict");
    }
    ListWatch<Policy> lw = policies(settings().withMaxListBodyBytes(200));
    lw.start();

    await().until(() -> agentRequests("list", "consistencypolicies") >= 3);
    assertThat(lw.hasSynced()).isFalse();
    assertThat(lw.snapshot().synced()).isFalse();
    assertThat(lw.snapshot().objects()).isEmpty();
    assertThat(agentRequests("watch", "consistencypolicies")).isZero();
  }

  @Test
  void theBrakeIsWatchedByNameAndOtherLeasesNeverShow() {
    api.streamingLists(true);
    putLease(NS, "slot-0", "node-a");
    putLease("other", BRAKE, "someone-else");
    ListWatch<Brake> lw = brake();
    List<ListWatch.Snapshot<Brake>> seen = new CopyOnWriteArrayList<>();
    lw.onChange(seen::add);
    lw.start();
    lw.firstSync().toCompletableFuture().join();
    assertThat(lw.snapshot().objects()).isEmpty();
    assertThat(lw.streamingListSupported()).contains(true);

    putLease(NS, BRAKE, "coordinator-0");
    await().until(() -> lw.snapshot().objects().containsKey(NS + "/" + BRAKE));
    assertThat(lw.snapshot().objects())
        .containsOnly(Map.entry(NS + "/" + BRAKE, new Brake(NS, BRAKE, "coordinator-0")));

    int before = seen.size();
    putLease(NS, "slot-0", "node-b");
    putLease(NS, "slot-1", "node-c");
    putLease("other", BRAKE, "someone-else-2");
    putLease(NS, BRAKE, "coordinator-1");
    await()
        .until(
            () ->
                new Brake(NS, BRAKE, "coordinator-1")
                    .equals(lw.snapshot().objects().get(NS + "/" + BRAKE)));
    assertThat(lw.snapshot().objects()).hasSize(1);
    // Only the brake's own change reached the listener: the other leases were never sent.
    assertThat(seen.size() - before).isEqualTo(1);

    cluster.resources(Lease.class).inNamespace(NS).withName(BRAKE).delete();
    await().until(() -> lw.snapshot().objects().isEmpty());
    assertThat(lw.decodeFailures()).isZero();

    // Every request named the brake, as an authorizer with resourceNames sees it.
    List<SimApiRequest> mine =
        api.requests().stream()
            .filter(r -> !r.backstage() && "leases".equals(r.resource()))
            .toList();
    assertThat(mine)
        .isNotEmpty()
        .allSatisfy(
            r -> {
              assertThat(r.name()).isEqualTo(BRAKE);
              assertThat(r.namespace()).isEqualTo(NS);
              assertThat(r.apiGroup()).isEqualTo("coordination.k8s.io");
              assertThat(r.verb()).isIn("list", "watch");
            });
  }

  @Test
  void theBrakeWatchResumesAfterADropAndReListsAfter410() {
    putLease(NS, BRAKE, "coordinator-0");
    ListWatch<Brake> lw = brake();
    lw.start();
    lw.firstSync().toCompletableFuture().join();
    assertThat(lw.snapshot().objects()).containsOnlyKeys(NS + "/" + BRAKE);
    awaitServerSideWatch();

    api.dropWatches();
    putLease(NS, BRAKE, "coordinator-1");
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                lw.watchRestarts() >= 1
                    && new Brake(NS, BRAKE, "coordinator-1")
                        .equals(lw.snapshot().objects().get(NS + "/" + BRAKE)));
    assertThat(lw.relists()).isZero();
    assertThat(agentRequests("list", "leases")).isEqualTo(1);

    awaitServerSideWatch();
    api.refuseWatches();
    await().until(() -> lw.snapshot().relisting());
    putLease(NS, BRAKE, "coordinator-2");
    api.compact();
    api.acceptWatches();
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> lw.relists() == 1 && !lw.snapshot().relisting());
    assertThat(lw.snapshot().objects().get(NS + "/" + BRAKE).holder()).isEqualTo("coordinator-2");
    assertThat(agentRequests("list", "leases")).isEqualTo(2);
  }
}
