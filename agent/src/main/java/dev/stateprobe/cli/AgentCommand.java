package dev.stateprobe.cli;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigException;
import dev.stateprobe.config.ConfigLoader;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.PrintStream;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code state-probe agent}: runs until SIGTERM, then stops cleanly. */
public final class AgentCommand {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;

  public AgentCommand(Map<String, String> env, PrintStream out, PrintStream err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  public int run(List<String> args) {
    if (args.contains("--help")) {
      out.println("state-probe agent: configured by environment variables or flags; see README.md.");
      out.println("Variables: " + String.join(", ", ConfigLoader.VARIABLES));
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
          "event=insecure_kubelet_tls KUBELET_INSECURE_SKIP_TLS_VERIFY=true: the kubelet's certificate is NOT verified; anyone on the path can impersonate it");
    }
    Vertx vertx = newVertx();
    KubernetesClient client = newClient(vertx);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    CountDownLatch stopped = new CountDownLatch(1);
    AgentRuntime runtime;
    try {
      runtime =
          AgentRuntime.start(
                  vertx, config, client, registry, Clock.systemUTC(), AgentRuntime.Options.defaults(config, client, env))
              .await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      err.println("state-probe: start-up failed: " + e.getMessage());
      client.close();
      vertx.close();
      return 2;
    }
    LOG.info("event=listening port={}", runtime.httpPort());
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.info("event=stopping");
                  runtime.close();
                  client.close();
                  try {
                    vertx.close().await(10, TimeUnit.SECONDS);
                  } catch (Exception e) {
                    // shutting down anyway
                  }
                  LOG.info("event=stopped");
                  stopped.countDown();
                },
                "state-probe-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** One event loop and a small internal pool: the agent's work is one loop of small tasks. */
  public static Vertx newVertx() {
    return Vertx.vertx(
        new VertxOptions()
            .setEventLoopPoolSize(1)
            .setWorkerPoolSize(2)
            .setInternalBlockingPoolSize(2)
            .setPreferNativeTransport(false));
  }

  /** fabric8 on the agent's own Vert.x: one set of event-loop threads for everything. */
  public static KubernetesClient newClient(Vertx vertx) {
    return new KubernetesClientBuilder().withHttpClientFactory(new Vertx5HttpClientFactory(vertx)).build();
  }
}
