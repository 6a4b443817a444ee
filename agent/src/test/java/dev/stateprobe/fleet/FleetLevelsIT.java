package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.sim.SimAgent;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.micrometer.core.instrument.Gauge;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * ConsistencyPolicy levels on twenty nodes, the policies created and edited through the API server
 * as a person would, judged from outside (stamps and records). Every node loses three deletes at
 * once: a pod of an {@code Eventual} namespace, one of a {@code Critical} namespace, and the
 * capture's pod that no policy selects ({@code Strict}). The Critical one is repaired first on
 * every node, the Eventual one gets a record awaiting approval and no script, and when its policy
 * is edited to {@code Strict} the running agents repair it without a restart.
 */
class FleetLevelsIT {
  static final int NODES = 20;
  static final String EVENTUAL_NS = "lvl-eventual";
  static final String CRITICAL_NS = "lvl-critical";
  static final ResourceDefinitionContext POLICIES =
      new ResourceDefinitionContext.Builder()
          .withGroup("stateprobe.dev")
          .withVersion("v1alpha1")
          .withPlural("consistencypolicies")
          .withKind("ConsistencyPolicy")
          .withNamespaced(false)
          .build();

  static GenericKubernetesResource policy(String name, String namespace, String level) {
    GenericKubernetesResource p = new GenericKubernetesResource();
    p.setApiVersion("stateprobe.dev/v1alpha1");
    p.setKind("ConsistencyPolicy");
    p.setMetadata(new ObjectMetaBuilder().withName(name).build());
    p.setAdditionalProperty(
        "spec",
        Map.of("selector", Map.of("namespaces", List.of(namespace)), "consistencyLevel", level));
    return p;
  }

  static double validPolicies(SimAgent a) {
    Gauge g = a.registry().find("stateprobe.policies").tag("state", "valid").gauge();
    return g == null ? -1 : g.value();
  }

  @Test
  void criticalGoesFirstEventualWaitsForApprovalAndALiveEditTakesWithoutRestart() throws Exception {
    Map<String, String> env = new LinkedHashMap<>(FleetBudgetIT.env());
    try (Fleet fleet = Fleet.start(NODES, env)) {
      var policies = fleet.cluster.client().genericKubernetesResources(POLICIES);
      policies.resource(policy("fleet-eventual", EVENTUAL_NS, "Eventual")).create();
      policies.resource(policy("fleet-critical", CRITICAL_NS, "Critical")).create();
      fleet.awaitAllTrusted(Duration.ofMinutes(3));
      await("every agent holds both policies")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> fleet.nodes().stream().allMatch(n -> validPolicies(n.agent()) == 2));
      for (SimNode n : fleet.nodes()) {
        n.createPod(EVENTUAL_NS, "e-" + n.name());
        n.createPod(CRITICAL_NS, "c-" + n.name());
      }

      Map<String, String> critical = new LinkedHashMap<>();
      Map<String, String> strict = new LinkedHashMap<>();
      Map<String, String> eventual = new LinkedHashMap<>();
      for (SimNode n : fleet.nodes()) {
        critical.put(n.name(), n.loseDelete(CRITICAL_NS, "c-" + n.name()));
        strict.put(n.name(), Fleet.loseVictimDelete(n));
        eventual.put(n.name(), n.loseDelete(EVENTUAL_NS, "e-" + n.name()));
      }

      fleet.awaitRepaired(critical, Duration.ofMinutes(5));
      fleet.awaitRepaired(strict, Duration.ofMinutes(5));
      Set<String> eventualUids = Set.copyOf(eventual.values());
      await("a record awaiting approval for every Eventual orphan")
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> recordsOf(fleet, eventualUids).size() == NODES);

      Map<String, Fleet.Stamp> byUid =
          fleet.stamps().stream().collect(Collectors.toMap(Fleet.Stamp::uid, s -> s, (a, b) -> a));
      assertThat(byUid.keySet())
          .as("no script ran for an Eventual pod on its own")
          .doesNotContainAnyElementsOf(eventualUids);
      assertThat(recordsOf(fleet, eventualUids))
          .as("the Eventual records await approval, nothing attempted")
          .allSatisfy(
              j -> {
                assertThat(j.getStatus().phase()).isEqualTo(Phase.PENDING);
                assertThat(j.getStatus().attempts()).isZero();
              });
      for (SimNode n : fleet.nodes()) {
        Fleet.Stamp c = byUid.get(critical.get(n.name()));
        Fleet.Stamp s = byUid.get(strict.get(n.name()));
        assertThat(c.endMillis())
            .as("on %s the Critical pod's script ran before the Strict pod's", n.name())
            .isLessThanOrEqualTo(s.startMillis());
      }

      // Live edit: Eventual -> Strict. The running agents repair those pods from their next cycle.
      GenericKubernetesResource p = policies.withName("fleet-eventual").get();
      p.setAdditionalProperty(
          "spec",
          Map.of(
              "selector",
              Map.of("namespaces", List.of(EVENTUAL_NS)),
              "consistencyLevel",
              "Strict"));
      policies.resource(p).update();
      fleet.awaitRepaired(eventual, Duration.ofMinutes(5));
      assertThat(fleet.untrusted()).isEmpty();
    }
  }

  static List<ConsistencyRepairJob> recordsOf(Fleet fleet, Set<String> uids) {
    return fleet.records().stream()
        .filter(j -> uids.contains(j.getSpec().drift().target().uid()))
        .toList();
  }
}
