package dev.stateprobe.fleet;

import dev.stateprobe.coordinator.Coordinator;
import dev.stateprobe.coordinator.CoordinatorConfig;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.sim.SimAgent;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link Fleet} whose agents obey the fleet storm brake ({@code FLEET_BRAKE=on}) and take the
 * cluster budget, with coordinators run in-process against the same simulated API server, each on a
 * client of its own (so one can be killed as a process is). Everything a scenario judges is read
 * from outside: the brake and leader Leases, the Events, the stamps, the agents' own metrics.
 */
final class BrakeFleet implements AutoCloseable {
  static final String NAMESPACE = "state-probe";

  /** What the agents and the coordinators share: the brake's namespace and settle. */
  record Settings(
      int slots,
      Duration maxAge,
      Duration settle,
      Duration window,
      Duration hold,
      Duration lease) {}

  final Fleet fleet;
  final Settings settings;
  private final List<Coordinator> coordinators = new ArrayList<>();

  private BrakeFleet(Fleet fleet, Settings settings) {
    this.fleet = fleet;
    this.settings = settings;
  }

  static BrakeFleet start(int nodes, Settings s) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("FLEET_BRAKE", "on");
    env.put("FLEET_BRAKE_NAMESPACE", NAMESPACE);
    env.put("FLEET_BRAKE_MAX_AGE", s.maxAge().toMillis() + "ms");
    env.put("FLEET_BRAKE_SETTLE", s.settle().toMillis() + "ms");
    env.put("POD_NAMESPACE", NAMESPACE);
    env.put("CLUSTER_REPAIR_SLOTS", Integer.toString(s.slots()));
    return new BrakeFleet(Fleet.start(nodes, env), s);
  }

  /**
   * A coordinator replica, campaigning at once: storm at more than 10 % and at least 3 nodes, a
   * heartbeat of 300 ms, the leader Lease's timings scaled from {@link Settings#lease()}.
   */
  Coordinator coordinator(String identity) {
    Duration lease = settings.lease();
    CoordinatorConfig config =
        new CoordinatorConfig(
            NAMESPACE,
            identity,
            new StormSettings(10, 3, settings.window(), settings.hold()),
            Duration.ofMillis(300),
            Duration.ofSeconds(1),
            lease,
            lease.multipliedBy(2).dividedBy(3),
            Duration.ofMillis(500),
            0,
            settings.settle());
    Coordinator c =
        new Coordinator(
                fleet.cluster.api().newClient(),
                config,
                Clock.systemUTC(),
                new Metrics.Coordinator(new SimpleMeterRegistry()))
            .start();
    coordinators.add(c);
    return c;
  }

  Optional<Lease> brake() {
    return Optional.ofNullable(
        fleet.cluster.client().leases().inNamespace(NAMESPACE).withName(BrakeObject.NAME).get());
  }

  /** The published state, empty before the first publication. */
  String brakeState() {
    return brake()
        .map(l -> l.getMetadata().getAnnotations().getOrDefault(BrakeObject.STATE, ""))
        .orElse("");
  }

  /** The brake Lease's heartbeat is older than the agents' FLEET_BRAKE_MAX_AGE. */
  boolean brakeStale() {
    return brake()
        .map(l -> l.getSpec().getRenewTime().toInstant())
        .map(t -> t.plus(settings.maxAge()).isBefore(Instant.now()))
        .orElse(true);
  }

  Optional<Lease> leaderLease() {
    return Optional.ofNullable(
        fleet
            .cluster
            .client()
            .leases()
            .inNamespace(NAMESPACE)
            .withName(CoordinatorConfig.LEADER_LEASE)
            .get());
  }

  /** The brake's Events, oldest first. */
  List<Event> brakeEvents() {
    return fleet
        .cluster
        .client()
        .events()
        .v1()
        .events()
        .inNamespace(NAMESPACE)
        .list()
        .getItems()
        .stream()
        .filter(e -> e.getRegarding() != null)
        .filter(e -> BrakeObject.NAME.equals(e.getRegarding().getName()))
        .sorted(Comparator.comparing(BrakeFleet::eventTime))
        .toList();
  }

  static Instant eventTime(Event e) {
    return Instant.parse(e.getEventTime().getTime());
  }

  /**
   * Of these nodes, those whose agent does not read the brake with this reason now. An agent reads
   * the brake when it plans, and builds its repair side at its first drift: a node that never
   * drifted has no reading to show.
   */
  static List<String> notReading(List<SimNode> nodes, String reason) {
    List<String> out = new ArrayList<>();
    for (SimNode n : nodes) {
      SimAgent a = n.agent();
      Gauge g =
          a == null
              ? null
              : a.registry().find("stateprobe.fleet.brake.reason").tag("reason", reason).gauge();
      if (g == null || g.value() != 1.0) {
        out.add(n.name());
      }
    }
    return out;
  }

  /** How often this node's agent held a repair back with this throttle reason. */
  static double throttled(SimNode node, String reason) {
    Counter c =
        node.agent()
            .registry()
            .find("stateprobe.repairs.throttled")
            .tag("reason", reason)
            .counter();
    return c == null ? 0 : c.count();
  }

  /** The most stamps running at one instant (a start at another's end does not overlap). */
  static int maxOverlap(List<Fleet.Stamp> stamps) {
    int most = 0;
    for (Fleet.Stamp s : stamps) {
      int running = 0;
      for (Fleet.Stamp o : stamps) {
        if (o.startMillis() <= s.startMillis() && o.endMillis() > s.startMillis()) {
          running++;
        }
      }
      most = Math.max(most, running);
    }
    return most;
  }

  @Override
  public void close() {
    for (Coordinator c : coordinators) {
      try {
        c.close();
      } catch (RuntimeException e) {
        // the fleet still closes
      }
    }
    fleet.close();
  }
}
