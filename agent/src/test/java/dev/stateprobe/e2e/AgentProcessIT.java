package dev.stateprobe.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.testing.SimClusterExtension;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The shipped jar in {@code agent} mode as a process of its own, against the simulated node:
 * configured by environment variables, logging to stderr, stopped by SIGTERM.
 */
class AgentProcessIT {
  @TempDir static Path dir;

  @RegisterExtension
  static final SimClusterExtension<SimulatedNode> SIM =
      SimClusterExtension.of(SimulatedNode::start);

  private static SimulatedNode node() {
    return SIM.get();
  }

  private Process process;

  @BeforeAll
  static void startNode() {
    node().seed();
  }

  @AfterEach
  void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
    }
  }

  /** {@code agent/target/state-probe.jar}: failsafe runs after {@code package} made it. */
  @Test
  void theJarRunsTheAgentUntilSigtermAndLogsEachStateChangeWithoutTheToken() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path stderr = dir.resolve("agent.err");
    Path stdout = dir.resolve("agent.out");
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(java, "-Xmx128m", "-jar", AgentJar.jar().toString(), "agent")
            .redirectError(stderr.toFile())
            .redirectOutput(stdout.toFile());
    pb.environment().putAll(node().env(Map.of("HTTP_PORT", String.valueOf(port))));
    pb.environment().put("KUBECONFIG", node().kubeconfig().toString());
    process = pb.start();

    // Asked only once the agent says it listens: Vert.x 5.2.0 can drop a connection that arrives
    // while its server is still binding, and Netty logs that with a stack trace
    // (eclipse-vertx/vert.x#6087, fixed after 5.2.0), which the log check below would take for
    // the agent's own.
    await()
        .atMost(Duration.ofSeconds(40))
        .until(() -> Files.readString(stderr).contains(" event=listening port=" + port));
    HttpClient http = HttpClient.newHttpClient();
    await()
        .atMost(Duration.ofSeconds(40))
        .ignoreExceptions()
        .until(() -> get(http, port, "/readyz").statusCode() == 200);
    String uid = node().kubeletUid("scraper", "e2e-statefulset-0");
    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              JsonNode d =
                  RunningAgent.JSON.readTree(get(http, port, "/v1/drifts").body()).path("drifts");
              return d.size() == 1 && d.get(0).path("state").asString().equals("confirmed");
            });
    assertThat(get(http, port, "/metrics").body())
        .contains("stateprobe_drifts_active{kind=\"OrphanedPod\"} 1.0");

    process.destroy(); // SIGTERM

    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("stopped within 30 s").isTrue();
    assertThat(process.exitValue()).isEqualTo(143); // 128 + SIGTERM, after the clean stop
    String log = Files.readString(stderr, StandardCharsets.UTF_8);
    List<String> lines = log.lines().toList();
    assertThat(lines)
        .anyMatch(l -> l.contains(" event=start ") && l.contains("node=" + SimulatedNode.NODE));
    assertThat(lines).anyMatch(l -> l.endsWith(" event=listening port=" + port));
    assertThat(lines)
        .filteredOn(l -> l.contains(" event=drift_suspected ") && l.contains("uid=" + uid + " "))
        .hasSize(1)
        .allMatch(
            l ->
                l.matches(
                    ".* cycle=\\d+ kind=OrphanedPod namespace=scraper name=e2e-statefulset-0 .*"));
    assertThat(lines)
        .filteredOn(l -> l.contains(" event=drift_confirmed ") && l.contains("uid=" + uid + " "))
        .hasSize(1);
    int stopping = indexOf(lines, " event=stopping");
    int stopped = indexOf(lines, " event=stopped");
    assertThat(stopping).isNotNegative();
    assertThat(stopped).isGreaterThan(stopping);
    assertThat(lines).as(log).noneMatch(l -> l.contains(" ERROR "));
    assertThat(log)
        .doesNotContain(SimulatedNode.TOKEN)
        .doesNotContain("sim-api-token-0003")
        .doesNotContain("Exception");
    await().until(() -> node().api.openWatches() == 0);
  }

  private static int indexOf(List<String> lines, String suffix) {
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).endsWith(suffix)) {
        return i;
      }
    }
    return -1;
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
