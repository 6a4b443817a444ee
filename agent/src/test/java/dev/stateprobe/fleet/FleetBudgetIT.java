package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.repair.budget.SlotView;
import dev.stateprobe.sim.SimAgent;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The cluster repair budget on twenty nodes, each with its own agent and fake kubelet, judged from
 * outside: the scripts' own start and end stamps, the records and the slot Leases. The brake is not
 * obeyed (no coordinator here), so only the budget stands between the fleet and a storm of scripts.
 * Each scenario builds its own fleet: a killed agent is not given back.
 */
class FleetBudgetIT {
  static final int NODES = 20;
  static final int SLOTS = 3;
  static final String NS = "state-probe";

  /** Short budget timing, so that waits and a dead holder's lease are seconds, not minutes. */
  static Map<String, String> env() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("CLUSTER_REPAIR_SLOTS", String.valueOf(SLOTS));
    env.put("POD_NAMESPACE", NS);
    env.put("CLUSTER_BUDGET_RETRY_MIN", "200ms");
    env.put("CLUSTER_BUDGET_RETRY_MAX", "2s");
    env.put("CLUSTER_SLOT_MARGIN", "2s");
    env.put("FLEET_BRAKE", "off");
    return env;
  }

  static List<Lease> slots(Fleet fleet) {
    return fleet.cluster.client().leases().inNamespace(NS).list().getItems().stream()
        .filter(l -> l.getMetadata().getName().startsWith(SlotView.NAME_PREFIX))
        .toList();
  }

  static Optional<String> holder(Lease l) {
    return Optional.ofNullable(l.getSpec().getHolderIdentity()).filter(h -> !h.isEmpty());
  }

  /** The most scripts whose stamped runs overlap at one instant. */
  static int mostAtOnce(List<Fleet.Stamp> stamps) {
    List<long[]> edges = new ArrayList<>();
    for (Fleet.Stamp s : stamps) {
      edges.add(new long[] {s.startMillis(), 1});
      edges.add(new long[] {s.endMillis(), -1});
    }
    // An end and a start at the same millisecond: the end first (the slot was given back).
    edges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    int now = 0;
    int most = 0;
    for (long[] e : edges) {
      now += (int) e[1];
      most = Math.max(most, now);
    }
    return most;
  }

  @Test
  void aDeleteLostOnEveryNodeRunsAtMostTheSlotsAtOnceAndLeaksNoSlot() throws Exception {
    try (Fleet fleet = Fleet.start(NODES, env())) {
      fleet.awaitAllTrusted(Duration.ofMinutes(3));
      fleet.slowScripts(null, "1");

      Map<String, String> orphans = fleet.onEveryNode(Fleet::loseVictimDelete);

      // Seventeen repairs wait while three run: their /v1/drifts entries say for what.
      HttpClient http = HttpClient.newHttpClient();
      await("a /v1/drifts entry whose repair waits for the cluster budget")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () ->
                  fleet.nodes().stream()
                      .anyMatch(
                          n ->
                              drifts(http, n)
                                  .contains(
                                      "\"repairHeld\":{\"reason\":\"cluster_budget\","
                                          + "\"detail\":\"no_free_slot\"}")));

      fleet.awaitRepaired(orphans, Duration.ofMinutes(5));
      List<Fleet.Stamp> stamps = fleet.stamps();
      assertThat(stamps).as("one stamped run per orphan").hasSize(NODES);
      int most = mostAtOnce(stamps);
      System.out.printf(
          "fleet budget: %d scripts, at most %d at once (CLUSTER_REPAIR_SLOTS=%d)%n",
          stamps.size(), most, SLOTS);
      assertThat(most)
          .as("scripts running at one instant, from their own stamps")
          .isLessThanOrEqualTo(SLOTS)
          // The scripts sleep a second each and twenty nodes want one at once: a budget that
          // let only one run at a time would be a different defect.
          .isGreaterThan(1);
      await("every slot Lease given back")
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> slots(fleet).stream().noneMatch(l -> holder(l).isPresent()));
      assertThat(slots(fleet)).hasSizeLessThanOrEqualTo(SLOTS).isNotEmpty();
    }
  }

  @Test
  void anAgentKilledHoldingASlotLosesItAtExpiryAndTheOthersProceed() throws Exception {
    try (Fleet fleet = Fleet.start(NODES, env())) {
      fleet.awaitAllTrusted(Duration.ofMinutes(3));
      SimNode doomed = fleet.nodes().getFirst();
      fleet.slowScripts(doomed.name(), "15");
      fleet.slowScripts(null, "0.5");

      String doomedOrphan = Fleet.loseVictimDelete(doomed);
      Lease held =
          await("the doomed node's agent holds a slot")
              .atMost(Duration.ofMinutes(2))
              .pollInterval(Duration.ofMillis(100))
              .until(
                  () ->
                      slots(fleet).stream()
                          .filter(l -> holder(l).equals(Optional.of(doomed.name())))
                          .findFirst(),
                  Optional::isPresent)
              .orElseThrow();
      doomed.killAgent();

      Map<String, String> orphans = new LinkedHashMap<>();
      for (SimNode n : fleet.nodes().subList(1, NODES)) {
        orphans.put(n.name(), Fleet.loseVictimDelete(n));
      }
      fleet.awaitRepaired(orphans, Duration.ofMinutes(5));

      // The dead agent's slot: taken by another after its expiry, or expired and never renewed.
      String slot = held.getMetadata().getName();
      await("the dead agent's slot freed at its expiry")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () ->
                  free(
                      fleet.cluster.client().leases().inNamespace(NS).withName(slot).get(),
                      doomed));
      assertThat(fleet.stamps())
          .as("the other nineteen ran while the dead agent's slot was held")
          .filteredOn(s -> !s.node().equals(doomed.name()))
          .hasSize(NODES - 1);
      assertThat(fleet.records())
          .as("no other node took the dead agent's orphan")
          .filteredOn(j -> j.getSpec().drift().target().uid().equals(doomedOrphan))
          .allSatisfy(j -> assertThat(j.getSpec().nodeName()).isEqualTo(doomed.name()));
      await("no slot leaked: each without a holder or expired")
          .atMost(Duration.ofMinutes(1))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> slots(fleet).stream().allMatch(l -> free(l, null)));
    }
  }

  /** The node's agent's {@code /v1/drifts}, or "" when it does not answer. */
  static String drifts(HttpClient http, SimNode n) {
    SimAgent a = n.agent();
    if (a == null) {
      return "";
    }
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v1/drifts"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (java.io.IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /** Without a holder, or held by {@code dead} (any holder when null) past its expiry. */
  static boolean free(Lease l, SimNode dead) {
    Optional<String> h = holder(l);
    if (h.isEmpty() || (dead != null && !h.get().equals(dead.name()))) {
      return true;
    }
    return l.getSpec()
        .getRenewTime()
        .toInstant()
        .plusSeconds(l.getSpec().getLeaseDurationSeconds())
        .isBefore(Instant.now());
  }
}
