package dev.stateprobe.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.fleet.BrakeObject;
import dev.stateprobe.fleet.StormSettings;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Labels;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two coordinators against one simulated API server: one leads and publishes the brake, the brake
 * turns on when more than 10 % of the nodes have repair records and off after they are gone and the
 * hold passed, and when the leader goes the other one takes over the heartbeat.
 */
class CoordinatorIT {
  static final String NAMESPACE = "state-probe";
  private static final int NODES = 20;

  private SimApiServer api;
  private final List<Coordinator> coordinators = new ArrayList<>();

  /** Fast settings for tests: a fleet test can run coordinators in-process with these. */
  static CoordinatorConfig config(String identity, Duration hold) {
    return new CoordinatorConfig(
        NAMESPACE,
        identity,
        new StormSettings(10, 3, Duration.ofMinutes(5), hold),
        Duration.ofMillis(200),
        Duration.ofMillis(500),
        Duration.ofSeconds(2),
        Duration.ofMillis(1500),
        Duration.ofMillis(200),
        0);
  }

  @BeforeEach
  void start() {
    api = new SimApiServer().start();
    for (int i = 0; i < NODES; i++) {
      api.client()
          .nodes()
          .resource(new NodeBuilder().withNewMetadata().withName("node-" + i).endMetadata().build())
          .create();
    }
  }

  @AfterEach
  void stop() {
    coordinators.forEach(Coordinator::close);
    api.close();
  }

  private Coordinator coordinator(String identity, Duration hold) {
    return coordinator(config(identity, hold));
  }

  private Coordinator coordinator(CoordinatorConfig config) {
    KubernetesClient c = api.newClient();
    Coordinator co =
        new Coordinator(
                c, config, Clock.systemUTC(), new Metrics.Coordinator(new SimpleMeterRegistry()))
            .start();
    coordinators.add(co);
    return co;
  }

  private Optional<Lease> brake() {
    return Optional.ofNullable(
        api.client().leases().inNamespace(NAMESPACE).withName(BrakeObject.NAME).get());
  }

  private String brakeState() {
    return brake().map(l -> l.getMetadata().getAnnotations().get(BrakeObject.STATE)).orElse("");
  }

  private ConsistencyRepairJob record(int node) {
    Instant now = Instant.now();
    TrackedDrift d =
        new TrackedDrift(
            new Drift.OrphanedPod(
                new PodRef("shop", "pod-" + node, "uid-" + node), Drift.Source.KUBELET),
            now.minusSeconds(30),
            now,
            3);
    RepairJobSpec spec =
        RepairJobSpec.of("node-" + node, d, Optional.empty(), "remove-orphaned-sandbox", false);
    return api.client()
        .resources(ConsistencyRepairJob.class)
        .resource(
            ConsistencyRepairJob.of(
                new ObjectMetaBuilder()
                    .withName(spec.jobName())
                    .addToLabels(Labels.NODE, "node-" + node)
                    .build(),
                spec,
                null))
        .create();
  }

