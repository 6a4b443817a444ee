package dev.stateprobe.agent;

import dev.stateprobe.build.BuildInfo;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.RepairMode;
import dev.stateprobe.controlplane.ApiServerClient;
import dev.stateprobe.controlplane.BrakeWatch;
import dev.stateprobe.controlplane.ControlPlaneSource;
import dev.stateprobe.controlplane.ListWatch;
import dev.stateprobe.controlplane.PodListWatch;
import dev.stateprobe.controlplane.PodLister;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.fleet.BrakeSource;
import dev.stateprobe.http.HttpApi;
import dev.stateprobe.kubelet.ApiProxyKubeletSource;
import dev.stateprobe.kubelet.DirectKubeletSource;
import dev.stateprobe.kubelet.KubeletSource;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.RepairController;
import dev.stateprobe.repair.RepairParts;
import dev.stateprobe.repair.Revalidator;
import dev.stateprobe.repair.budget.ClusterBudget;
import dev.stateprobe.repair.budget.LeaseSlotStore;
import dev.stateprobe.repair.budget.RepairBudget;
import dev.stateprobe.repair.budget.SlotDecision;
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
import io.vertx.core.VertxOptions;
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
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
   * Blocking work: fabric8 calls, scripts, file reads. Small on purpose: Vert.x's executeBlocking
   * pool grows to 20 threads otherwise.
   */
  public static final String WORKER_POOL = "state-probe-worker";

  private final Deque<AutoCloseable> closeables = new ArrayDeque<>();
  private final dev.stateprobe.repair.budget.BudgetWaits budgetWaits =
      new dev.stateprobe.repair.budget.BudgetWaits();
  private final AgentConfig config;
  private final Metrics metrics;
  private final WorkerExecutor worker;
  private static final Duration MAX_REPAIR_START_BACKOFF = Duration.ofSeconds(60);
  private static final Duration REPAIR_START_LATEST = Duration.ofSeconds(30);

  private Agent agent;
  private HttpApi http;
  private ApiServerClient apiServer;
  private OnceClient clients;
  private RepairInputs repairInputs;

  /** What the repair controller is built from, besides fabric8's client. */
  private record RepairInputs(
      Options options,
      PodJsonDecoder decoder,
      KubeletSource kubelet,
      ControlPlaneSource informer,
      Reports reports,
      BrakeSource brake) {}

  /**
   * The repair side on {@code c}. A method, not a lambda made at start-up: a lambda taking the
   * client would load fabric8's {@code KubernetesClient} when it is made.
   */
  private RepairController buildRepair(KubernetesClient c) {
    RepairInputs p = repairInputs;
    return new RepairController(
        new RepairParts(
            config,
            c,
            new JobStore(c, worker, config.nodeName(), clock),
            catalog::current,
            new ScriptExecutor(DefaultProcessRunner.create(), clock, p.options().scriptSettings()),
            new EventRecorder(c, worker, config.nodeName(), metrics, clock),
            new Revalidator(
                c,
                worker,
                p.informer(),
                p.kubelet(),
                new PodLister(c, config.nodeName(), p.decoder()),
                clock),
            metrics,
            clock,
            worker,
            p.reports(),
            p.options().scriptEnv(),
            budget(c),
            budgetWaits),
        p.brake());
  }

  /**
   * The cluster repair budget, made with the repair side (on the agent's context): Leases are
   * touched only when a repair is about to run, so a node without drift never loads them.
   */
  private RepairBudget budget(KubernetesClient c) {
    AgentConfig.ClusterBudget b = config.clusterBudget();
    if (!b.enabled()) {
      return RepairBudget.UNLIMITED;
    }
    String ns = b.namespace().orElse(c.getNamespace() == null ? "default" : c.getNamespace());
    ClusterBudget.Settings d = ClusterBudget.Settings.defaults();
    ClusterBudget.Settings settings =
        new ClusterBudget.Settings(
            b.retryMin(), b.retryMax(), b.margin(), d.skew(), d.conflictRetries());
    return new ClusterBudget(
        new LeaseSlotStore(c, ns),
        new SlotDecision.Rules(b.slots(), b.maxPerHour(), settings.skew()),
        settings,
        config.nodeName(),
        Vertx.currentContext().owner(),
        worker,
        metrics,
        clock,
        new SplittableRandom());
  }

  private volatile boolean closed;
  private volatile RepairController repair;
  private CatalogWatcher catalog;

  private final Clock clock;

  private AgentRuntime(AgentConfig config, Metrics metrics, WorkerExecutor worker, Clock clock) {
    this.config = config;
    this.metrics = metrics;
    this.worker = worker;
    this.clock = clock;
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
      return defaults(config, client.getConfiguration(), env);
    }

    /**
     * @param apiConfig fabric8's resolved configuration (read only: no client is built)
     */
    public static Options defaults(
        AgentConfig config,
        io.fabric8.kubernetes.client.Config apiConfig,
        Map<String, String> env) {
      Map<String, String> scriptEnv = defaultScriptEnv(apiConfig);
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
  static Map<String, String> defaultScriptEnv(io.fabric8.kubernetes.client.Config apiConfig) {
    Map<String, String> env = new LinkedHashMap<>();
    String url = apiConfig.getMasterUrl();
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
    return start(vertx, config, client.getConfiguration(), () -> client, registry, clock, options);
  }

  /**
   * Starts an agent that builds its fabric8 client only when it first writes (see {@link
   * #startRepairWhenNeeded}).
   *
   * @param apiConfig fabric8's resolved configuration: the agent's own list/watch reads with it
   * @param client builds (or returns) the fabric8 client; called at most once, on the worker pool,
   *     and only when the repair side starts or the kubelet is read through the API server's proxy
   */
  public static Future<AgentRuntime> start(
      Vertx vertx,
      AgentConfig config,
      io.fabric8.kubernetes.client.Config apiConfig,
      Supplier<KubernetesClient> client,
      PrometheusMeterRegistry registry,
      Clock clock,
      Options options) {
    Metrics metrics = new Metrics(registry, BuildInfo.version(), clock::millis);
    WorkerExecutor worker = vertx.createSharedWorkerExecutor(WORKER_POOL, 2);
    AgentRuntime rt = new AgentRuntime(config, metrics, worker, clock);
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
      rt.clients = new OnceClient(client);
      KubeletSource kubelet =
          config.kubelet().viaApiProxy()
              ? new ApiProxyKubeletSource(
                  vertx,
                  rt.clients.get(),
                  config.nodeName(),
                  config.kubelet(),
                  decoder,
                  metrics,
                  clock,
                  worker)
              : new DirectKubeletSource(vertx, config.kubelet(), decoder, metrics, clock, worker);
      rt.closeables.push(kubelet);
      ApiServerClient apiServer = new ApiServerClient(vertx, apiConfig, worker, clock);
      rt.apiServer = apiServer;
      rt.closeables.push(apiServer);
      PodListWatch informer =
          new PodListWatch(
              apiServer,
              config.nodeName(),
              decoder,
              clock,
              new java.util.Random()::nextDouble,
              listWatchSettings(apiConfig));
      rt.closeables.push(informer);
      metrics.informer(informer, PodListWatch::relists, PodListWatch::watchRestarts);
      Reports reports = new Reports();
      // The fleet storm brake, read only by an agent that obeys it: one watch on one Lease.
      BrakeSource brake = Optional::empty;
      if (config.fleetBrake().obeyed()) {
        BrakeWatch watch =
            BrakeWatch.of(apiServer, config.fleetBrake().namespace(), listWatchSettings(apiConfig));
        rt.closeables.push(watch);
        watch.start();
        brake = watch;
      }
      rt.repairInputs = new RepairInputs(options, decoder, kubelet, informer, reports, brake);
      // Where the repair controller stood when it was built at once: closed after the loop.
      rt.closeables.push(
          () -> {
            RepairController r;
            synchronized (rt) {
              r = rt.repair;
            }
            if (r != null) {
              r.close();
            }
          });
      // ConsistencyPolicies: one cluster-wide list/watch, read by each cycle.
      dev.stateprobe.controlplane.PolicyWatch policies =
          new dev.stateprobe.controlplane.PolicyWatch(
              apiServer,
              java.util.Arrays.stream(dev.stateprobe.drift.DriftKind.values())
                  .map(dev.stateprobe.drift.DriftKind::wireName)
                  .collect(java.util.stream.Collectors.toSet()),
              listWatchSettings(apiConfig),
              clock,
              new java.util.Random()::nextDouble);
      rt.closeables.push(policies);
      rt.agent = new Agent(vertx, config, informer, kubelet, metrics, clock, policies);
      // Closed before the repair controller and the sources: no cycle starts after that.
      rt.closeables.push(rt.agent);
      options.cycleListeners().forEach(rt.agent::onCycle);
      rt.agent.onCycle(
          c -> {
            RepairController r = rt.repair;
            if (r != null) {
              r.onCycle(c);
            }
          });
      Duration stall = config.timings().stallAfter();
      rt.agent.budgetWaitFrom(rt.budgetWaits::reason);
      rt.http = new HttpApi(vertx, config.nodeName(), rt.agent, registry, reports, clock, stall);
      rt.closeables.push(rt.http);
      logStart(config, kubelet);
      informer.start();
      policies.start();
      rt.catalog.start();
      return rt.http
          .start(config.httpPort())
          .map(
              s -> {
                // Detection does not wait for the repair side: until its restart-safety step
                // (interrupted records marked, this node's records read back) is done, the
                // controller plans nothing. An API server that is unreachable now delays
                // repairs, not start-up: the informer keeps trying and /readyz says why.
                rt.startRepairWhenNeeded(vertx);
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
   * The repair side, and with it fabric8's client (a few thousand classes, ~16 MiB of RSS), is
   * built only when the agent may have to write:
   *
   * <ul>
   *   <li>this node has records left by an earlier agent (read through the agent's own client, one
   *       LIST of at most one record): they must be adopted, and any still Running marked
   *       interrupted, as soon as possible: after the first trusted cycle, as before;
   *   <li>that LIST fails (it cannot tell): the same, to be safe;
   *   <li>otherwise at the first trusted cycle that sees a drift (suspected, not yet confirmed:
   *       confirmation takes a window of at least seconds, ample time to build the client and read
   *       the records before there is anything to repair).
   * </ul>
   *
   * A node that never drifts never builds the client.
   */
  private void startRepairWhenNeeded(Vertx vertx) {
    String query =
        "/apis/"
            + dev.stateprobe.repair.job.ConsistencyRepairJob.GROUP
            + "/"
            + dev.stateprobe.repair.job.ConsistencyRepairJob.VERSION
            + "/"
            + dev.stateprobe.repair.job.ConsistencyRepairJob.PLURAL
            + "?limit=1&labelSelector="
            + java.net.URLEncoder.encode(
                dev.stateprobe.repair.job.Labels.NODE
                    + "="
                    + dev.stateprobe.repair.job.Labels.value(config.nodeName()),
                java.nio.charset.StandardCharsets.UTF_8);
    apiServer
        .countItems(query)
        .onComplete(
            ar -> {
              if (closed) {
                return;
              }
              if (ar.succeeded() && ar.result() == 0) {
                LOG.info("event=repair_deferred reason=no_records_of_this_node until=first_drift");
                AtomicBoolean started = new AtomicBoolean();
                agent.onCycle(
                    c -> {
                      if (c.trusted()
                          && !c.drifts().isEmpty()
                          && started.compareAndSet(false, true)) {
                        buildRepairThen(vertx, () -> startRepair(vertx, Duration.ofSeconds(1)));
                      }
                    });
              } else {
                if (ar.failed()) {
                  LOG.warn(
                      "event=repair_records_unknown error=\"{}\" action=start_repair_side",
                      ar.cause().toString());
                }
                startRepairAfterFirstTrustedCycle(vertx);
              }
            });
  }

  /** Builds fabric8's client on the worker pool, then the repair controller, then runs next. */
  private void buildRepairThen(Vertx vertx, Runnable next) {
    worker
        .<Object>executeBlocking(clients::get, false)
        .onComplete(
            ar -> {
              if (closed) {
                return;
              }
              if (ar.failed()) {
                LOG.error("event=api_client_failed error=\"{}\"", ar.cause().toString());
                return;
              }
              agent
                  .onContext(
                      () -> {
                        synchronized (this) {
                          if (repair == null && !closed) {
                            repair = buildRepair((KubernetesClient) ar.result());
                          }
                        }
                        return Future.succeededFuture();
                      })
                  .onComplete(x -> next.run());
            });
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
            buildRepairThen(vertx, () -> startRepair(vertx, Duration.ofSeconds(1)));
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
    if (closed || repair == null) {
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

  /**
   * The agent's own Vert.x: one event loop and a small internal pool, since the agent's work is one
   * loop of small tasks. Here so that every mode that runs an agent (the DaemonSet, the check, the
   * demo) builds it the same way.
   */
  public static Vertx newVertx() {
    return Vertx.vertx(
        new VertxOptions()
            .setEventLoopPoolSize(1)
            .setWorkerPoolSize(2)
            .setInternalBlockingPoolSize(2)
            .setPreferNativeTransport(false));
  }

  private static void logStart(AgentConfig config, KubeletSource kubelet) {
    LOG.info(
        "event=start version={} node={} kubelet=\"{}\" poll={} minObservations={} quietPeriod={}"
            + " repairMode={}",
        BuildInfo.version(),
        config.nodeName(),
        Logfmt.escaped(kubelet.describe()),
        config.pollInterval(),
        config.detection().minObservations(),
        config.detection().quietPeriod(),
        config.repair().mode().value());
  }

  /**
   * Every list/watch's back-off follows fabric8's watch reconnect settings: its interval (1 s
   * unless configured) doubling up to 32 times that, as fabric8's watch manager does.
   */
  static ListWatch.Settings listWatchSettings(io.fabric8.kubernetes.client.Config c) {
    Integer interval = c.getWatchReconnectInterval();
    Duration base = Duration.ofMillis(interval == null || interval <= 0 ? 1000 : interval);
    return ListWatch.Settings.defaults().withBackoff(base, base.multipliedBy(32));
  }

  public Agent agent() {
    return agent;
  }

  /** The repair side, or {@code null} until the agent first needed it. */
  public RepairController repair() {
    return repair;
  }

  /** Whether fabric8's client has been built (by the repair side or the API proxy source). */
  public boolean apiClientBuilt() {
    return clients != null && clients.built();
  }

  /** Builds the client once, on first use. */
  private static final class OnceClient implements Supplier<KubernetesClient> {
    private final Supplier<KubernetesClient> build;
    private KubernetesClient client;

    OnceClient(Supplier<KubernetesClient> build) {
      this.build = build;
    }

    @Override
    public synchronized KubernetesClient get() {
      if (client == null) {
        client = java.util.Objects.requireNonNull(build.get(), "client");
      }
      return client;
    }

    synchronized boolean built() {
      return client != null;
    }
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
