package dev.stateprobe.agent;

import dev.stateprobe.Main;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.RepairMode;
import dev.stateprobe.controlplane.ControlPlaneSource;
import dev.stateprobe.controlplane.PodInformerSource;
import dev.stateprobe.controlplane.PodLister;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.http.HttpApi;
import dev.stateprobe.kubelet.ApiProxyKubeletSource;
import dev.stateprobe.kubelet.DirectKubeletSource;
import dev.stateprobe.kubelet.KubeletSource;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.RepairController;
import dev.stateprobe.repair.RepairParts;
import dev.stateprobe.repair.Revalidator;
import dev.stateprobe.repair.catalog.CatalogException;
import dev.stateprobe.repair.catalog.CatalogWatcher;
import dev.stateprobe.repair.exec.DefaultProcessRunner;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.repair.job.JobStore;
import dev.stateprobe.report.Logfmt;
import dev.stateprobe.report.Reports;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires one agent from its parts: informer, kubelet source, loop, HTTP. Used by the {@code agent}
 * mode, by {@code demo} and by the end-to-end tests, so all three run the same code. Closing it
 * closes what it made, in reverse order; the Vertx and the client belong to the caller.
 */
public final class AgentRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  /**
   * Blocking work: fabric8 calls, scripts, file reads. Small on purpose (BUILD-NOTES: 20
   * otherwise).
   */
  public static final String WORKER_POOL = "state-probe-worker";

  private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
  private final AgentConfig config;
  private final Metrics metrics;
  private final WorkerExecutor worker;
  private static final Duration MAX_REPAIR_START_BACKOFF = Duration.ofSeconds(60);
  private static final Duration REPAIR_START_LATEST = Duration.ofSeconds(30);

  private Agent agent;
  private HttpApi http;
  private volatile boolean closed;
  private RepairController repair;
  private CatalogWatcher catalog;

  private AgentRuntime(AgentConfig config, Metrics metrics, WorkerExecutor worker) {
    this.config = config;
    this.metrics = metrics;
    this.worker = worker;
  }

  /**
   * Options that only the simulated node and tests set.
   *
   * @param cycleListeners called after every cycle from the very first one on (registered before
   *     the loop starts, before the repair controller's); on the agent's context, must not block
   */
  public record Options(
      Map<String, String> scriptEnv,
      ScriptExecutor.Settings scriptSettings,
      Duration catalogCheck,
      List<Consumer<CycleResult>> cycleListeners) {
    public Options {
      scriptEnv = Map.copyOf(scriptEnv);
      cycleListeners = List.copyOf(cycleListeners);
    }

    public Options(
        Map<String, String> scriptEnv,
        ScriptExecutor.Settings scriptSettings,
        Duration catalogCheck) {
      this(scriptEnv, scriptSettings, catalogCheck, List.of());
    }

    /** These options plus one cycle listener. */
    public Options withCycleListener(Consumer<CycleResult> listener) {
      List<Consumer<CycleResult>> all = new ArrayList<>(cycleListeners);
      all.add(listener);
      return new Options(scriptEnv, scriptSettings, catalogCheck, all);
    }

    /**
     * @param env the process environment: {@code CONTAINER_RUNTIME_ENDPOINT} (set by the
     *     host-repair overlay for crictl) is passed through to scripts
     */
    public static Options defaults(
        AgentConfig config, KubernetesClient client, Map<String, String> env) {
      Map<String, String> scriptEnv = defaultScriptEnv(client);
      String runtimeEndpoint = env.get("CONTAINER_RUNTIME_ENDPOINT");
      if (runtimeEndpoint != null && !runtimeEndpoint.isBlank()) {
        scriptEnv.put("CONTAINER_RUNTIME_ENDPOINT", runtimeEndpoint);
      }
      return new Options(
          Map.copyOf(scriptEnv),
          ScriptExecutor.Settings.defaults(config.repair().scriptTempDir()),
          Duration.ofSeconds(10));
    }
  }

  /**
   * What scripts need to reach the API server as the agent: its URL and, in a pod, the
   * service-account token and CA files (paths only; scripts read them).
   */
  static Map<String, String> defaultScriptEnv(KubernetesClient client) {
    Map<String, String> env = new LinkedHashMap<>();
    String url = client.getMasterUrl().toString();
    env.put("STATE_PROBE_API_URL", url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    Path sa = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");
    if (Files.isReadable(sa.resolve("token"))) {
      env.put("STATE_PROBE_API_TOKEN_FILE", sa.resolve("token").toString());
    }
    if (Files.isReadable(sa.resolve("ca.crt"))) {
      env.put("STATE_PROBE_API_CA_FILE", sa.resolve("ca.crt").toString());
    }
    return env;
  }

  /**
   * Builds and starts everything; the future completes when the HTTP port is bound (the informer
   * and the first poll go on in the background: {@code /readyz} says when they are done). Fails
   * when the catalog is invalid: an agent that cannot know its scripts must not start (unless
   * {@code REPAIR_MODE=off}, which reads no catalog).
   */
  public static Future<AgentRuntime> start(
      Vertx vertx,
      AgentConfig config,
      KubernetesClient client,
      PrometheusMeterRegistry registry,
      Clock clock) {
    return start(
        vertx, config, client, registry, clock, Options.defaults(config, client, Map.of()));
  }

  public static Future<AgentRuntime> start(
      Vertx vertx,
      AgentConfig config,
      KubernetesClient client,
      PrometheusMeterRegistry registry,
      Clock clock,
      Options options) {
    Metrics metrics = new Metrics(registry, Main.version(), clock::millis);
    WorkerExecutor worker = vertx.createSharedWorkerExecutor(WORKER_POOL, 2);
    AgentRuntime rt = new AgentRuntime(config, metrics, worker);
    rt.closeables.push(worker::close);
    rt.closeables.push(metrics);
    try {
      // The catalog first: an agent that cannot know its scripts must not start, and must not
      // have connected anywhere before it says so. With REPAIR_MODE=off no script can run, so
      // the catalog is not read at all: detection needs none.
      rt.catalog =
          config.repair().mode() == RepairMode.OFF
              ? CatalogWatcher.disabled(vertx, worker, metrics, config.repair().catalogFile())
              : CatalogWatcher.open(
                  vertx, worker, metrics, config.repair().catalogFile(), options.catalogCheck());
      rt.closeables.push(rt.catalog);
      PodJsonDecoder decoder = new PodJsonDecoder();
      KubeletSource kubelet =
          config.kubelet().viaApiProxy()
              ? new ApiProxyKubeletSource(
                  vertx,
                  client,
                  config.nodeName(),
                  config.kubelet(),
                  decoder,
                  metrics,
                  clock,
                  worker)
              : new DirectKubeletSource(vertx, config.kubelet(), decoder, metrics, clock, worker);
      rt.closeables.push(kubelet);
      PodInformerSource informer = new PodInformerSource(client, config.nodeName(), decoder, clock);
      rt.closeables.push(informer);
      metrics.informer(informer, PodInformerSource::relists, PodInformerSource::watchRestarts);
      Reports reports = new Reports();
      rt.repair =
          new RepairController(
              new RepairParts(
                  config,
                  client,
                  new JobStore(client, worker, config.nodeName(), clock),
                  rt.catalog::current,
                  new ScriptExecutor(
                      DefaultProcessRunner.create(), clock, options.scriptSettings()),
                  new EventRecorder(client, worker, config.nodeName(), metrics, clock),
                  new Revalidator(
                      client,
                      worker,
                      informer,
                      kubelet,
                      new PodLister(client, config.nodeName(), decoder),
                      clock),
                  metrics,
                  clock,
                  worker,
                  reports,
                  options.scriptEnv()));
      rt.closeables.push(rt.repair);
      rt.agent = new Agent(vertx, config, informer, kubelet, metrics, clock);
      // Closed before the repair controller and the sources: no cycle starts after that.
      rt.closeables.push(rt.agent);
      options.cycleListeners().forEach(rt.agent::onCycle);
      rt.agent.onCycle(rt.repair::onCycle);
      Duration stall = AgentConfig.stallAfter(config.pollInterval());
      rt.http = new HttpApi(vertx, config.nodeName(), rt.agent, registry, reports, clock, stall);
      rt.closeables.push(rt.http);
      logStart(config, kubelet);
      informer.start();
      rt.catalog.start();
      return rt.http
          .start(config.httpPort())
          .map(
              s -> {
                // Detection does not wait for the repair side: until its restart-safety step
                // (interrupted records marked, this node's records read back) is done, the
                // controller plans nothing. An API server that is unreachable now delays
                // repairs, not start-up: the informer keeps trying and /readyz says why.
                rt.startRepairAfterFirstTrustedCycle(vertx);
                rt.agent.start();
                return rt;
              })
          .recover(
              e -> {
                rt.close();
                return Future.failedFuture(
                    new IllegalStateException(
                        "cannot listen on HTTP_PORT " + config.httpPort() + ": " + e.getMessage(),
                        e));
              });
    } catch (CatalogException | RuntimeException e) {
      rt.close();
      return Future.failedFuture(e);
    }
  }

  /**
   * Starts the repair side once the first cycle is trusted, or {@link #REPAIR_START_LATEST} after
   * start-up if none is trusted by then (a kubelet that is down must not keep interrupted records
   * unmarked).
   *
   * <p>Why not at once: its first step (reading this node's records back) loads a few thousand
   * classes of fabric8's typed API and Jackson's data binding, and on a cold JVM that competed with
   * the first kubelet poll and the informer's first list for both cores: the first trusted cycle
   * came about a second later. Nothing is lost by waiting: the controller can only act on a drift
   * confirmed over several trusted cycles.
   */
  private void startRepairAfterFirstTrustedCycle(Vertx vertx) {
    AtomicBoolean started = new AtomicBoolean();
    Runnable once =
        () -> {
          if (started.compareAndSet(false, true)) {
            startRepair(vertx, Duration.ofSeconds(1));
          }
        };
    long timer = vertx.setTimer(REPAIR_START_LATEST.toMillis(), id -> once.run());
    agent.onCycle(
        c -> {
          if (c.trusted() && !started.get()) {
            vertx.cancelTimer(timer);
            once.run();
          }
        });
  }

  /** Starts the repair controller on the agent's context, again with back-off until it works. */
  private void startRepair(Vertx vertx, Duration backoff) {
    if (closed) {
      return;
    }
    agent
        .onContext(repair::start)
        .onFailure(
            e -> {
              if (closed) {
                return;
              }
              Duration next =
                  backoff.multipliedBy(2).compareTo(MAX_REPAIR_START_BACKOFF) > 0
                      ? MAX_REPAIR_START_BACKOFF
                      : backoff.multipliedBy(2);
              LOG.warn(
                  "event=repair_start_retry in={} error=\"{}\"",
                  backoff,
                  Logfmt.escaped(e.toString()));
              vertx.setTimer(backoff.toMillis(), id -> startRepair(vertx, next));
            });
  }

  private static void logStart(AgentConfig config, KubeletSource kubelet) {
    LOG.info(
        "event=start version={} node={} kubelet=\"{}\" poll={} minObservations={} quietPeriod={}"
            + " repairMode={}",
        Main.version(),
        config.nodeName(),
        Logfmt.escaped(kubelet.describe()),
        config.pollInterval(),
        config.detection().minObservations(),
        config.detection().quietPeriod(),
        config.repair().mode().value());
  }

  public Agent agent() {
    return agent;
  }

  public RepairController repair() {
    return repair;
  }

  public CatalogWatcher catalog() {
    return catalog;
  }

  public ControlPlaneSource controlPlane() {
    return agent.controlPlane();
  }

  public Metrics metrics() {
    return metrics;
  }

  public WorkerExecutor worker() {
    return worker;
  }

  public AgentConfig config() {
    return config;
  }

  public int httpPort() {
    return http.port();
  }

  /**
   * Closes what {@link #start} made, newest first: HTTP, the loop, repair, sources, catalog,
   * meters, the worker pool. Unless called on a Vert.x thread, waits for the HTTP port to be
   * released and for a cycle in flight to end, so no request is cut off by closing its source.
   * Idempotent.
   */
  @Override
  public synchronized void close() {
    closed = true;
    while (!closeables.isEmpty()) {
      AutoCloseable c = closeables.pop();
      try {
        boolean mayWait = !io.vertx.core.Context.isOnVertxThread();
        if (c instanceof HttpApi h && mayWait) {
          h.stop().await(10, java.util.concurrent.TimeUnit.SECONDS);
        } else if (c instanceof Agent a && mayWait) {
          // A cycle in flight ends within the kubelet request timeout.
          a.stop()
              .await(
                  config.kubelet().requestTimeout().toMillis() + 5_000,
                  java.util.concurrent.TimeUnit.MILLISECONDS);
        } else {
          c.close();
        }
      } catch (Exception e) {
        LOG.warn(
            "event=close_failed part={} error=\"{}\"",
            c.getClass().getSimpleName(),
            Logfmt.escaped(e.toString()));
      }
    }
  }
}
