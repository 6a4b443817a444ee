package dev.stateprobe.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.cli.AgentCommand;
import dev.stateprobe.drift.TrustGate;
import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.testing.SimClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/** The agent's HTTP surface, and the {@code agent} mode from flags to a clean stop. */
class AgentHttpIT {
  @TempDir static Path dir;

  @RegisterExtension
  static final SimClusterExtension<SimulatedNode> SIM =
      SimClusterExtension.of(SimulatedNode::start);

  private static SimulatedNode node() {
    return SIM.get();
  }

  private LogCapture logs;
  private RunningAgent agent;

  @BeforeEach
  void seed() {
    node().seed();
    logs = new LogCapture();
  }

  @AfterEach
  void stopAgent() {
    if (agent != null) {
      agent.close();
    }
    logs.close();
    node().reset();
  }

  @Test
  void readyzSaysWhyUntilTheInformerSyncedAndAKubeletPollSucceeded() {
    node().api.down();
    node().kubelet.inject("/pods", KubeletFault.status(500), 10_000);
    agent = RunningAgent.start(node(), Map.of());

    await().until(() -> agent.cycles.size() >= 2);
    HttpResponse<String> notSynced = agent.get("/readyz");
    assertThat(notSynced.statusCode()).isEqualTo(503);
    assertThat(notSynced.headers().firstValue("Content-Type")).hasValue("application/json");
    JsonNode body = RunningAgent.JSON.readTree(notSynced.body());
    assertThat(body.path("ready").asBoolean()).isFalse();
    assertThat(body.path("reason").asString()).isEqualTo("pod informer has not synced");
    assertThat(body.path("informerSynced").asBoolean()).isFalse();

    node().api.up();
    await()
        .until(
            () ->
                RunningAgent.JSON
                    .readTree(agent.get("/readyz").body())
                    .path("informerSynced")
                    .asBoolean());
    HttpResponse<String> notPolled = agent.get("/readyz");
    assertThat(notPolled.statusCode()).isEqualTo(503);
    JsonNode polled = RunningAgent.JSON.readTree(notPolled.body());
    assertThat(polled.path("reason").asString()).isEqualTo("no kubelet poll has succeeded yet");
    assertThat(polled.path("kubeletError").asString())
        .startsWith("http_5xx: ")
        .contains("HTTP 500");

    node().kubelet.clearFaults();
    await().until(() -> agent.get("/readyz").statusCode() == 200);
    JsonNode ready = agent.json("/readyz");
    assertThat(ready.path("ready").asBoolean()).isTrue();
    assertThat(ready.has("reason")).isFalse();
    assertThat(ready.path("kubeletPolled").asBoolean()).isTrue();
    assertThat(ready.path("runtimeViewAvailable").asBoolean()).isTrue();
    assertThat(
            agent.counter("stateprobe.untrusted.cycles", "reason", TrustGate.INFORMER_NOT_SYNCED))
        .isPositive();
    // The repair side could not read its records while the API server was down; it was
    // retried and did not hold up start-up.
    await().until(() -> !logs.events("repair_ready").isEmpty());
  }

