package dev.stateprobe.demo;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.sim.SimCluster;
import dev.stateprobe.sim.SimNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The demo's one-node {@link SimCluster}, seeded from the real kubelet capture, with the demo's
 * settings ({@link Timing}, {@code REPAIR_MODE=on}, the demo catalog) and an {@link Observer} on
 * every agent the node runs. The demo and the scenario tests build it the same way.
 */
public final class DemoNode implements AutoCloseable {
  /**
   * How to build the node.
   *
   * @param httpPort the agent's HTTP port, 0 for a free one
   * @param scriptKillGrace between a timed-out script's SIGTERM and SIGKILL
   * @param catalogCheck how often the agent looks for a changed catalog
   * @param agentEnv agent settings that replace the demo's (variable name to value)
   */
  public record Settings(
      Timing timing,
      int httpPort,
      Duration scriptKillGrace,
      Duration catalogCheck,
      Map<String, String> agentEnv) {
    public Settings {
      agentEnv = Map.copyOf(agentEnv);
    }

    public static Settings demo(Timing timing, int httpPort) {
      return new Settings(timing, httpPort, Duration.ofSeconds(2), Duration.ofSeconds(1), Map.of());
    }

    public Settings withAgentEnv(Map<String, String> env) {
      Map<String, String> merged = new LinkedHashMap<>(agentEnv);
      merged.putAll(env);
      return new Settings(timing, httpPort, scriptKillGrace, catalogCheck, merged);
    }
  }

  private final SimCluster cluster;
  private final Timing timing;
  private final Observer observer = new Observer();

  private DemoNode(SimCluster cluster, Timing timing) {
    this.cluster = cluster;
    this.timing = timing;
  }

  /**
   * Builds the node and starts the agent on it. Blocking (a few seconds); on failure everything
   * made so far is closed again.
   */
  public static DemoNode start(Settings settings) throws Exception {
    SimCluster cluster =
        SimCluster.builder()
            .nodes(1)
            .seed(SimCluster.Seed.CAPTURE)
            .kubeletSync(settings.timing().kubeletSync())
            .scriptKillGrace(settings.scriptKillGrace())
            .catalogCheck(settings.catalogCheck())
            .env(env(settings))
            .build();
    DemoNode demo = new DemoNode(cluster, settings.timing());
    try {
      Path catalog =
          DemoResources.extractCatalog(Files.createDirectories(cluster.dir().resolve("demo")));
      SimNode node = demo.node();
      if (!settings.agentEnv().containsKey("CATALOG_FILE")) {
        node.env("CATALOG_FILE", catalog.toString());
      }
      node.onAgentStart(demo.observer::attach);
      node.startAgent();
      return demo;
    } catch (Exception | Error e) {
      demo.close();
      throw e;
    }
  }

  private static Map<String, String> env(Settings settings) {
    Timing t = settings.timing();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("KUBELET_REQUEST_TIMEOUT", millis(t.kubeletTimeout()));
    env.put("KUBELET_MAX_BODY_BYTES", Long.toString(4L * 1024 * 1024));
    env.put("POLL_INTERVAL", millis(t.poll()));
    env.put("HTTP_PORT", Integer.toString(settings.httpPort()));
    env.put("MIN_OBSERVATIONS", "3");
    for (DriftKind k : DriftKind.values()) {
      env.put(k.windowVariable(), millis(t.window()));
    }
    env.put("REPAIR_MODE", "on");
    env.put("MAX_CONCURRENT_REPAIRS", "1");
    env.put("MAX_REPAIRS_PER_HOUR", "1000");
    env.put("CIRCUIT_RECOVERY", millis(t.circuitRecovery()));
    env.putAll(settings.agentEnv());
    return env;
  }

  private static String millis(Duration d) {
    return d.toMillis() + "ms";
  }

  public SimCluster cluster() {
    return cluster;
  }

  public SimNode node() {
    return cluster.node(0);
  }

  public Observer observer() {
    return observer;
  }

  public Timing timing() {
    return timing;
  }

  @Override
  public void close() {
    cluster.close();
  }
}
