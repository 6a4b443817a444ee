package dev.stateprobe.demo;

import dev.stateprobe.coordinator.Coordinator;
import dev.stateprobe.coordinator.CoordinatorConfig;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.fleet.BrakeObject;
import dev.stateprobe.fleet.StormSettings;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.budget.SlotView;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.sim.SimCluster;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The fleet demo's cluster: a {@link SimCluster} of N nodes seeded from the real capture, each with
 * its own in-process agent ({@code REPAIR_MODE=on}, the cluster repair budget, {@code
 * FLEET_BRAKE=on}) and one in-process {@link Coordinator} publishing the brake. The catalog's one
 * script stops an orphan's sandbox through its node's fake kubelet, takes {@link #SCRIPT_SECONDS}
 * (so that slot holders can be watched), and stamps its node, pod UID, start and end (epoch ms)
 * into a shared folder: the scenarios are judged from those stamps, the records and the Leases,
 * never from the agents' insides.
 */
public final class FleetDemo implements AutoCloseable {
  /** The agents' and the coordinator's namespace: slot Leases, brake Lease, leader Lease. */
  static final String NAMESPACE = "state-probe";

  static final String SCRIPT = "fleet-stop-sandbox";

  /** How long each repair script runs: long enough to see several slots held at once. */
  static final int SCRIPT_SECONDS = 1;

  /** One script run, as it stamped itself. */
  record Stamp(String node, String uid, long startMillis, long endMillis) {}

  /**
   * {@link #loseDelete} on each node at once (a thread per node, at most 8): one at a time waits
   * for each simulated kubelet's sync, which on a busy machine spreads "at once" over seconds.
   *
   * @return the orphans' UIDs by node name, in the nodes' order
   */
  static Map<String, String> loseDeletes(List<SimNode> nodes, String prefix) {
    return loseDeletes(nodes, List.of(prefix)).get(prefix);
  }

  /**
   * On each node at once, the lost deletes of these pods, one right after the other in this order.
   *
   * @return by prefix, the orphans' UIDs by node name
   */
  static Map<String, Map<String, String>> loseDeletes(List<SimNode> nodes, List<String> prefixes) {
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    prefixes.forEach(p -> out.put(p, new LinkedHashMap<>()));
    if (nodes.isEmpty()) {
      return out;
    }
    ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, nodes.size()));
    try {
      List<Future<List<String>>> uids = new ArrayList<>();
      for (SimNode n : nodes) {
        uids.add(pool.submit(() -> prefixes.stream().map(p -> loseDelete(n, p)).toList()));
      }
      for (int i = 0; i < nodes.size(); i++) {
        List<String> got = uids.get(i).get();
        for (int k = 0; k < prefixes.size(); k++) {
          out.get(prefixes.get(k)).put(nodes.get(i).name(), got.get(k));
        }
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while losing deletes", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a lost delete failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** The slot Leases held right now and the brake as published, at one instant. */
  record Sample(Instant at, List<String> holders, String brake, Optional<Instant> since) {
    String line() {
      return "brake " + brake + "  slots " + holders.size() + ": " + String.join(" ", holders);
    }
  }

  private final SimCluster cluster;
  private final Path stampDir;
  private final int slots;
  private final Timing timing;
  private Coordinator coordinator;

  private FleetDemo(SimCluster cluster, Path stampDir, int slots, Timing timing) {
    this.cluster = cluster;
    this.stampDir = stampDir;
    this.slots = slots;
    this.timing = timing;
  }

  /**
   * Builds N nodes and starts every agent (blocking: seconds per node on a busy machine); on
   * failure closes what was made. The coordinator is started per scenario ({@link
   * #coordinator(StormSettings)}).
   */
  public static FleetDemo start(int nodes, int slots, Timing timing) throws IOException {
    Path work = Files.createTempDirectory("state-probe-fleet-demo-");
    Path stamps = Files.createDirectories(work.resolve("stamps"));
    Path catalog = catalog(Files.createDirectories(work.resolve("catalog")));
    Map<String, String> env = new LinkedHashMap<>();
    env.put("REPAIR_MODE", "on");
    env.put("POLL_INTERVAL", timing.poll().toMillis() + "ms");
    env.put("MIN_OBSERVATIONS", "3");
    env.put("MAX_CONCURRENT_REPAIRS", "1");
    env.put("MAX_REPAIRS_PER_HOUR", "1000");
    env.put("KUBELET_REQUEST_TIMEOUT", "5s");
    for (DriftKind k : DriftKind.values()) {
      env.put(k.windowVariable(), timing.window().toMillis() + "ms");
    }
    env.put("POD_NAMESPACE", NAMESPACE);
    env.put("CLUSTER_REPAIR_SLOTS", Integer.toString(slots));
    env.put("CLUSTER_MAX_REPAIRS_PER_HOUR", "1000");
    env.put("FLEET_BRAKE", "on");
    env.put("FLEET_BRAKE_NAMESPACE", NAMESPACE);
    env.put("FLEET_BRAKE_MAX_AGE", "5s");
    SimCluster cluster =
        SimCluster.builder()
            .nodes(nodes)
            .seed(SimCluster.Seed.CAPTURE)
            .catalog(catalog)
            .kubeletSync(Duration.ofSeconds(2))
            .scriptEnv("FLEET_STAMPS", stamps.toString())
            .scriptEnv("FLEET_SCRIPT_SECONDS", Integer.toString(SCRIPT_SECONDS))
            .env(env)
            .build();
    FleetDemo fleet = new FleetDemo(cluster, stamps, slots, timing);
    try {
      for (SimNode n : cluster.nodes()) {
        n.startAgent();
      }
      return fleet;
    } catch (RuntimeException | Error e) {
      fleet.close();
      throw e;
    }
  }

  /** The demo's stop-sandbox, wrapped in a script that takes its time and stamps each run. */
  private static Path catalog(Path dir) throws IOException {
    Path stop = dir.resolve("stop-sandbox.sh");
    try (InputStream in = FleetDemo.class.getResourceAsStream("/demo/scripts/stop-sandbox.sh")) {
      if (in == null) {
        throw new IllegalStateException("/demo/scripts/stop-sandbox.sh is not on the classpath");
      }
      Files.write(stop, in.readAllBytes());
    }
    Path stamp = dir.resolve("stamp.sh");
    Files.writeString(
        stamp,
        """
        #!/usr/bin/env bash
        # The demo's stop-sandbox, made to last a moment, stamping its run: node, pod UID, start
        # and end (epoch ms), one line per run in the node's own file.
        set -uo pipefail
        start=$(date +%s%3N)
        sleep "$FLEET_SCRIPT_SECONDS"
        "$(dirname "$0")/stop-sandbox.sh"
        code=$?
        end=$(date +%s%3N)
        printf '%s %s %s %s\\n' "$SIM_NODE_NAME" "$STATE_PROBE_POD_UID" "$start" "$end" \\
          >> "$FLEET_STAMPS/$SIM_NODE_NAME.log"
        exit "$code"
        """);
    for (Path p : List.of(stop, stamp)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path file = dir.resolve("catalog.yaml");
    Files.writeString(
        file,
        """
        scripts:
          - name: %s
            path: stamp.sh
            drifts: [OrphanedPod]
            mode: auto
            timeoutSeconds: 20
            maxAttempts: 3
            cooldownSeconds: 60
        """
            .formatted(SCRIPT));
    return file;
  }

  /**
   * (Re)starts the in-process coordinator with these storm settings: the brake's decision runs
   * every 500 ms, the leader Lease lasts 2 s. The records of earlier scenarios must be gone first,
   * or they count.
   */
  void coordinator(StormSettings storm) {
    stopCoordinator();
    CoordinatorConfig config =
        new CoordinatorConfig(
            NAMESPACE,
            "demo-coordinator",
            storm,
            Duration.ofMillis(500),
            Duration.ofSeconds(2),
            Duration.ofSeconds(2),
            Duration.ofMillis(1500),
            Duration.ofMillis(200),
            0);
    coordinator =
        new Coordinator(
                cluster.api().newClient(),
                config,
                Clock.systemUTC(),
                new Metrics.Coordinator(new SimpleMeterRegistry()))
            .start();
  }

  void stopCoordinator() {
    if (coordinator != null) {
      coordinator.close();
      coordinator = null;
    }
  }

  public SimCluster cluster() {
    return cluster;
  }

  List<SimNode> nodes() {
    return cluster.nodes();
  }

  int slots() {
    return slots;
  }

  Timing timing() {
    return timing;
  }

  private KubernetesClient client() {
    return cluster.client();
  }

  /** The API server's copy of the capture pod named {@code prefix…} on this node. */
  static Pod captured(SimNode node, String prefix) {
    return node.apiPods().stream()
        .filter(p -> p.getMetadata().getName().startsWith(prefix))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(node.name() + " has no pod " + prefix));
  }

  /** Deletes the node's copy of {@code prefix…} while its kubelet loses the event: an orphan. */
  static String loseDelete(SimNode node, String prefix) {
    Pod p = captured(node, prefix);
    return node.loseDelete(p.getMetadata().getNamespace(), p.getMetadata().getName());
  }

  /** The slot Leases with a holder now, and the brake's state as published. */
  Sample sample() {
    List<String> holders = new ArrayList<>();
    String brake = "missing";
    Optional<Instant> since = Optional.empty();
    for (Lease l : client().leases().inNamespace(NAMESPACE).list().getItems()) {
      String name = l.getMetadata().getName();
      if (name.startsWith(SlotView.NAME_PREFIX)) {
        String holder = l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
        if (holder != null && !holder.isEmpty()) {
          holders.add(holder);
        }
      } else if (name.equals(BrakeObject.NAME)) {
        brake =
            Optional.ofNullable(l.getMetadata().getAnnotations())
                .map(a -> a.get(BrakeObject.STATE))
                .orElse("?");
        since =
            Optional.ofNullable(l.getMetadata().getAnnotations())
                .map(a -> a.get(BrakeObject.SINCE))
                .map(Instant::parse);
      }
    }
    return new Sample(Instant.now(), List.copyOf(new TreeSet<>(holders)), brake, since);
  }

  List<ConsistencyRepairJob> records() {
    return client().resources(ConsistencyRepairJob.class).list().getItems();
  }

  /** Every script run stamped so far. */
  List<Stamp> stamps() {
    try (var files = Files.list(stampDir)) {
      List<Stamp> out = new ArrayList<>();
      for (Path f : files.sorted().toList()) {
        for (String line : Files.readAllLines(f)) {
          String[] w = line.trim().split(" ");
          if (w.length == 4) {
            out.add(new Stamp(w[0], w[1], Long.parseLong(w[2]), Long.parseLong(w[3])));
          }
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The most scripts that ran at one instant, by their own stamps. */
  static int mostAtOnce(List<Stamp> stamps) {
    int most = 0;
    for (Stamp s : stamps) {
      int at = 0;
      for (Stamp o : stamps) {
        if (o.startMillis() <= s.startMillis() && o.endMillis() >= s.startMillis()) {
          at++;
        }
      }
      most = Math.max(most, at);
    }
    return most;
  }

  /** Between scenarios: the records and stamps of the last one go, so that none counts again. */
  void clearRecordsAndStamps() {
    client().resources(ConsistencyRepairJob.class).delete();
    try (var files = Files.list(stampDir)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    stopCoordinator();
    cluster.close();
    try (var walk = Files.walk(stampDir.getParent())) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temporary folder left behind is not worth failing for
    }
  }
}
