package dev.stateprobe.rbac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.controlplane.ApiServerClient;
import dev.stateprobe.controlplane.BrakeWatch;
import dev.stateprobe.controlplane.ListWatch;
import dev.stateprobe.coordinator.Coordinator;
import dev.stateprobe.coordinator.CoordinatorConfig;
import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.fleet.BrakeObject;
import dev.stateprobe.fleet.StormSettings;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.sim.SimApiRequest;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Holds the coordinator's ClusterRole and Role to what two coordinators really call: one leads
 * (leader Lease created, renewed), the other keeps asking; the leader reads the records and counts
 * the nodes, creates and renews the brake Lease, turns the brake on (an Event) and, when it goes,
 * the other takes the lead and reads the brake it inherits. The test fails on a call no rule grants
 * (a rule with {@code resourceNames} grants only those names; a list or watch only with {@code
 * fieldSelector=metadata.name=} one of them) and on a grant, per name, that nothing used.
 */
class CoordinatorRbacIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String NS = "state-probe";

  /** One grant: {@code group/resource:verb}, and the one name it is limited to, or {@code *}. */
  record Grant(String grant, String name) implements Comparable<Grant> {
    @Override
    public int compareTo(Grant o) {
      return (grant + " " + name).compareTo(o.grant + " " + o.name);
    }

    @Override
    public String toString() {
      return grant + (name.equals("*") ? "" : "[" + name + "]");
    }
  }

  static Set<Grant> grants(List<PolicyRule> rules) {
    Set<Grant> out = new TreeSet<>();
    for (PolicyRule rule : rules) {
      List<String> names =
          rule.getResourceNames().isEmpty() ? List.of("*") : rule.getResourceNames();
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            for (String name : names) {
              out.add(new Grant(group + "/" + resource + ":" + verb, name));
            }
          }
        }
      }
    }
    return out;
  }

  /** The name a request is about: its path's, or a list's or watch's {@code metadata.name=}. */
  static Optional<String> name(SimApiRequest r) {
    if (r.name() != null) {
      return Optional.of(r.name());
    }
    for (String p : r.query().split("&")) {
      String decoded = URLDecoder.decode(p, StandardCharsets.UTF_8);
      if (decoded.startsWith("fieldSelector=metadata.name=")) {
        return Optional.of(decoded.substring("fieldSelector=metadata.name=".length()));
      }
    }
    return Optional.empty();
  }

  private static <T extends HasMetadata> T read(SimApiServer sim, String file, Class<T> type)
      throws Exception {
    try (InputStream in = Files.newInputStream(ROOT.resolve(file))) {
      return sim.client().getKubernetesSerialization().unmarshal(in, type);
    }
  }

  @Test
  void theCoordinatorsRolesGrantExactlyWhatTwoCoordinatorsCall() throws Exception {
    try (SimApiServer sim = new SimApiServer().start()) {
      for (int i = 0; i < 10; i++) {
        sim.client()
            .nodes()
            .resource(new NodeBuilder().withNewMetadata().withName("n" + i).endMetadata().build())
            .create();
      }
      List<Coordinator> coordinators = new ArrayList<>();
      try {
        for (String id : List.of("c-a", "c-b")) {
          coordinators.add(
              new Coordinator(
                      sim.newClient(),
                      new CoordinatorConfig(
                          NS,
                          id,
                          new StormSettings(10, 3, Duration.ofMinutes(5), Duration.ofMinutes(5)),
                          Duration.ofMillis(200),
                          Duration.ofMillis(300),
                          Duration.ofSeconds(2),
                          Duration.ofMillis(1500),
                          Duration.ofMillis(200),
                          0),
                      Clock.systemUTC(),
                      new Metrics.Coordinator(new SimpleMeterRegistry()))
                  .start());
          if (coordinators.size() == 1) {
            await().atMost(Duration.ofSeconds(20)).until(coordinators.getFirst()::leading);
          }
        }
        for (int i = 0; i < 3; i++) {
          record(sim, "n" + i);
        }
        await()
            .atMost(Duration.ofSeconds(20))
            .until(
                () ->
                    sim.client().events().v1().events().inNamespace(NS).list().getItems().stream()
                        .anyMatch(e -> "FleetBrakeOn".equals(e.getReason())));
        coordinators.getFirst().close();
        Coordinator b = coordinators.get(1);
        await().atMost(Duration.ofSeconds(20)).until(b::leading);
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    "c-b"
                        .equals(
                            sim.client()
                                .leases()
                                .inNamespace(NS)
                                .withName(BrakeObject.NAME)
                                .get()
                                .getSpec()
                                .getHolderIdentity()));
      } finally {
        coordinators.forEach(Coordinator::close);
      }

      Set<Grant> granted = new TreeSet<>();
      granted.addAll(
          grants(
              read(sim, "manifests/base/coordinator-clusterrole.yaml", ClusterRole.class)
                  .getRules()));
      granted.addAll(
          grants(read(sim, "manifests/base/coordinator-role.yaml", Role.class).getRules()));
      assertExactly(granted, sim.requests());
    }
  }

  /**
   * The agents' Role for the brake against an agent's brake watch: its first list, its watch, and
   * the changes it sees.
   */
  @Test
  void theAgentsBrakeRoleGrantsExactlyWhatItsBrakeWatchCalls() throws Exception {
    try (SimApiServer sim = new SimApiServer().start()) {
      Vertx vertx = Vertx.vertx();
      WorkerExecutor worker = vertx.createSharedWorkerExecutor("rbac-worker", 1);
      ApiServerClient client =
          new ApiServerClient(vertx, sim.newClient().getConfiguration(), worker, Clock.systemUTC());
      try (BrakeWatch watch =
          BrakeWatch.of(
              client,
              NS,
              ListWatch.Settings.defaults()
                  .withBackoff(Duration.ofMillis(100), Duration.ofMillis(1600)))) {
        watch.start();
        sim.client()
            .leases()
            .inNamespace(NS)
            .resource(
                new LeaseBuilder()
                    .withNewMetadata()
                    .withName(BrakeObject.NAME)
                    .withNamespace(NS)
                    .addToAnnotations(BrakeObject.STATE, "on")
                    .endMetadata()
                    .build())
            .create();
        await().atMost(Duration.ofSeconds(20)).until(() -> watch.latest().isPresent());
        sim.client()
            .leases()
            .inNamespace(NS)
            .withName(BrakeObject.NAME)
            .edit(
                l -> {
                  l.getMetadata().getAnnotations().put(BrakeObject.STATE, "off");
                  return l;
                });
        await().atMost(Duration.ofSeconds(20)).until(() -> watch.latest().orElseThrow().saysOff());
      } finally {
        client.close();
        vertx.close().await(10, TimeUnit.SECONDS);
      }
      assertExactly(
          grants(read(sim, "manifests/base/fleet-brake-role.yaml", Role.class).getRules()),
          sim.requests());
    }
  }

  /** Every resource call granted (by name where the rule names), and every grant used. */
  private static void assertExactly(Set<Grant> granted, List<SimApiRequest> requests) {
    List<String> notGranted = new ArrayList<>();
    Set<Grant> used = new TreeSet<>();
    for (SimApiRequest r :
        requests.stream().filter(r -> !r.backstage() && r.resource() != null).toList()) {
      String g =
          r.apiGroup()
              + "/"
              + r.resource()
              + (r.subresource() == null ? "" : "/" + r.subresource())
              + ":"
              + r.verb();
      Optional<String> name = name(r);
      Optional<Grant> byName = name.map(n -> new Grant(g, n)).filter(granted::contains);
      Grant any = new Grant(g, "*");
      if (byName.isPresent()) {
        used.add(byName.get());
      } else if (granted.contains(any)) {
        used.add(any);
      } else {
        notGranted.add(
            g + name.map(n -> "[" + n + "]").orElse("") + " " + r.method() + " " + r.path());
      }
    }
    Set<Grant> unused = new TreeSet<>(granted);
    unused.removeAll(used);
    assertThat(notGranted).as("calls the roles do not grant").isEmpty();
    assertThat(unused).as("grants no call used").isEmpty();
  }

  private static void record(SimApiServer sim, String node) {
    Instant now = Instant.now();
    TrackedDrift d =
        new TrackedDrift(
            new Drift.OrphanedPod(
                new PodRef("shop", "p-" + node, "uid-" + node), Drift.Source.KUBELET),
            now.minusSeconds(30),
            now,
            3);
    RepairJobSpec spec =
        RepairJobSpec.of(node, d, Optional.empty(), "remove-orphaned-sandbox", false);
    sim.client()
        .resources(ConsistencyRepairJob.class)
        .resource(
            ConsistencyRepairJob.of(
                new ObjectMetaBuilder().withName(spec.jobName()).build(), spec, null))
        .create();
  }
}
