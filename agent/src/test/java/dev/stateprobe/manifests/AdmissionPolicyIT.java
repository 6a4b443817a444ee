package dev.stateprobe.manifests;

import static dev.stateprobe.manifests.AdmissionPolicyTest.agentOn;
import static dev.stateprobe.manifests.AdmissionPolicyTest.crj;
import static dev.stateprobe.manifests.AdmissionPolicyTest.events;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.manifests.AdmissionPolicyEvaluator.Decision;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobStore;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The objects the agent really writes pass the admission policy for its own node and fail it for
 * another: repair records made by {@link JobStore} (create, status update, delete) and Events made
 * by {@link EventRecorder}, read back from fabric8's CRUD mock API server with the real CRD and
 * handed to the policy's CEL as the API server would.
 */
@Timeout(60)
class AdmissionPolicyIT {
  private static final String NODE = "worker-1";
  private static final Instant T0 = Instant.parse("2026-11-20T12:00:00Z");

  private final RepoFiles repo = new RepoFiles();
  private final AdmissionPolicyEvaluator policy =
      new AdmissionPolicyEvaluator(
          repo.yamlTree(
              repo.documents(repo.manifests().resolve("base/admissionpolicy.yaml")).get(0),
              repo.manifests().resolve("base/admissionpolicy.yaml")));

  private KubernetesMockServer server;
  private KubernetesClient client;
  private Vertx vertx;
  private WorkerExecutor worker;

