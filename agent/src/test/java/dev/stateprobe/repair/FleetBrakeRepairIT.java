package dev.stateprobe.repair;

import static dev.stateprobe.repair.RepairNode.NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.fleet.BrakeObject;
import dev.stateprobe.repair.RepairNode.Agent;
import dev.stateprobe.repair.RepairNode.Entry;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobNames;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.testing.SimClusterExtension;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real agent with {@code FLEET_BRAKE=on}: no brake Lease means no repair (missing, fail safe),
 * and the repair starts once a fresh brake says off, and only under a brake decided after its
 * record appeared ({@code FLEET_BRAKE_SETTLE}): an "off" published before the record never lets its
 * script start. The test plays the coordinator's heartbeat.
 */
@Timeout(60)
class FleetBrakeRepairIT {
  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final String NAMESPACE = "state-probe";

  @RegisterExtension
  static final SimClusterExtension<RepairNode> SIM = SimClusterExtension.of(RepairNode::new);

  @BeforeEach
  void reset() throws Exception {
    node = SIM.get();
    node.cluster.leases().inNamespace(NAMESPACE).delete();
    node.reset();
  }

  private RepairNode node;

  private void publish(String state) {
    var leases = node.cluster.leases().inNamespace(NAMESPACE);
    if (leases.withName(BrakeObject.NAME).get() != null) {
      leases
          .withName(BrakeObject.NAME)
          .edit(
              l -> {
                l.getMetadata().getAnnotations().put(BrakeObject.STATE, state);
                l.getSpec().setRenewTime(ZonedDateTime.now(ZoneOffset.UTC));
                return l;
              });
      return;
    }
    leases
        .resource(
            new LeaseBuilder()
                .withNewMetadata()
                .withName(BrakeObject.NAME)
                .withNamespace(NAMESPACE)
                .addToAnnotations(BrakeObject.STATE, state)
                .addToAnnotations(BrakeObject.REASON, "test")
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity("coordinator-test")
                .withRenewTime(ZonedDateTime.now(ZoneOffset.UTC))
                .endSpec()
                .build())
        .create();
  }

  @Test
  void noRepairWhileTheBrakeIsMissingOrOnAndItStartsOnceAFreshBrakeSaysOff() {
    node.catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    node.healthyPod("web-1");
    String uid = node.orphan("cart-1");
    Agent agent = node.start(Map.of("FLEET_BRAKE", "on", "FLEET_BRAKE_NAMESPACE", NAMESPACE));
    String name = JobNames.of(NODE, DriftKind.ORPHANED_POD, uid, "stop-sandbox");

    await()
        .atMost(WAIT)
        .until(() -> agent.counter("stateprobe.repairs.throttled", "reason", "fleet_brake") == 1);
    assertThat(agent.gauge("stateprobe.fleet.brake")).isEqualTo(1);
    assertThat(agent.gauge("stateprobe.fleet.brake.reason", "reason", "missing")).isEqualTo(1);
    assertThat(node.records()).isEmpty();
    assertThat(node.runs()).isEmpty();

    publish("on");
    await()
        .atMost(WAIT)
        .until(() -> agent.gauge("stateprobe.fleet.brake.reason", "reason", "on") == 1);
    assertThat(node.records()).isEmpty();
    assertThat(node.runs()).isEmpty();

    publish("off");
    await("the record, made under the off brake")
        .atMost(WAIT)
        .until(() -> !node.records().isEmpty());
    await("no script under a decision made before the record")
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(10))
        .until(() -> node.runs().isEmpty());

    await()
        .atMost(WAIT)
        .until(
            () -> {
              publish("off"); // the coordinator's heartbeat, now after the record
              return node.records().stream()
                  .filter(j -> j.name().equals(name))
                  .map(ConsistencyRepairJob::getStatus)
                  .anyMatch(s -> s != null && s.verification() == Verification.RESOLVED);
            });
    assertThat(agent.gauge("stateprobe.fleet.brake")).isZero();
    assertThat(agent.gauge("stateprobe.fleet.brake.reason", "reason", "off")).isEqualTo(1);
    assertThat(node.runs()).hasSize(1);
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "fleet_brake"))
        .as("held once: a change of reason is counted, not each cycle")
        .isEqualTo(1);
  }
}
