package dev.stateprobe.repair.job;

import static dev.stateprobe.repair.job.Jobs.NODE;
import static dev.stateprobe.repair.job.Jobs.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * JobStore against fabric8's mock API server in CRUD mode, with the real CRD installed (so status
 * is dropped on create and written only through the status subresource) and resourceVersion
 * preconditions checked on status writes ({@link StatusPreconditionDispatcher}).
 */
class JobStoreIT {
  static final Path CRD =
      Path.of(System.getProperty("basedir", "."))
          .resolve("../manifests/crds/consistencyrepairjobs.stateprobe.dev.yaml");

  private StatusPreconditionDispatcher dispatcher;
  private KubernetesMockServer server;
  private KubernetesClient client;

  private Vertx vertx;
  private WorkerExecutor worker;
  private JobStore store;

  @BeforeEach
  void setUp() throws Exception {
    dispatcher = new StatusPreconditionDispatcher();
    server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    client = server.createClient();
    assertTrue(Files.exists(CRD), "CRD not found at " + CRD.toAbsolutePath());
    CustomResourceDefinition crd;
    try (var in = Files.newInputStream(CRD)) {
      crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
    }
    client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    client
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build())
        .create();
    vertx = Vertx.vertx();
    worker = vertx.createSharedWorkerExecutor("state-probe-worker", 2);
    store = new JobStore(client, worker, NODE, Clock.fixed(T0.plusSeconds(3600), ZoneOffset.UTC));
  }

  @AfterEach
  void tearDown() {
    worker.close();
    vertx.close().await();
    client.close();
    server.destroy();
  }

  private static <T> T await(Future<T> f) throws Exception {
    try {
      return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private ConsistencyRepairJob create(String pod, String script) throws Exception {
    return await(store.createOrAdopt(Jobs.spec(pod, script))).job();
  }

  @Test
  void aRecordGoesFromPendingThroughRunningToSucceededViaTheStatusSubresource() throws Exception {
    JobStore.Created created =
        await(store.createOrAdopt(Jobs.spec("cart-7d9f", "remove-orphaned-sandbox")));
    assertFalse(created.adopted());
    ConsistencyRepairJob job = created.job();
    assertEquals(
        "worker-1-orphanedpod-remove-orphaned-sandbox-uid-cart-4126f423a796d8e0", job.name());
    assertNull(job.getStatus());
    assertEquals(Jobs.spec("cart-7d9f", "remove-orphaned-sandbox"), job.getSpec());

    ConsistencyRepairJob pending =
        await(store.updateStatus(job, RepairJobStatus.pending("created", T0)));
    assertEquals(Phase.PENDING, pending.getStatus().phase());
    ConsistencyRepairJob running =
        await(store.updateStatus(pending, pending.getStatus().start(1, false, T0.plusSeconds(1))));
    assertEquals(Phase.RUNNING, running.getStatus().phase());
    RepairJobStatus done =
        running.getStatus().finish(Phase.SUCCEEDED, 0, "removed\n", "exit 0", T0.plusSeconds(2));
    ConsistencyRepairJob succeeded = await(store.updateStatus(running, done));
    assertNotEquals(
        running.getMetadata().getResourceVersion(), succeeded.getMetadata().getResourceVersion());

    ConsistencyRepairJob read = await(store.get(job.name())).orElseThrow();
    assertEquals(done, read.getStatus());
    assertEquals(Phase.SUCCEEDED, read.getStatus().phase());
    assertEquals(Verification.PENDING, read.getStatus().verification());
    assertEquals("removed\n", read.getStatus().output());
    assertEquals(job.getSpec(), read.getSpec());
  }

  @Test
  void statusSentWithCreateIsDroppedAsOnARealServer() {
    ConsistencyRepairJob withStatus = Jobs.full();
    ConsistencyRepairJob created =
        client.resources(ConsistencyRepairJob.class).resource(withStatus).create();
    assertNull(created.getStatus(), "the CRD's status subresource must be active in the mock");
  }

  @Test
  void recordsCarryNodeKindScriptLabelsAndTheNodeAsOwner() throws Exception {
    ConsistencyRepairJob job = create("cart-7d9f", "remove-orphaned-sandbox");
    assertEquals(
        Map.of(
            "stateprobe.dev/node", "worker-1",
            "stateprobe.dev/kind", "OrphanedPod",
            "stateprobe.dev/script", "remove-orphaned-sandbox",
            "app.kubernetes.io/managed-by", "state-probe"),
        job.getMetadata().getLabels());
    List<OwnerReference> owners = job.getMetadata().getOwnerReferences();
    assertEquals(1, owners.size());
    assertEquals("v1", owners.get(0).getApiVersion());
    assertEquals("Node", owners.get(0).getKind());
    assertEquals(NODE, owners.get(0).getName());
    assertEquals(
        client.nodes().withName(NODE).get().getMetadata().getUid(), owners.get(0).getUid());
    assertNotNull(owners.get(0).getUid());
    assertNull(
        owners.get(0).getBlockOwnerDeletion(),
        "blockOwnerDeletion needs rights on nodes/finalizers");
  }

  @Test
  void aSecondCreateAdoptsTheExistingRecord() throws Exception {
    ConsistencyRepairJob first = create("cart-7d9f", "remove-orphaned-sandbox");
    await(store.updateStatus(first, RepairJobStatus.pending("created", T0).start(1, false, T0)));

    JobStore.Created again =
        await(store.createOrAdopt(Jobs.spec("cart-7d9f", "remove-orphaned-sandbox")));
    assertTrue(again.adopted());
    assertEquals(first.name(), again.job().name());
    assertEquals(Phase.RUNNING, again.job().getStatus().phase(), "adopted with its status");
    assertEquals(1, await(store.listForNode()).size());
  }

  @Test
  void concurrentCreatesMakeOneRecord() throws Exception {
    // A fresh store per call, like two agent processes racing after a restart.
    JobStore other = new JobStore(client, worker, NODE, Clock.systemUTC());
    Future<JobStore.Created> a = store.createOrAdopt(Jobs.spec("cart-7d9f", "s"));
    Future<JobStore.Created> b = other.createOrAdopt(Jobs.spec("cart-7d9f", "s"));
    List<Boolean> adopted = List.of(await(a).adopted(), await(b).adopted());
    assertEquals(1, adopted.stream().filter(x -> x).count(), "exactly one adopts: " + adopted);
    assertEquals(1, await(store.listForNode()).size());
  }

  @Test
  void aStatusConflictIsRetriedOnceOnAFreshRead() throws Exception {
    ConsistencyRepairJob stale = create("cart-7d9f", "s");
    // A person approves the record meanwhile: its resourceVersion moves on.
    ConsistencyRepairJob approved =
        client
            .resources(ConsistencyRepairJob.class)
            .withName(stale.name())
            .edit(
                j ->
                    ConsistencyRepairJob.of(
                        j.getMetadata(),
                        new RepairJobSpec(
                            j.getSpec().nodeName(),
                            j.getSpec().drift(),
                            j.getSpec().script(),
                            false,
                            true),
                        j.getStatus()));
    assertNotEquals(
        stale.getMetadata().getResourceVersion(), approved.getMetadata().getResourceVersion());
    // The server refuses the stale write (else this test proves nothing).
    assertEquals(
        409,
        assertThrows(
                KubernetesClientException.class,
                () ->
                    client
                        .resources(ConsistencyRepairJob.class)
                        .resource(stale.withStatus(RepairJobStatus.pending("x", T0)))
                        .updateStatus())
            .getCode());
    assertEquals(1, dispatcher.statusConflicts());

    ConsistencyRepairJob updated =
        await(store.updateStatus(stale, RepairJobStatus.pending("created", T0)));
    assertEquals(2, dispatcher.statusConflicts(), "the store met the conflict and retried");
    assertEquals(Phase.PENDING, updated.getStatus().phase());
    assertTrue(updated.getSpec().approved(), "the person's edit is kept");
    assertEquals(Phase.PENDING, await(store.get(stale.name())).orElseThrow().getStatus().phase());
  }

  @Test
  void markInterruptedFailsThisNodesRunningRecordsOnly() throws Exception {
    ConsistencyRepairJob running = create("a", "s");
    running =
        await(store.updateStatus(running, RepairJobStatus.pending("c", T0).start(2, false, T0)));
    ConsistencyRepairJob done = create("b", "s");
    done =
        await(
            store.updateStatus(
                done,
                RepairJobStatus.pending("c", T0)
                    .start(1, false, T0)
                    .finish(Phase.SUCCEEDED, 0, "", "exit 0", T0)));
    JobStore otherNode = new JobStore(client, worker, "worker-2", Clock.systemUTC());
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("worker-2")
                .withUid("node-uid-2")
                .endMetadata()
                .build())
        .create();
    ConsistencyRepairJob foreign =
        await(
                otherNode.createOrAdopt(
                    RepairJobSpec.of("worker-2", Jobs.orphan("c"), Optional.empty(), "s", false)))
            .job();
    foreign =
        await(
            otherNode.updateStatus(foreign, RepairJobStatus.pending("c", T0).start(1, false, T0)));

    List<ConsistencyRepairJob> changed = await(store.markInterrupted());
    assertEquals(
        List.of(running.name()), changed.stream().map(ConsistencyRepairJob::name).toList());
    RepairJobStatus s = await(store.get(running.name())).orElseThrow().getStatus();
    assertEquals(Phase.FAILED, s.phase());
    assertEquals("interrupted", s.reason());
    assertEquals(2, s.attempts());
    assertEquals(T0.plusSeconds(3600), s.finishedAt());
    assertEquals(Phase.SUCCEEDED, await(store.get(done.name())).orElseThrow().getStatus().phase());
    assertEquals(Phase.RUNNING, await(store.get(foreign.name())).orElseThrow().getStatus().phase());
    assertEquals(List.of(), await(store.markInterrupted()), "a second start changes nothing");
  }

  @Test
  void listForNodeSeesOnlyThisNodesRecords() throws Exception {
    create("a", "s");
    create("b", "s");
    client
        .nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata()
                .withName("worker-2")
                .withUid("u2")
                .endMetadata()
                .build())
        .create();
    JobStore otherNode = new JobStore(client, worker, "worker-2", Clock.systemUTC());
    await(
        otherNode.createOrAdopt(
            RepairJobSpec.of("worker-2", Jobs.orphan("a"), Optional.empty(), "s", false)));
    assertEquals(
        List.of("shop/a", "shop/b"),
        await(store.listForNode()).stream()
            .map(
                j ->
                    j.getSpec().drift().target().namespace()
                        + "/"
                        + j.getSpec().drift().target().name())
            .toList());
    assertEquals(1, await(otherNode.listForNode()).size());
  }

  @Test
  void garbageCollectionDeletesExpiredFinishedRecordsThenTheOldestBeyondTheMax() throws Exception {
    Instant now = T0.plus(Duration.ofDays(2));
    Duration ttl = Duration.ofHours(24);
    // finished 30 h ago (expired), 20 h, 10 h, 5 h ago; one Running and one Pending (never
    // collected)
    String expired = finishedRecord("old", now.minus(Duration.ofHours(30)));
    String h20 = finishedRecord("h20", now.minus(Duration.ofHours(20)));
    String h10 = finishedRecord("h10", now.minus(Duration.ofHours(10)));
    String h5 = finishedRecord("h5", now.minus(Duration.ofHours(5)));
    ConsistencyRepairJob run = create("run", "s");
    await(
        store.updateStatus(
            run, RepairJobStatus.pending("c", T0).start(1, false, now.minus(Duration.ofDays(9)))));
    ConsistencyRepairJob pend = create("pend", "s");
    await(
        store.updateStatus(
            pend, RepairJobStatus.pending("awaiting approval", now.minus(Duration.ofDays(9)))));

    // 6 records, max 4: the expired one goes for the TTL, then the oldest finished (20 h) for the
    // max.
    assertEquals(List.of(expired, h20), await(store.collectGarbage(now, ttl, 4)));
    assertEquals(
        List.of(h10, h5, run.name(), pend.name()).stream().sorted().toList(),
        await(store.listForNode()).stream().map(ConsistencyRepairJob::name).toList());

    // max 0: every finished one goes, the unfinished stay.
    assertEquals(List.of(h10, h5), await(store.collectGarbage(now, ttl, 0)));
    assertEquals(
        List.of(pend.name(), run.name()).stream().sorted().toList(),
        await(store.listForNode()).stream()
            .map(ConsistencyRepairJob::name)
            .collect(Collectors.toList()));
    assertEquals(List.of(), await(store.collectGarbage(now, ttl, 0)));
  }

  @Test
  void garbageCollectionWithinTheTtlAndMaxDeletesNothing() throws Exception {
    Instant now = T0.plus(Duration.ofDays(2));
    finishedRecord("a", now.minus(Duration.ofHours(23)));
    finishedRecord("b", now.minus(Duration.ofHours(1)));
    assertEquals(List.of(), await(store.collectGarbage(now, Duration.ofHours(24), 2)));
    assertEquals(2, await(store.listForNode()).size());
  }

  private String finishedRecord(String pod, Instant finishedAt) throws Exception {
    ConsistencyRepairJob j = create(pod, "s");
    await(
        store.updateStatus(
            j,
            RepairJobStatus.pending("c", T0)
                .start(1, false, finishedAt.minusSeconds(5))
                .finish(Phase.FAILED, 1, "", "exit 1", finishedAt)));
    return j.name();
  }

  @Test
  void getAnswersEmptyForAMissingRecord() throws Exception {
    assertEquals(Optional.empty(), await(store.get("nope")));
  }

  @Test
  void aMissingNodeFailsTheCreateNamingTheNode() {
    JobStore ghost = new JobStore(client, worker, "ghost", Clock.systemUTC());
    Exception e =
        assertThrows(
            IllegalStateException.class,
            () ->
                await(
                    ghost.createOrAdopt(
                        RepairJobSpec.of(
                            "ghost", Jobs.orphan("a"), Optional.empty(), "s", false))));
    assertEquals(
        "node ghost not found (or has no UID): records need it as their owner", e.getMessage());
  }

  @Test
  void aSpecForAnotherNodeIsRefused() {
    Exception e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                await(
                    store.createOrAdopt(
                        RepairJobSpec.of(
                            "worker-9", Jobs.orphan("a"), Optional.empty(), "s", false))));
    assertEquals(
        "job store of node worker-1 cannot create a record for node worker-9", e.getMessage());
  }
}