  @BeforeEach
  void setUp() throws Exception {
    server =
        new KubernetesMockServer(
            new Context(),
            new MockWebServer(),
            new HashMap<>(),
            new KubernetesCrudDispatcher(),
            false);
    server.init();
    client = server.createClient();
    try (InputStream in = Files.newInputStream(repo.manifests().resolve(RepoFiles.CRD))) {
      CustomResourceDefinition crd =
          client.apiextensions().v1().customResourceDefinitions().load(in).item();
      client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    }
    client
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build())
        .create();
    vertx = Vertx.vertx();
    worker = vertx.createSharedWorkerExecutor("state-probe-worker", 2);
  }

  @AfterEach
  void tearDown() {
    worker.close();
    vertx.close().await();
    client.close();
    server.destroy();
  }

  @Test
  void theRecordsJobStoreWritesPassForTheirNodeOnly() throws Exception {
    JobStore store = new JobStore(client, worker, NODE, Clock.fixed(T0, ZoneOffset.UTC));
    TrackedDrift drift =
        new TrackedDrift(
            new Drift.OrphanedPod(new PodRef("shop", "cart-1", "uid-cart-1"), Drift.Source.KUBELET),
            T0.minusSeconds(90),
            T0.minusSeconds(30),
            4);
    ConsistencyRepairJob created =
        await(
                () ->
                    store.createOrAdopt(
                        RepairJobSpec.of(
                            NODE, drift, Optional.of("4711"), "remove-orphaned-sandbox", false)))
            .job();
    Map<String, Object> stored = asMap(created);

    assertAllowed(policy.evaluate(crj(agentOn(NODE), "CREATE", ""), stored, null));
    assertDenied(policy.evaluate(crj(agentOn("worker-2"), "CREATE", ""), stored, null));

    ConsistencyRepairJob updated =
        await(() -> store.updateStatus(created, RepairJobStatus.pending("planned", T0)));
    Map<String, Object> after = asMap(updated);
    assertAllowed(policy.evaluate(crj(agentOn(NODE), "UPDATE", "status"), after, stored));
    assertDenied(policy.evaluate(crj(agentOn("worker-2"), "UPDATE", "status"), after, stored));

    assertAllowed(policy.evaluate(crj(agentOn(NODE), "DELETE", ""), null, after));
    assertDenied(policy.evaluate(crj(agentOn("worker-2"), "DELETE", ""), null, after));
  }

  @Test
  void theEventsEventRecorderWritesPassForTheirNodeOnly() throws Exception {
    EventRecorder recorder =
        new EventRecorder(
            client,
            worker,
            NODE,
            new Metrics(new SimpleMeterRegistry(), "test", () -> T0.toEpochMilli()),
            Clock.fixed(T0, ZoneOffset.UTC));
    PodRef pod = new PodRef("shop", "cart-1", "uid-cart-1");
    await(() -> recorder.pod(pod, EventRecorder.Type.NORMAL, "DriftConfirmed", "Detect", "x"));
    await(() -> recorder.node(EventRecorder.Type.WARNING, "CircuitOpen", "Detect", "y"));
    List<Event> written = client.events().v1().events().inAnyNamespace().list().getItems();
    assertEquals(2, written.size(), "one Event about the pod, one about the Node");
    for (Event e : written) {
      Map<String, Object> stored = asMap(e);
      assertAllowed(policy.evaluate(events(agentOn(NODE), "CREATE"), stored, null));
      assertAllowed(policy.evaluate(events(agentOn(NODE), "UPDATE"), stored, stored));
      assertDenied(policy.evaluate(events(agentOn("worker-2"), "CREATE"), stored, null));
    }
  }

  @Test
  void theSlotLeasesTheBudgetWritesPassForTheirNodeOnly() {
    var store = new dev.stateprobe.repair.budget.LeaseSlotStore(client, "state-probe");
    var hold = java.time.Duration.ofSeconds(150);
    var none = dev.stateprobe.repair.budget.SlotView.absent(2);
    var taken = store.write(dev.stateprobe.repair.budget.SlotDecision.taken(none, NODE, T0, hold));
    Map<String, Object> created = asMap(lease(taken));
    var renewed =
        store.write(dev.stateprobe.repair.budget.SlotDecision.renewed(taken, T0.plusSeconds(50)));
    Map<String, Object> afterRenewal = asMap(lease(renewed));
    var released =
        store.write(
            dev.stateprobe.repair.budget.SlotDecision.released(renewed, T0.plusSeconds(60)));
    Map<String, Object> afterRelease = asMap(lease(released));
    assertAllowed(policy.evaluate(leases(agentOn(NODE), "CREATE"), created, null));
    assertDenied(policy.evaluate(leases(agentOn("worker-2"), "CREATE"), created, null));
    assertAllowed(policy.evaluate(leases(agentOn(NODE), "UPDATE"), afterRenewal, created));
    assertDenied(policy.evaluate(leases(agentOn("worker-2"), "UPDATE"), afterRenewal, created));
    assertAllowed(policy.evaluate(leases(agentOn(NODE), "UPDATE"), afterRelease, afterRenewal));
    assertDenied(
        policy.evaluate(leases(agentOn("worker-2"), "UPDATE"), afterRelease, afterRenewal));
    // Another node takes the released slot: allowed for it, not for this node in its name.
    var theirs =
        store.write(
            dev.stateprobe.repair.budget.SlotDecision.taken(
                released, "worker-2", T0.plusSeconds(70), hold));
    Map<String, Object> takenOver = asMap(lease(theirs));
    assertAllowed(policy.evaluate(leases(agentOn("worker-2"), "UPDATE"), takenOver, afterRelease));
    assertDenied(policy.evaluate(leases(agentOn(NODE), "UPDATE"), takenOver, afterRelease));
  }

  private io.fabric8.kubernetes.api.model.coordination.v1.Lease lease(
      dev.stateprobe.repair.budget.SlotView s) {
    return client.leases().inNamespace("state-probe").withName(s.name()).get();
  }

  private static Map<String, Object> leases(Map<String, Object> user, String op) {
    Map<String, Object> r = new HashMap<>();
    r.put("uid", "a3");
    r.put("kind", Map.of("group", "coordination.k8s.io", "version", "v1", "kind", "Lease"));
    r.put(
        "resource", Map.of("group", "coordination.k8s.io", "version", "v1", "resource", "leases"));
    r.put("subResource", "");
    r.put("operation", op);
    r.put("namespace", "state-probe");
    r.put("name", "state-probe-slot-2");
    r.put("userInfo", user);
    r.put("dryRun", false);
    return r;
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> asMap(Object object) {
    return client.getKubernetesSerialization().convertValue(object, Map.class);
  }

  /** Runs on a Vert.x context, as the agent does, and waits for the answer. */
  private <T> T await(Supplier<Future<T>> call) throws Exception {
    Promise<T> done = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> call.get().onComplete(done));
    return done.future().await(20, TimeUnit.SECONDS);
  }

  private static void assertAllowed(Decision d) {
    assertTrue(d.applies());
    assertTrue(d.allowed(), d.message());
  }

  private static void assertDenied(Decision d) {
    assertTrue(d.applies());
    assertFalse(d.allowed(), "allowed for another node");
  }
}
