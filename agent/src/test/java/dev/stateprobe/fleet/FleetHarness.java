package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The fleet at scale (not part of the suite: its name is not {@code *IT}): N nodes (system property
 * {@code stateprobe.fleet.nodes}, default 100) with an agent each against one API server. Prints
 * the time from the first agent's start to every agent trusted, then the agents' requests per node
 * per minute over a quiet minute ({@code stateprobe.fleet.window}, ISO-8601, default PT60S) and
 * over one lost delete on every node until all are repaired. Run:
 *
 * <pre>
 * ./mvnw -B -ntp -pl agent verify -Dspotless.check.skip=true -Dtest=NONE \
 *   -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=FleetHarness -Dstateprobe.fleet.nodes=100
 * </pre>
 */
class FleetHarness {
  @Test
  void fleetAtScale() throws Exception {
    int nodes = Integer.getInteger("stateprobe.fleet.nodes", 100);
    Duration quiet = Duration.parse(System.getProperty("stateprobe.fleet.window", "PT60S"));
    Instant t0 = Instant.now();
    try (Fleet fleet = Fleet.start(nodes, Map.of("POLL_INTERVAL", "1s"))) {
      Instant started = Instant.now();
      Duration toTrusted = fleet.awaitAllTrusted(Duration.ofMinutes(10));
      System.out.printf(
          "fleet harness: %d nodes built and agents started in %.1f s; all trusted %.1f s after"
              + " the last start (%.1f s from the first)%n",
          nodes,
          Duration.between(t0, started).toMillis() / 1000.0,
          toTrusted.toMillis() / 1000.0,
          Duration.between(t0, Instant.now()).toMillis() / 1000.0);
      fleet.startApiWindow();
      Awaitility.await("a quiet window")
          .pollDelay(quiet)
          .atMost(quiet.plusSeconds(5))
          .until(() -> true);
      fleet.apiLoad().print(System.out, "harness, steady state");
      fleet.startApiWindow();
      Instant lost = Instant.now();
      Map<String, String> orphans = fleet.onEveryNode(Fleet::loseVictimDelete);
      fleet.awaitRepaired(orphans, Duration.ofMinutes(10));
      System.out.printf(
          "fleet harness: %d orphans repaired and verified %.1f s after the lost deletes%n",
          nodes, Duration.between(lost, Instant.now()).toMillis() / 1000.0);
      fleet.apiLoad().print(System.out, "harness, one lost delete per node until repaired");
      assertThat(fleet.untrusted()).isEmpty();
    }
  }
}
