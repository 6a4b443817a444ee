package dev.stateprobe.cli;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigException;
import dev.stateprobe.config.ConfigLoader;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.File;
import java.io.PrintStream;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code state-probe agent}: runs until SIGTERM, then stops cleanly. */
public final class AgentCommand {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;

  /**
   * @param env the process environment: the agent's variables and {@code KUBECONFIG} (outside a
   *     cluster; one file)
   */
  public AgentCommand(Map<String, String> env, PrintStream out, PrintStream err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  /** Runs until the JVM is asked to stop (SIGTERM, SIGINT), then stops cleanly. */
  public int run(List<String> args) {
    return UntilSignal.run(stop -> run(args, stop));
  }

  /**
   * Runs until {@code stop} completes, then closes everything it made and returns 0; 2 when the
   * configuration is invalid or start-up fails.
   */
  public int run(List<String> args, CompletableFuture<Void> stop) {
    if (args.contains("--help")) {
      out.println(
          "state-probe agent: configured by environment variables or flags; see README.md.");
      out.println("Variables (each also a --flag, e.g. POLL_INTERVAL as --poll-interval=5s):");
      out.println("  " + String.join(", ", ConfigLoader.VARIABLES));
      return 0;
    }
    AgentConfig config;
    try {
      config = ConfigLoader.load(env, args);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return 2;
    }
    if (config.kubelet().insecureSkipTlsVerify()) {
      LOG.warn(
          "event=insecure_kubelet_tls KUBELET_INSECURE_SKIP_TLS_VERIFY=true: the kubelet's"
              + " certificate is NOT verified; anyone on the path can impersonate it");
    }
    Vertx vertx = AgentRuntime.newVertx();
    Config apiConfig;
    try {
      apiConfig = apiConfig(env.get("KUBECONFIG"));
    } catch (RuntimeException e) {
      err.println("state-probe: cannot configure the API server client: " + e.getMessage());
      vertx.close();
      return 2;
    }
    // fabric8's client is built only when the agent first writes (AgentRuntime): a node with
    // nothing to repair never loads it.
    FabricClients.Lazy client = new FabricClients.Lazy(vertx, apiConfig);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AgentRuntime runtime;
    try {
      runtime =
          AgentRuntime.start(
                  vertx,
                  config,
                  apiConfig,
                  client,
                  registry,
                  Clock.systemUTC(),
                  AgentRuntime.Options.defaults(config, apiConfig, env))
              .await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      err.println("state-probe: start-up failed: " + e.getMessage());
      closeVertx(vertx);
      client.closeIfBuilt();
      return 2;
    }
    LOG.info("event=listening port={}", runtime.httpPort());
    try {
      stop.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // a failed stop signal is still a stop signal
    }
    LOG.info("event=stopping");
    runtime.close();
    // Vert.x first: it closes the client's connections and waits for them. A client closed
    // before it only starts closing its connections, and those still closing when Vert.x stops
    // its event loops fail loudly ("Failed to submit a listener notification task").
    closeVertx(vertx);
    client.closeIfBuilt();
    LOG.info("event=stopped");
    return 0;
  }

  /**
   * fabric8's configuration, resolved as {@link #newClient(Vertx, String)} resolves it, without
   * building a client.
   */
  public static Config apiConfig(String kubeconfig) {
    if (kubeconfig != null && !kubeconfig.isBlank() && !kubeconfig.contains(File.pathSeparator)) {
      File file = new File(kubeconfig);
      if (!file.isFile()) {
        throw new IllegalArgumentException("KUBECONFIG " + kubeconfig + " is not a readable file");
      }
      return Config.fromKubeconfig(file);
    }
    return Config.autoConfigure(null);
  }

  /** Waits for Vert.x to close; call it before closing a fabric8 client made on it. */
  static void closeVertx(Vertx vertx) {
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // stopping anyway; nothing is left that could be saved
    }
  }

  /** fabric8 on the agent's own Vert.x: one set of event-loop threads for everything. */
  public static KubernetesClient newClient(Vertx vertx) {
    return newClient(vertx, null);
  }

  /**
   * @param kubeconfig a kubeconfig file, or {@code null} for fabric8's usual rules (in-cluster
   *     service account, or {@code KUBECONFIG} / {@code ~/.kube/config} of the process); a list of
   *     files is left to those rules too
   */
  public static KubernetesClient newClient(Vertx vertx, String kubeconfig) {
    KubernetesClientBuilder b =
        new KubernetesClientBuilder().withHttpClientFactory(new Vertx5HttpClientFactory(vertx));
    if (kubeconfig != null && !kubeconfig.isBlank() && !kubeconfig.contains(File.pathSeparator)) {
      File file = new File(kubeconfig);
      if (!file.isFile()) {
        throw new IllegalArgumentException("KUBECONFIG " + kubeconfig + " is not a readable file");
      }
      b.withConfig(Config.fromKubeconfig(file));
    }
    return b.build();
  }
}