  private List<Event> brakeEvents() {
    return api.client().events().v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> BrakeObject.NAME.equals(e.getRegarding().getName()))
        .toList();
  }

  @Test
  void theBrakeTurnsOnInAStormAndOffAfterItWithEvents() {
    Coordinator only = coordinator("coordinator-a", Duration.ofMillis(500));
    await().atMost(Duration.ofSeconds(20)).until(() -> BrakeObject.OFF.equals(brakeState()));
    assertThat(only.leading()).isTrue();
    Lease off = brake().orElseThrow();
    assertThat(off.getSpec().getHolderIdentity()).isEqualTo("coordinator-a");
    assertThat(off.getMetadata().getAnnotations())
        .containsEntry(BrakeObject.NODES, "20")
        .containsEntry(BrakeObject.DRIFTING, "0");

    record(1);
    record(2);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                "2"
                    .equals(
                        brake()
                            .orElseThrow()
                            .getMetadata()
                            .getAnnotations()
                            .get(BrakeObject.DRIFTING)));
    assertThat(brakeState()).as("2 of 20 is 10 %: not more").isEqualTo(BrakeObject.OFF);

    record(3);
    await().atMost(Duration.ofSeconds(10)).until(() -> BrakeObject.ON.equals(brakeState()));
    Lease on = brake().orElseThrow();
    assertThat(on.getMetadata().getAnnotations())
        .containsEntry(BrakeObject.DRIFTING, "3")
        .containsEntry(BrakeObject.NODES, "20");
    assertThat(on.getMetadata().getAnnotations().get(BrakeObject.REASON))
        .startsWith("storm: 3 of 20 nodes");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(brakeEvents())
                    .extracting(Event::getReason)
                    .containsExactly("FleetBrakeOn"));

    api.client().resources(ConsistencyRepairJob.class).delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> BrakeObject.OFF.equals(brakeState()));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(brakeEvents())
                    .extracting(Event::getReason)
                    .containsExactlyInAnyOrder("FleetBrakeOn", "FleetBrakeOff"));
  }

  @Test
  void oneLeadsAndWhenItGoesTheOtherTakesOverTheHeartbeatAndKeepsTheBrakeOn() {
    Coordinator a = coordinator("coordinator-a", Duration.ofMinutes(10));
    await().atMost(Duration.ofSeconds(20)).until(() -> brake().isPresent());
    Coordinator b = coordinator("coordinator-b", Duration.ofMinutes(10));
    for (int i = 0; i < 4; i++) {
      record(i);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> BrakeObject.ON.equals(brakeState()));
    assertThat(a.leading()).isTrue();
    assertThat(b.leading()).as("only one leads").isFalse();
    assertThat(brake().orElseThrow().getSpec().getHolderIdentity()).isEqualTo("coordinator-a");

    // The storm's records go; a hold of 10 minutes keeps the brake on, across the failover too.
    api.client().resources(ConsistencyRepairJob.class).delete();
    a.close();
    await().atMost(Duration.ofSeconds(20)).until(b::leading);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> "coordinator-b".equals(brake().orElseThrow().getSpec().getHolderIdentity()));
    Instant beat = brake().orElseThrow().getSpec().getRenewTime().toInstant();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> brake().orElseThrow().getSpec().getRenewTime().toInstant().isAfter(beat));
    Lease held = brake().orElseThrow();
    assertThat(held.getMetadata().getAnnotations())
        .containsEntry(BrakeObject.STATE, BrakeObject.ON)
        .containsEntry(BrakeObject.DRIFTING, "0");
    assertThat(held.getMetadata().getAnnotations().get(BrakeObject.REASON)).startsWith("holding:");
  }

  @Test
  void aNewRecordIsDecidedOnOneSettleAfterItAppearedNotAtTheNextHeartbeat() {
    Duration settle = Duration.ofSeconds(1);
    CoordinatorConfig base = config("coordinator-a", Duration.ofMinutes(1));
    Coordinator only =
        coordinator(
            new CoordinatorConfig(
                base.namespace(),
                base.identity(),
                base.storm(),
                Duration.ofMinutes(10), // no heartbeat during this test after the first
                base.nodeCountEvery(),
                base.leaseDuration(),
                base.renewDeadline(),
                base.retryPeriod(),
                0,
                settle));
    await().atMost(Duration.ofSeconds(20)).until(() -> BrakeObject.OFF.equals(brakeState()));
    assertThat(only.leading()).isTrue();

    ConsistencyRepairJob job = record(1);
    Instant created = Instant.parse(job.getMetadata().getCreationTimestamp());
    await("a decision at or after the record's settle, long before the next heartbeat")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                !brake()
                    .orElseThrow()
                    .getSpec()
                    .getRenewTime()
                    .toInstant()
                    .isBefore(created.plus(settle)));
    assertThat(brake().orElseThrow().getMetadata().getAnnotations())
        .as("and it counted the record")
        .containsEntry(BrakeObject.DRIFTING, "1");
  }
}
