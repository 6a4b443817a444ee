package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.coordinator.Coordinator;
import dev.stateprobe.coordinator.CoordinatorConfig;
import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.fleet.BrakeObject;
import dev.stateprobe.fleet.BrakeState;
import dev.stateprobe.fleet.StormSettings;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.sim.SimApiRequest;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The agent's side of the fleet storm brake: its own list/watch of the one brake Lease, by name,
 * read as the planner reads it, with a real coordinator publishing on the same simulated API
 * server.
 */
@Timeout(90)
class BrakeWatchIT {
  private static final String NS = "state-probe";
  private static final Duration MAX_AGE = Duration.ofSeconds(60);

  private SimApiServer api;
  private Vertx vertx;
  private WorkerExecutor worker;
  private ApiServerClient client;
  private BrakeWatch watch;
  private Coordinator coordinator;

  @BeforeEach
  void start() {
    api = new SimApiServer().start();
    for (int i = 0; i < 10; i++) {
      api.client()
          .nodes()
          .resource(new NodeBuilder().withNewMetadata().withName("n" + i).endMetadata().build())
          .create();
    }
    vertx = Vertx.vertx();
    worker = vertx.createSharedWorkerExecutor("test-worker", 1);
    client =
        new ApiServerClient(
            vertx, api.newClient().getConfiguration(), worker, new TestClock(Instant.now()));
    watch =
        BrakeWatch.of(
            client,
            NS,
            ListWatch.Settings.defaults()
                .withBackoff(Duration.ofMillis(100), Duration.ofMillis(1600)));
  }

  @AfterEach
  void stop() throws Exception {
    if (coordinator != null) {
      coordinator.close();
    }
    watch.close();
    client.close();
    vertx.close().await(10, TimeUnit.SECONDS);
    api.close();
  }

  private BrakeState reading(Instant now) {
    return BrakeState.judge(watch.latest(), now, MAX_AGE);
  }

  private void startCoordinator() {
    coordinator =
        new Coordinator(
                api.newClient(),
                new CoordinatorConfig(
                    NS,
                    "coordinator-0",
                    new StormSettings(10, 3, Duration.ofMinutes(5), Duration.ofMillis(300)),
                    Duration.ofMillis(200),
                    Duration.ofMillis(500),
                    Duration.ofSeconds(2),
                    Duration.ofMillis(1500),
                    Duration.ofMillis(200),
                    0),
                Clock.systemUTC(),
                new Metrics.Coordinator(new SimpleMeterRegistry()))
            .start();
  }

  @Test
  void missingUntilTheCoordinatorPublishesThenOffOnAndStaleOnceItStops() throws Exception {
    watch.start();
    watch.listWatch().firstSync().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertThat(reading(Instant.now()).reason()).isEqualTo(BrakeState.Reason.MISSING);

    startCoordinator();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> reading(Instant.now()).reason() == BrakeState.Reason.OFF);
    assertThat(watch.latest().orElseThrow().holder()).contains("coordinator-0");

    for (int i = 0; i < 3; i++) {
      record("n" + i);
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> reading(Instant.now()).reason() == BrakeState.Reason.ON);
    assertThat(reading(Instant.now()).detail()).contains("storm: 3 of 10 nodes");

    api.client().resources(ConsistencyRepairJob.class).delete();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> reading(Instant.now()).reason() == BrakeState.Reason.OFF);

    coordinator.close();
    Instant lastBeat = watch.latest().orElseThrow().renewTime().orElseThrow();
    assertThat(reading(lastBeat.plus(MAX_AGE)).reason()).isEqualTo(BrakeState.Reason.OFF);
    assertThat(reading(lastBeat.plus(MAX_AGE).plusSeconds(1)).reason())
        .as("no heartbeat for longer than FLEET_BRAKE_MAX_AGE")
        .isEqualTo(BrakeState.Reason.STALE);

    // Every request of the agent's side was a list or a watch of that one Lease, by name.
    assertThat(
            api.requests().stream()
                .filter(r -> !r.backstage() && "leases".equals(r.resource()))
                .filter(
                    r -> r.query().contains("fieldSelector=metadata.name%3D" + BrakeObject.NAME))
                .map(SimApiRequest::verb)
                .distinct())
        .containsExactlyInAnyOrder("list", "watch");
  }

  @Test
  void aLeaseWithoutAHeartbeatOrWithAStrangeStateHolds() throws Exception {
    api.client()
        .leases()
        .inNamespace(NS)
        .resource(
            new LeaseBuilder()
                .withNewMetadata()
                .withName(BrakeObject.NAME)
                .withNamespace(NS)
                .addToAnnotations(BrakeObject.STATE, "off")
                .addToAnnotations("unrelated/annotation", "x")
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity("someone")
                .endSpec()
                .build())
        .create();
    // Another Lease in the namespace is not the brake.
    api.client()
        .leases()
        .inNamespace(NS)
        .resource(
            new LeaseBuilder()
                .withNewMetadata()
                .withName("another-lease")
                .withNamespace(NS)
                .addToAnnotations(BrakeObject.STATE, "on")
                .endMetadata()
                .build())
        .create();
    watch.start();
    watch.listWatch().firstSync().toCompletableFuture().get(20, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> watch.latest().isPresent());
    assertThat(watch.listWatch().snapshot().objects()).hasSize(1);
    BrakeObject b = watch.latest().orElseThrow();
    assertThat(b.annotations()).containsOnlyKeys(BrakeObject.STATE);
    assertThat(reading(Instant.now()).reason()).isEqualTo(BrakeState.Reason.STALE);

    api.client()
        .leases()
        .inNamespace(NS)
        .withName(BrakeObject.NAME)
        .edit(
            l -> {
              l.getMetadata().getAnnotations().put(BrakeObject.STATE, "maybe");
              l.getSpec().setRenewTime(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
              return l;
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> reading(Instant.now()).reason() == BrakeState.Reason.ON);
    assertThat(Optional.of(watch.latest().orElseThrow().annotations().get(BrakeObject.STATE)))
        .contains("maybe");
  }

  private void record(String node) {
    Instant now = Instant.now();
    TrackedDrift d =
        new TrackedDrift(
            new Drift.OrphanedPod(
                new PodRef("shop", "p-" + node, "uid-" + node), Drift.Source.KUBELET),
            now.minusSeconds(30),
            now,
            3);
    RepairJobSpec spec =
        RepairJobSpec.of(node, d, Optional.empty(), "remove-orphaned-sandbox", false);
    api.client()
        .resources(ConsistencyRepairJob.class)
        .resource(
            ConsistencyRepairJob.of(
                new ObjectMetaBuilder().withName(spec.jobName()).build(), spec, null))
        .create();
  }
}