  @Test
  // Every metric of README's table is checked by demo/ReadmeMetricsScrapeIT, on an agent that
  // repaired; REPAIR_MODE is off here.
  void healthzViewsUnknownPathsAndTheViewAndPollMetricValuesInARealScrape() {
    node().kubelet.inject("/pods", KubeletFault.status(500), 1); // one untrusted cycle, counted
    agent = RunningAgent.start(node(), Map.of());
    await().until(() -> agent.trustedCycles() >= 2);

    HttpResponse<String> health = agent.get("/healthz");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("ok\n");

    JsonNode v = agent.json("/v1/views");
    assertThat(v.path("node").asString()).isEqualTo(SimulatedNode.NODE);
    assertThat(v.path("cycle").asLong()).isGreaterThanOrEqualTo(2);
    JsonNode api = v.path("views").path("api");
    JsonNode kubelet = v.path("views").path("kubelet");
    JsonNode runtime = v.path("views").path("runtime");
    assertThat(api.path("available").asBoolean()).isTrue();
    assertThat(api.path("pods").asInt()).isEqualTo(SimulatedNode.PODS_ON_NODE);
    assertThat(api.path("synced").asBoolean()).isTrue();
    assertThat(api.path("relisting").asBoolean()).isFalse();
    assertThat(api.path("resourceVersion").asString()).isNotBlank();
    assertThat(kubelet.path("pods").asInt()).isEqualTo(SimulatedNode.PODS_ON_NODE);
    assertThat(kubelet.path("lastPollOk").asBoolean()).isTrue();
    assertThat(api.path("checksum").asString()).matches("[0-9a-f]{16}");
    assertThat(kubelet.path("checksum").asString()).isEqualTo(api.path("checksum").asString());
    assertThat(runtime.path("available").asBoolean()).isTrue();
    assertThat(runtime.path("pods").asInt())
        .isEqualTo(node().kubelet.runningUids().size())
        .isEqualTo(17);
    assertThat(kubelet.path("ageSeconds").asDouble()).isBetween(0.0, 10.0);

    HttpResponse<String> unknown = agent.get("/v1/nope");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(RunningAgent.JSON.readTree(unknown.body()).path("path").asString())
        .isEqualTo("/v1/nope");
    HttpResponse<String> post =
        agent.send(
            HttpRequest.newBuilder(agent.uri("/v1/drifts"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
    assertThat(post.statusCode()).isEqualTo(405);

    HttpResponse<String> metrics = agent.get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain");
    assertThat(metrics.body())
        .contains("stateprobe_view_pods{view=\"api\"} 24.0")
        .contains("stateprobe_trusted 1.0")
        .containsPattern(
            "(?m)^stateprobe_untrusted_cycles_total\\{reason=\"(informer_not_synced|no_kubelet_view)\"}"
                + " [1-9]")
        .contains(
            "stateprobe_kubelet_poll_failures_total{endpoint=\"pods\",reason=\"http_5xx\"} 1.0");
  }

  @Test
  void agentModeServesUntilStoppedThenStopsCleanly() throws Exception {
    int port = freePort();
    Map<String, String> env = new HashMap<>(node().env(Map.of("HTTP_PORT", String.valueOf(port))));
    env.put("KUBECONFIG", node().kubeconfig().toString());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CompletableFuture<Void> stop = new CompletableFuture<>();
    AgentCommand command =
        new AgentCommand(
            env,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    CompletableFuture<Integer> exit =
        CompletableFuture.supplyAsync(() -> command.run(List.of(), stop));

    HttpClient http = HttpClient.newHttpClient();
    URI readyz = URI.create("http://127.0.0.1:" + port + "/readyz");
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptions()
        .until(
            () ->
                http.send(
                            HttpRequest.newBuilder(readyz).build(),
                            HttpResponse.BodyHandlers.ofString())
                        .statusCode()
                    == 200);
    URI drifts = URI.create("http://127.0.0.1:" + port + "/v1/drifts");
    assertThat(
            http.send(HttpRequest.newBuilder(drifts).build(), HttpResponse.BodyHandlers.ofString())
                .body())
        .contains("\"node\":\"" + SimulatedNode.NODE + "\"")
        .contains("\"drifts\":[]");
    assertThat(node().api.openWatches()).isPositive();
    assertThat(exit).isNotDone();

    stop.complete(null);

    assertThat(exit.get(20, TimeUnit.SECONDS)).isZero();
    assertThatThrownBy(
            () ->
                http.send(
                    HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(ConnectException.class);
    await().until(() -> node().api.openWatches() == 0);
    assertThat(logs.events("stopping")).hasSize(1);
    assertThat(logs.events("stopped")).hasSize(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(logs.text())
        .doesNotContain("sim-api-token-0003")
        .doesNotContain(SimulatedNode.TOKEN);
  }

  @Test
  void agentModeRefusesToStartWithoutItsCatalog() {
    // The install's default mode; REPAIR_MODE=off reads no catalog (DefaultInstallRepairIT).
    Map<String, String> env =
        new HashMap<>(
            node()
                .env(
                    Map.of(
                        "CATALOG_FILE",
                        dir.resolve("missing.yaml").toString(),
                        "REPAIR_MODE",
                        "dry-run")));
    env.put("KUBECONFIG", node().kubeconfig().toString());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    AgentCommand command =
        new AgentCommand(
            env,
            new PrintStream(new ByteArrayOutputStream()),
            new PrintStream(err, true, StandardCharsets.UTF_8));

    int code = command.run(List.of(), CompletableFuture.completedFuture(null));

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("state-probe: start-up failed: ")
        .contains(dir.resolve("missing.yaml").toString());
    assertThat(node().api.openWatches()).isZero();
  }

  @Test
  void agentModeExits2WhenItsPortIsTaken() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      Map<String, String> env =
          new HashMap<>(node().env(Map.of("HTTP_PORT", String.valueOf(taken.getLocalPort()))));
      env.put("KUBECONFIG", node().kubeconfig().toString());
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      AgentCommand command =
          new AgentCommand(
              env,
              new PrintStream(new ByteArrayOutputStream()),
              new PrintStream(err, true, StandardCharsets.UTF_8));

      int code = command.run(List.of(), new CompletableFuture<>());

      assertThat(code).isEqualTo(2);
      assertThat(err.toString(StandardCharsets.UTF_8))
          .startsWith(
              "state-probe: start-up failed: cannot listen on HTTP_PORT " + taken.getLocalPort());
      await().until(() -> node().api.openWatches() == 0);
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
