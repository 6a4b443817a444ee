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
 * over one lost delete on every node until all are repaired, split by verb and resource. The agents
 * run with the cluster repair budget (5 slots) and {@code FLEET_BRAKE=on} against an in-process
 * coordinator at its production heartbeat (15 s) whose storm threshold is set out of reach ({@code
 * stateprobe.fleet.brake=false} runs them without brake and coordinator), so that the counts hold
 * the slot Leases' calls, the brake watch and the coordinator's own requests. Run:
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
    boolean brake = Boolean.parseBoolean(System.getProperty("stateprobe.fleet.brake", "true"));
    Map<String, String> env = new java.util.LinkedHashMap<>();
    env.put("POLL_INTERVAL", "1s");
    env.put("POD_NAMESPACE", NAMESPACE);
    if (brake) {
      env.put("FLEET_BRAKE", "on");
      env.put("FLEET_BRAKE_NAMESPACE", NAMESPACE);
    }
    try (Fleet fleet = Fleet.start(nodes, env);
        AutoCloseable coordinator = brake ? coordinator(fleet) : () -> {}) {
      Instant started = Instant.now();
      Duration toTrusted = fleet.awaitAllTrusted(Duration.ofMinutes(10));
      System.out.printf(
          "fleet harness: %d nodes built and agents started in %.1f s; all trusted %.1f s after"
              + " the last start (%.1f s from the first)%n",
          nodes,
          Duration.between(t0, started).toMillis() / 1000.0,
          toTrusted.toMillis() / 1000.0,
          Duration.between(t0, Instant.now()).toMillis() / 1000.0);
      System.out.printf(
          "fleet harness: %d open watches after start-up; start-up requests by verb and resource"
              + " (agents and coordinator, every node): %s%n",
          fleet.cluster.api().openWatches(), byVerbAndResource(fleet));
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

  static final String NAMESPACE = "state-probe";

  /**
   * A coordinator as the Deployment runs it (defaults: heartbeat 15 s, node count every minute,
   * leader Lease 15 s, retry 2 s), but with a threshold no lost-delete-everywhere can pass: the
   * harness measures the load of a fleet whose brake is watched, not a storm.
   */
  private static AutoCloseable coordinator(Fleet fleet) {
    var config =
        new dev.stateprobe.coordinator.CoordinatorConfig(
            NAMESPACE,
            "harness-coordinator",
            new dev.stateprobe.fleet.StormSettings(
                100, 3, Duration.ofMinutes(5), Duration.ofMinutes(2)),
            Duration.ofSeconds(15),
            Duration.ofSeconds(60),
            Duration.ofSeconds(15),
            Duration.ofSeconds(10),
            Duration.ofSeconds(2),
            0);
    return new dev.stateprobe.coordinator.Coordinator(
            fleet.cluster.api().newClient(),
            config,
            java.time.Clock.systemUTC(),
            new dev.stateprobe.metrics.Metrics.Coordinator(
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry()))
        .start();
  }

  /** The non-backstage requests in the API server's log, by verb and resource. */
  private static Map<String, Long> byVerbAndResource(Fleet fleet) {
    return fleet.cluster.api().requests().stream()
        .filter(r -> !r.backstage())
        .collect(
            java.util.stream.Collectors.groupingBy(
                r -> r.verb() + (r.resource() == null ? "" : " " + r.resource()),
                java.util.TreeMap::new,
                java.util.stream.Collectors.counting()));
  }
}
