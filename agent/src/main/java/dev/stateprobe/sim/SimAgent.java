package dev.stateprobe.sim;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigException;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.repair.exec.ScriptExecutor;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An agent running in this process on a {@link SimNode}, wired by {@link AgentRuntime} as the
 * DaemonSet's process is, with its own Vert.x and API client (so that killing it ends exactly what
 * a dead process would), its meter registry (read it in tests: only {@code metrics/} builds meters)
 * and every cycle it ran.
 */
public final class SimAgent implements AutoCloseable {
  private final Vertx vertx;
  private final KubernetesClient client;
  private final AgentRuntime runtime;
  private final PrometheusMeterRegistry registry;
  private final List<CycleResult> cycles;
  private boolean closed; // guarded by this

  private SimAgent(
      Vertx vertx,
      KubernetesClient client,
      AgentRuntime runtime,
      PrometheusMeterRegistry registry,
      List<CycleResult> cycles) {
    this.vertx = vertx;
    this.client = client;
    this.runtime = runtime;
    this.registry = registry;
    this.cycles = cycles;
  }

  static SimAgent start(
      Map<String, String> env,
      SimApiServer api,
      Map<String, String> scriptEnv,
      ScriptExecutor.Settings scriptSettings,
      Duration catalogCheck,
      List<Consumer<AgentRuntime>> listeners) {
    AgentConfig config;
    try {
      config = ConfigLoader.load(env, List.of());
    } catch (ConfigException e) {
      throw new IllegalArgumentException(
          "the simulated node's agent settings are invalid: " + e.getMessage(), e);
    }
    List<CycleResult> cycles = new CopyOnWriteArrayList<>();
    AgentRuntime.Options options =
        new AgentRuntime.Options(scriptEnv, scriptSettings, catalogCheck)
            .withCycleListener(cycles::add);
    Vertx vertx = AgentRuntime.newVertx();
    KubernetesClient client = api.newClient();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AgentRuntime rt;
    try {
      rt =
          AgentRuntime.start(vertx, config, client, registry, Clock.systemUTC(), options)
              .await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      client.close();
      closeQuietly(vertx);
      throw new IllegalStateException(
          "the agent of " + config.nodeName() + " did not start: " + e.getMessage(), e);
    }
    listeners.forEach(l -> l.accept(rt));
    return new SimAgent(vertx, client, rt, registry, cycles);
  }

  public AgentRuntime runtime() {
    return runtime;
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Every cycle from the first one on, in order (a live view). */
  public List<CycleResult> cycles() {
    return cycles;
  }

  /** The last cycle, or null before the first. */
  public CycleResult last() {
    return cycles.isEmpty() ? null : cycles.getLast();
  }

  public long trustedCycles() {
    return cycles.stream().filter(CycleResult::trusted).count();
  }

  public int httpPort() {
    return runtime.httpPort();
  }

  /**
   * Stops the agent gracefully (as on SIGTERM), then its Vert.x. Its API client stays open (the
   * simulated API server closes it at the end): what a stopped agent must not write is its own
   * business, not the connection's.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    runtime.close();
    closeQuietly(vertx);
  }

  /**
   * Ends the agent as {@code SIGKILL} would: its Vert.x (event loop, HTTP server, timers, worker
   * pool) and API client close without the runtime's own shutdown, so nothing is released, finished
   * or written on the way out.
   */
  synchronized void kill() {
    if (closed) {
      return;
    }
    closed = true;
    client.close();
    closeQuietly(vertx);
  }

  private static void closeQuietly(Vertx vertx) {
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // gone either way
    }
  }
}
