package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.coordinator.Coordinator;
import dev.stateprobe.sim.SimNode;
import dev.stateprobe.testing.SimClusterExtension;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Coordinator down, then leader failover, on twenty nodes obeying the brake: the leader of two
 * coordinators is killed abruptly (its leader Lease is not given back), the brake's heartbeat goes
 * stale at every agent and holds (fail safe, reason {@code stale}); drifts confirmed meanwhile get
 * no record and no script; the other coordinator takes the lead once the leader Lease expires,
 * publishes, and the repairs go on. Judged from outside: the Leases, the agents' own metrics, the
 * scripts' stamps.
 */
class FleetFailoverIT {
  static final int NODES = 20;
  static final int DRIFTING = 2; // under the storm threshold: only the failover holds them

  static final BrakeFleet.Settings SETTINGS =
      new BrakeFleet.Settings(
          2,
          Duration.ofSeconds(2),
          Duration.ofSeconds(1),
          Duration.ofMinutes(1),
          Duration.ofSeconds(3),
          // Long enough that the drifts below are confirmed, and held, before the other
          // coordinator may take the lead.
          Duration.ofSeconds(20));

  @RegisterExtension
  static final SimClusterExtension<BrakeFleet> FLEET =
      SimClusterExtension.of(() -> BrakeFleet.start(NODES, SETTINGS));

  @Test
  void theBrakeGoesStaleAndHoldsWhileNoCoordinatorLeadsAndRepairsResumeUnderTheNext() {
    BrakeFleet bf = FLEET.get();
    Fleet fleet = bf.fleet;
    Coordinator a = bf.coordinator("coordinator-a");
    await("coordinator-a leads").atMost(Duration.ofMinutes(1)).until(a::leading);
    Coordinator b = bf.coordinator("coordinator-b");
    fleet.awaitAllTrusted(Duration.ofMinutes(3));
    await("the brake published off")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> BrakeObject.OFF.equals(bf.brakeState()));
    assertThat(b.leading()).as("only one leads").isFalse();

    a.kill();
    Lease leader = bf.leaderLease().orElseThrow();
    assertThat(leader.getSpec().getHolderIdentity())
        .as("killed, not stopped: the lead was not given back")
        .isEqualTo("coordinator-a");
    await("the brake's heartbeat older than FLEET_BRAKE_MAX_AGE")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(100))
        .until(bf::brakeStale);

    List<SimNode> drifting = fleet.nodes().subList(0, DRIFTING);
    Map<String, String> orphans = new LinkedHashMap<>();
    for (SimNode n : drifting) {
      orphans.put(n.name(), Fleet.loseVictimDelete(n));
    }
    await("the drifts confirmed and held: the agents read the brake stale")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                BrakeFleet.notReading(drifting, "stale").isEmpty()
                    && drifting.stream()
                        .allMatch(n -> BrakeFleet.throttled(n, "fleet_brake") >= 1));
    assertThat(b.leading()).as("the leader Lease has not expired yet").isFalse();
    assertThat(fleet.records()).as("no repair record while stale").isEmpty();
    assertThat(fleet.stamps()).as("no script while stale").isEmpty();

    await("coordinator-b takes the lead after the leader Lease expires")
        .atMost(Duration.ofMinutes(1))
        .until(b::leading);
    await("coordinator-b publishes off")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                bf.brake()
                    .map(
                        l ->
                            "coordinator-b".equals(l.getSpec().getHolderIdentity())
                                && BrakeObject.OFF.equals(bf.brakeState()))
                    .orElse(false));
    Instant took = bf.leaderLease().orElseThrow().getSpec().getAcquireTime().toInstant();
    assertThat(bf.leaderLease().orElseThrow().getSpec().getHolderIdentity())
        .isEqualTo("coordinator-b");

    fleet.awaitRepaired(orphans, Duration.ofMinutes(2));
    List<Fleet.Stamp> stamps = fleet.stamps();
    assertThat(stamps)
        .as("one run per orphan, each after coordinator-b took the lead")
        .hasSize(DRIFTING)
        .allSatisfy(
            s -> {
              assertThat(orphans).containsEntry(s.node(), s.uid());
              assertThat(Instant.ofEpochMilli(s.startMillis())).isAfter(took);
            });
    assertThat(BrakeFleet.maxOverlap(stamps)).isLessThanOrEqualTo(SETTINGS.slots());
  }
}
