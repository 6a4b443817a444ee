package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.coordinator.Coordinator;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.sim.SimNode;
import dev.stateprobe.testing.SimClusterExtension;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A storm on twenty nodes: 40 % lose a delete at once, with every agent obeying the brake and one
 * coordinator (storm above 10 % and at least 3 nodes). The brake turns on and no script starts
 * anywhere, because each agent starts a script only under a decision that counted its own record
 * ({@code FLEET_BRAKE_SETTLE}). Then most orphans are removed by hand (as an SRE stops their
 * sandboxes); once the storm's records have left the window and the hold has passed the brake turns
 * off, and the two repairs still needed, no storm on their own, run one at a time under a cluster
 * budget of one slot. Judged from outside: the brake Lease, its Events, the scripts' stamps, the
 * records.
 */
class FleetStormIT {
  static final int NODES = 20;
  static final int STORM = 8; // 40 %
  static final int LEFT = 2; // 10 %: not more than the threshold

  static final BrakeFleet.Settings SETTINGS =
      new BrakeFleet.Settings(
          1,
          Duration.ofSeconds(10),
          // The storm's first three records appear within this of each other: the agents'
          // confirmations spread over about a poll interval, more on a loaded machine.
          Duration.ofSeconds(4),
          Duration.ofSeconds(15),
          Duration.ofSeconds(3),
          Duration.ofSeconds(4));

  @RegisterExtension
  static final SimClusterExtension<BrakeFleet> FLEET =
      SimClusterExtension.of(() -> BrakeFleet.start(NODES, SETTINGS));

  @Test
  void aStormTurnsTheBrakeOnNoScriptStartsAndAfterItTheRestRunUnderTheBudget() {
    BrakeFleet bf = FLEET.get();
    Fleet fleet = bf.fleet;
    Coordinator coordinator = bf.coordinator("coordinator-0");
    fleet.awaitAllTrusted(Duration.ofMinutes(3));
    await("the brake published off")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> coordinator.leading() && BrakeObject.OFF.equals(bf.brakeState()));

    List<SimNode> stormed = fleet.nodes().subList(0, STORM);
    Map<String, String> orphans = new LinkedHashMap<>();
    for (SimNode n : stormed) {
      orphans.put(n.name(), Fleet.loseVictimDelete(n));
    }

    await("the brake on")
        .atMost(Duration.ofMinutes(1))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> BrakeObject.ON.equals(bf.brakeState()));
    await("FleetBrakeOn")
        .atMost(Duration.ofSeconds(30))
        .until(() -> bf.brakeEvents().stream().anyMatch(e -> reason(e, "FleetBrakeOn")));
    await("every stormed node's agent reads the brake on")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> BrakeFleet.notReading(stormed, "on").isEmpty());
    assertThat(bf.brake().orElseThrow().getMetadata().getAnnotations().get(BrakeObject.REASON))
        .startsWith("storm: ");
    assertThat(fleet.records())
        .as("the storm's records: at least the 3 that make a storm, only on stormed nodes")
        .hasSizeGreaterThanOrEqualTo(3)
        .allSatisfy(j -> assertThat(orphans).containsKey(j.getSpec().nodeName()));
    assertThat(fleet.stamps()).as("no script started anywhere").isEmpty();

    // An SRE removes six of the orphans by hand; two stay, and are no storm on their own.
    Map<String, String> left = new LinkedHashMap<>();
    int i = 0;
    for (Map.Entry<String, String> o : orphans.entrySet()) {
      SimNode n = fleet.cluster.node(o.getKey());
      if (i++ < STORM - LEFT) {
        assertThat(n.kubelet().stopSandbox(o.getValue())).isPresent();
      } else {
        left.put(o.getKey(), o.getValue());
      }
    }

    await("the brake off, once the storm's records left the window and the hold passed")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> BrakeObject.OFF.equals(bf.brakeState()));
    await("FleetBrakeOff")
        .atMost(Duration.ofSeconds(30))
        .until(() -> bf.brakeEvents().stream().anyMatch(e -> reason(e, "FleetBrakeOff")));
    Instant on = BrakeFleet.eventTime(event(bf, "FleetBrakeOn"));
    Instant off = BrakeFleet.eventTime(event(bf, "FleetBrakeOff"));
    assertThat(off).isAfter(on);

    fleet.awaitRepaired(left, Duration.ofMinutes(2));
    List<Fleet.Stamp> stamps = fleet.stamps();
    assertThat(stamps)
        .as("one run per orphan left, each started after the brake went off")
        .hasSize(LEFT)
        .allSatisfy(
            s -> {
              assertThat(left).containsEntry(s.node(), s.uid());
              assertThat(Instant.ofEpochMilli(s.startMillis())).isAfter(off);
            });
    assertThat(BrakeFleet.maxOverlap(stamps))
        .as("never more than CLUSTER_REPAIR_SLOTS scripts at once")
        .isLessThanOrEqualTo(SETTINGS.slots());
    assertThat(bf.brakeState()).as("two repairs are no storm").isEqualTo(BrakeObject.OFF);
    assertThat(bf.brakeEvents().stream().map(Event::getReason).toList())
        .containsExactly("FleetBrakeOn", "FleetBrakeOff");
    Set<String> recordNodes =
        fleet.records().stream()
            .map(ConsistencyRepairJob::getSpec)
            .map(s -> s.nodeName())
            .collect(Collectors.toSet());
    assertThat(orphans.keySet()).containsAll(recordNodes);
  }

  private static boolean reason(Event e, String reason) {
    return reason.equals(e.getReason());
  }

  private static Event event(BrakeFleet bf, String reason) {
    return bf.brakeEvents().stream().filter(e -> reason(e, reason)).findFirst().orElseThrow();
  }
}
