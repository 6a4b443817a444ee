package dev.stateprobe.cli;

import dev.stateprobe.config.ConfigException;
import dev.stateprobe.coordinator.Coordinator;
import dev.stateprobe.coordinator.CoordinatorConfig;
import dev.stateprobe.metrics.Metrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.PrintStream;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code state-probe coordinator}: one replica of the fleet storm brake's coordinator (README,
 * Fleet storm brake); runs until SIGTERM, then gives up the lead and stops. Serves {@code /metrics}
 * and {@code /healthz} on {@code HTTP_PORT} (9809).
 */
public final class CoordinatorCommand {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;

  public CoordinatorCommand(Map<String, String> env, PrintStream out, PrintStream err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  /** Runs until the JVM is asked to stop. */
  public int run(List<String> args) {
    return UntilSignal.run(stop -> run(args, stop));
  }

  /** Runs until {@code stop} completes; 2 when the configuration is invalid or start-up fails. */
  public int run(List<String> args, CompletableFuture<Void> stop) {
    if (args.contains("--help")) {
      out.println("state-probe coordinator: the fleet storm brake's leader; see README.md.");
      out.println("Variables (each also a --flag):");
      out.println("  " + String.join(", ", CoordinatorConfig.VARIABLES));
      return 0;
    }
    CoordinatorConfig config;
    try {
      config = CoordinatorConfig.load(env, args);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      return 2;
    }
    Vertx vertx = Vertx.vertx();
    KubernetesClient client;
    try {
      client = FabricClients.build(vertx, AgentCommand.apiConfig(env.get("KUBECONFIG")));
    } catch (RuntimeException e) {
      err.println("state-probe: cannot configure the API server client: " + e.getMessage());
      AgentCommand.closeVertx(vertx);
      return 2;
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Metrics.Coordinator metrics = new Metrics.Coordinator(registry);
    HttpServer http;
    try {
      http =
          vertx
              .createHttpServer()
              .requestHandler(
                  req -> {
                    switch (req.path()) {
                      case "/metrics" ->
                          req.response()
                              .putHeader("Content-Type", "text/plain; version=0.0.4")
                              .end(registry.scrape());
                      case "/healthz" -> req.response().end("ok\n");
                      default -> req.response().setStatusCode(404).end();
                    }
                  })
              .listen(config.httpPort())
              .await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      err.println("state-probe: cannot listen on " + config.httpPort() + ": " + e.getMessage());
      client.close();
      AgentCommand.closeVertx(vertx);
      return 2;
    }
    Coordinator coordinator = new Coordinator(client, config, Clock.systemUTC(), metrics).start();
    LOG.info(
        "event=coordinator_started identity={} namespace={} port={}",
        config.identity(),
        config.namespace(),
        http.actualPort());
    try {
      stop.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      // a failed stop signal is still a stop signal
    }
    LOG.info("event=stopping");
    coordinator.close();
    AgentCommand.closeVertx(vertx);
    client.close();
    LOG.info("event=stopped");
    return 0;
  }
}
