package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.testing.SimClusterExtension;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Twenty nodes, each with its own agent and fake kubelet, against one API server. A scenario acts
 * on every node at once and waits for every agent; the API server's load is printed, not asserted.
 */
class FleetIT {
  static final int NODES = 20;

  @RegisterExtension
  static final SimClusterExtension<Fleet> FLEET =
      SimClusterExtension.of(() -> Fleet.start(NODES, Map.of()));

  @Test
  void aDeleteLostOnEveryNodeAtOnceIsRepairedOnEveryNode() {
    Fleet fleet = FLEET.get();
    Duration toTrusted = fleet.awaitAllTrusted(Duration.ofMinutes(2));
    System.out.printf("fleet: %d agents trusted within %s of the check%n", NODES, toTrusted);
    fleet.startApiWindow();

    Map<String, String> orphans = fleet.onEveryNode(Fleet::loseVictimDelete);

    fleet.awaitRepaired(orphans, Duration.ofMinutes(3));
    assertThat(fleet.untrusted()).isEmpty();
    assertThat(fleet.stamps())
        .as("one stamped run per orphan, on its own node")
        .hasSize(NODES)
        .allSatisfy(
            s -> {
              assertThat(orphans).containsEntry(s.node(), s.uid());
              assertThat(s.endMillis()).isGreaterThanOrEqualTo(s.startMillis());
            });
    assertThat(fleet.records())
        .as("one record per orphan")
        .hasSize(NODES)
        .allSatisfy(j -> assertThat(j.getSpec().script()).isEqualTo(Fleet.SCRIPT));
    fleet.apiLoad().print(System.out, "lose-one-delete-everywhere");
  }
}
