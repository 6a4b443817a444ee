package dev.stateprobe.fleet;

import static org.awaitility.Awaitility.await;

import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.sim.SimAgent;
import dev.stateprobe.sim.SimApiRequest;
import dev.stateprobe.sim.SimCluster;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A {@link SimCluster} of N nodes, each seeded from the real capture and running its own in-process
 * agent with {@code REPAIR_MODE=on} and a catalog whose one script stops an orphan's sandbox
 * through its node's fake kubelet and stamps its start and end (epoch ms) and its node into a
 * shared folder. A fleet scenario is a few lines on top: act on every node ({@link #onEveryNode}),
 * wait ({@link #awaitAllTrusted}, {@link #awaitRepaired}), look ({@link #stamps}, {@link
 * #apiLoad}).
 */
final class Fleet implements AutoCloseable {
  /** The catalog's one entry. */
  static final String SCRIPT = "fleet-stop-sandbox";

  /** The capture's pod every node loses a delete of (renamed after its node). */
  static final String VICTIM = "e2e-deployment-79967c5968-8bnn8";

  /** One script run: which node, which pod UID, when it started and ended (epoch ms). */
  record Stamp(String node, String uid, long startMillis, long endMillis) {
    static Stamp parse(String line) {
      String[] f = line.trim().split(" ");
      return new Stamp(f[0], f[1], Long.parseLong(f[2]), Long.parseLong(f[3]));
    }
  }

  /** What the agents asked of the API server over a window. */
  record ApiLoad(int nodes, Duration window, long requests, Map<String, Long> byVerb) {
    double perNodePerMinute() {
      return requests / (double) nodes / (window.toMillis() / 60_000.0);
    }

    void print(PrintStream out, String what) {
      out.printf(
          "fleet %s: %d nodes, %d agent requests in %.1f s = %.1f requests per node per minute;"
              + " by verb and resource: %s%n",
          what, nodes, requests, window.toMillis() / 1000.0, perNodePerMinute(), byVerb);
    }
  }

  final SimCluster cluster;
  final Path stampDir;
  private Instant windowStart;

  private Fleet(SimCluster cluster, Path stampDir) {
    this.cluster = cluster;
    this.stampDir = stampDir;
  }

  /**
   * Builds the cluster and starts every node's agent.
   *
   * @param env agent variables on top of the fleet's (short windows, repair on)
   */
  static Fleet start(int nodes, Map<String, String> env) throws IOException {
    Path work = Files.createTempDirectory("state-probe-fleet-");
    Path stamps = Files.createDirectories(work.resolve("stamps"));
    Path catalog = catalog(Files.createDirectories(work.resolve("catalog")));
    Map<String, String> all = new LinkedHashMap<>();
    all.put("REPAIR_MODE", "on");
    all.put("POLL_INTERVAL", "500ms");
    all.put("MIN_OBSERVATIONS", "3");
    all.put("MAX_CONCURRENT_REPAIRS", "1");
    all.put("MAX_REPAIRS_PER_HOUR", "1000");
    all.put("KUBELET_REQUEST_TIMEOUT", "5s");
    for (var k : dev.stateprobe.drift.DriftKind.values()) {
      all.put(k.windowVariable(), "2s");
    }
    all.putAll(env);
    SimCluster cluster =
        SimCluster.builder()
            .nodes(nodes)
            .seed(SimCluster.Seed.CAPTURE)
            .catalog(catalog)
            .kubeletSync(Duration.ofSeconds(5))
            .scriptEnv("FLEET_STAMPS", stamps.toString())
            .env(all)
            .build();
    Fleet fleet = new Fleet(cluster, stamps);
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

  /** The demo's stop-sandbox script wrapped in one that stamps each run. */
  private static Path catalog(Path dir) throws IOException {
    Path stop = dir.resolve("stop-sandbox.sh");
    try (InputStream in = Fleet.class.getResourceAsStream("/demo/scripts/stop-sandbox.sh")) {
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
        # Runs the demo's stop-sandbox and stamps the run: node, pod UID, start and end (epoch ms).
        set -uo pipefail
        start=$(date +%s%3N)
        # A slow script on demand: a number of seconds in slow-<node> (or slow, for every node).
        for f in "$FLEET_STAMPS/../slow-$SIM_NODE_NAME" "$FLEET_STAMPS/../slow"; do
          if [ -f "$f" ]; then sleep "$(cat "$f")"; break; fi
        done
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

  List<SimNode> nodes() {
    return cluster.nodes();
  }

  /** Does {@code act} on every node, in order; answers what it answered, by node name. */
  <T> Map<String, T> onEveryNode(Function<SimNode, T> act) {
    Map<String, T> out = new LinkedHashMap<>();
    for (SimNode n : nodes()) {
      out.put(n.name(), act.apply(n));
    }
    return out;
  }

  /** The API server's copy of the capture's {@link #VICTIM} on this node. */
  static Pod victimOf(SimNode node) {
    return node.apiPods().stream()
        .filter(p -> p.getMetadata().getName().startsWith(VICTIM))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(node.name() + " has no " + VICTIM));
  }

  /**
   * Deletes the node's copy of {@link #VICTIM} while its kubelet loses the event: an OrphanedPod.
   *
   * @return the orphan's UID
   */
  static String loseVictimDelete(SimNode node) {
    Pod v = victimOf(node);
    return node.loseDelete(v.getMetadata().getNamespace(), v.getMetadata().getName());
  }

  /** Waits until every node's agent has run a trusted cycle; answers how long that took. */
  Duration awaitAllTrusted(Duration atMost) {
    Instant t0 = Instant.now();
    await("every agent's first trusted cycle")
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(200))
        .until(() -> untrusted().isEmpty());
    return Duration.between(t0, Instant.now());
  }

  /** The nodes whose agent has not run a trusted cycle yet. */
  List<String> untrusted() {
    List<String> out = new ArrayList<>();
    for (SimNode n : nodes()) {
      SimAgent a = n.agent();
      if (a == null || a.trustedCycles() == 0) {
        out.add(n.name());
      }
    }
    return out;
  }

  /**
   * Waits until each orphan (pod UID by node name) has a record Succeeded and verified Resolved,
   * and its kubelet no longer runs it.
   */
  void awaitRepaired(Map<String, String> orphans, Duration atMost) {
    await("every orphan repaired and verified")
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> unrepaired(orphans).isEmpty());
  }

  /** The orphans not repaired yet, with what their record says. */
  Map<String, String> unrepaired(Map<String, String> orphans) {
    Map<String, ConsistencyRepairJob> byUid =
        records().stream()
            .collect(
                Collectors.toMap(
                    j -> j.getSpec().drift().target().uid(), j -> j, (a, b) -> a, TreeMap::new));
    Map<String, String> out = new TreeMap<>();
    orphans.forEach(
        (node, uid) -> {
          ConsistencyRepairJob j = byUid.get(uid);
          RepairJobStatus s = j == null ? null : j.getStatus();
          boolean done =
              s != null
                  && s.phase() == Phase.SUCCEEDED
                  && s.verification() == Verification.RESOLVED
                  && node.equals(j.getSpec().nodeName())
                  && !cluster.node(node).kubelet().runningUids().contains(uid);
          if (!done) {
            out.put(node, j == null ? "no record" : String.valueOf(s));
          }
        });
    return out;
  }

  /**
   * Makes the scripts slow from their next run on: {@code seconds} of sleep before the repair, on
   * {@code node} (null: on every node without its own setting).
   */
  void slowScripts(String node, String seconds) {
    try {
      Files.writeString(stampDir.resolveSibling(node == null ? "slow" : "slow-" + node), seconds);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  List<ConsistencyRepairJob> records() {
    return cluster.client().resources(ConsistencyRepairJob.class).list().getItems();
  }

  /** Every script run stamped so far. */
  List<Stamp> stamps() {
    try (var files = Files.list(stampDir)) {
      List<Stamp> out = new ArrayList<>();
      for (Path f : files.sorted().toList()) {
        Files.readAllLines(f).stream()
            .filter(l -> !l.isBlank())
            .map(Stamp::parse)
            .forEach(out::add);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a window of the API server's request log. */
  void startApiWindow() {
    cluster.api().clearRequests();
    windowStart = Instant.now();
  }

  /** The agents' requests (not the cluster's own client's) since {@link #startApiWindow()}. */
  ApiLoad apiLoad() {
    Duration window = Duration.between(windowStart, Instant.now());
    List<SimApiRequest> log = cluster.api().requests();
    List<SimApiRequest> agents = log.stream().filter(r -> !r.backstage()).toList();
    Map<String, Long> byVerb =
        agents.stream()
            .collect(
                Collectors.groupingBy(
                    r -> r.verb() + (r.resource() == null ? "" : " " + r.resource()),
                    TreeMap::new,
                    Collectors.counting()));
    if (log.size() >= 20_000) {
      System.out.println("fleet: the API server's request log is full; the counts are too low");
    }
    return new ApiLoad(nodes().size(), window, agents.size(), byVerb);
  }

  @Override
  public void close() {
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
