package dev.stateprobe.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.testing.SimClusterExtension;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The kubelet token never leaves the agent: the jar under the DaemonSet's flags goes through the
 * faults that used to put it somewhere (a kubelet that echoes request headers into an error body, a
 * token file with a second line or a control character in it), makes a record besides, and then
 * every log line, every answer of {@code /readyz}, {@code /v1/drifts}, {@code /v1/views} and {@code
 * /metrics} taken on the way, and every record is searched for the token.
 */
class TokenLeakIT {
  private static final String SECOND_LINE = "second-line-0077";
  private static final String BELL_TOKEN = "bell\u0007token-0078";

  @TempDir static Path dir;

  @RegisterExtension
  static final SimClusterExtension<SimulatedNode> SIM =
      SimClusterExtension.of(SimulatedNode::start);

  private static SimulatedNode node() {
    return SIM.get();
  }

  @BeforeAll
  static void start() {
    node().seed();
    // Records are owned by their node: the simulated cluster made its Node object.
  }

  @Test
  void noLogLineEndpointOrRecordEverHoldsTheToken() throws Exception {
    int port = AgentJar.freePort();
    Map<String, String> env =
        new HashMap<>(
            node()
                .env(
                    Map.of(
                        "HTTP_PORT", String.valueOf(port),
                        "REPAIR_MODE", "dry-run",
                        "MIN_OBSERVATIONS", "2")));
    env.put("KUBECONFIG", node().kubeconfig().toString());
    Path stderr = dir.resolve("agent.err");
    Process process = AgentJar.command(env, dir.resolve("agent.out"), stderr, "agent").start();
    HttpClient http = HttpClient.newHttpClient();
    List<String> answers = new ArrayList<>();
    try {
      await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> trusted(http, port));

      // A kubelet (or a proxy) that echoes the request headers into its error bodies.
      node().kubelet.inject("/pods", new KubeletFault.EchoHeaders(500), 1000);
      node().kubelet.inject("/runningpods/", new KubeletFault.EchoHeaders(403), 1000);
      await().until(() -> failures(http, port, "pods", "http_5xx") >= 2);
      collect(http, port, answers);
      assertThat(answers.getFirst()).contains("HTTP 500").contains("[REDACTED]");
      node().kubelet.clearFaults();

      // A token file with a second line, then one with a control character: TOKEN failures
      // that name the file, never its content; the poll ends at once, not at its timeout.
      node().writeToken(SimulatedNode.TOKEN + "\n" + SECOND_LINE);
      await().until(() -> failures(http, port, "pods", "token") >= 2);
      collect(http, port, answers);
      assertThat(answers.get(answers.size() - 4))
          .contains("token: the token file " + node().tokenFile + " holds more than one line");
      node().writeToken(BELL_TOKEN);
      await().until(() -> failures(http, port, "pods", "token") >= 4);
      collect(http, port, answers);
      assertThat(failures(http, port, "pods", "timeout")).isZero();

      // Healed, and a drift that makes a record.
      node().writeToken(SimulatedNode.TOKEN);
      await().atMost(Duration.ofSeconds(30)).until(() -> trusted(http, port));
      node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  !node()
                      .cluster
                      .resources(ConsistencyRepairJob.class)
                      .inAnyNamespace()
                      .list()
                      .getItems()
                      .isEmpty());
      collect(http, port, answers);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(Files.readString(stderr, StandardCharsets.UTF_8), e);
    } finally {
      process.destroy();
      assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    KubernetesSerialization json = new KubernetesSerialization();
    String records =
        json.asJson(
            node()
                .cluster
                .resources(ConsistencyRepairJob.class)
                .inAnyNamespace()
                .list()
                .getItems());
    String log =
        Files.readString(stderr, StandardCharsets.UTF_8)
            + Files.readString(dir.resolve("agent.out"), StandardCharsets.UTF_8);
    assertThat(records).contains("e2e-statefulset-0");
    assertThat(log).contains("event=drift_confirmed");
    for (String secret : List.of(SimulatedNode.TOKEN, SECOND_LINE, "token-0078")) {
      assertThat(log).as("the log").doesNotContain(secret);
      assertThat(records).as("the records").doesNotContain(secret);
      for (String answer : answers) {
        assertThat(answer).as("an endpoint's answer").doesNotContain(secret);
      }
    }
  }

  private static void collect(HttpClient http, int port, List<String> into) throws Exception {
    for (String path : List.of("/readyz", "/v1/drifts", "/v1/views", "/metrics")) {
      into.add(LargeKubeletReplyIT.get(http, port, path).body());
    }
  }

  private static boolean trusted(HttpClient http, int port) throws Exception {
    JsonNode ready =
        RunningAgent.JSON.readTree(LargeKubeletReplyIT.get(http, port, "/readyz").body());
    return ready.path("trusted").asBoolean();
  }

  private static double failures(HttpClient http, int port, String endpoint, String reason)
      throws Exception {
    Matcher m =
        Pattern.compile(
                "(?m)^stateprobe_kubelet_poll_failures_total\\{endpoint=\""
                    + endpoint
                    + "\",reason=\""
                    + reason
                    + "\"} (\\S+)$")
            .matcher(LargeKubeletReplyIT.get(http, port, "/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }
}
