package dev.stateprobe.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.testing.SimClusterExtension;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/**
 * The shipped jar under the DaemonSet's own JVM flags against a kubelet whose replies do not fit
 * its heap: a valid 10,000-pod {@code /pods} of about 44 MB, and chunked bodies cut off mid-way.
 * The agent must stay alive, count the reply as {@code too_large} (or, for a body cut off below the
 * limit, as the connection failure it is), and draw no verdict: its cycles are untrusted. {@code
 * check} must end with exit 2 and a message, not an OutOfMemoryError.
 */
class LargeKubeletReplyIT {
  @TempDir static Path dir;

  @RegisterExtension
  static final SimClusterExtension<SimulatedNode> SIM =
      SimClusterExtension.of(SimulatedNode::start);

  private static SimulatedNode node() {
    return SIM.get();
  }

  /** 10,000 pods made of the 1.35 capture's, each with a UID of its own. */
  private static byte[] tenThousandPods;

  private Process process;

  @BeforeAll
  static void start() {
    node().seed();
    tenThousandPods = podList(10_000);
    assertThat(tenThousandPods.length).isBetween(40_000_000, 60_000_000);
  }

  @AfterEach
  void kill() {
    node().kubelet.clearFaults();
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
    }
  }

  static byte[] podList(int pods) {
    JsonNode capture = RunningAgent.JSON.readTree(Fixtures.kubelet(Fixtures.K8S_1_35));
    ArrayNode items = (ArrayNode) capture.path("items");
    ByteArrayOutputStream out = new ByteArrayOutputStream(60_000_000);
    out.writeBytes(
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[".getBytes());
    Pattern uid = Pattern.compile("\"uid\":\"[^\"]+\"");
    String[] templates = new String[items.size()];
    for (int i = 0; i < items.size(); i++) {
      templates[i] = RunningAgent.JSON.writeValueAsString(items.get(i));
    }
    for (int i = 0; i < pods; i++) {
      String t = templates[i % templates.length];
      Matcher m = uid.matcher(t);
      String item =
          m.find()
              ? t.substring(0, m.start())
                  + "\"uid\":\""
                  + UUID.nameUUIDFromBytes(("pod-" + i).getBytes(StandardCharsets.UTF_8))
                  + "\""
                  + t.substring(m.end())
              : t;
      if (i > 0) {
        out.write(',');
      }
      out.writeBytes(item.getBytes(StandardCharsets.UTF_8));
    }
    out.writeBytes("]}".getBytes());
    return out.toByteArray();
  }

  private int startAgent(Map<String, String> extra) throws Exception {
    int port = AgentJar.freePort();
    Map<String, String> env =
        new java.util.HashMap<>(
            node().env(Map.of("HTTP_PORT", String.valueOf(port), "POLL_INTERVAL", "1s")));
    env.putAll(extra);
    env.put("KUBECONFIG", node().kubeconfig().toString());
    process =
        AgentJar.command(env, dir.resolve("agent.out"), dir.resolve("agent.err"), "agent").start();
    HttpClient http = HttpClient.newHttpClient();
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(http, port, "/healthz").statusCode() == 200);
    return port;
  }

  @Test
  void aValid44MbPodListIsRefusedAsTooLargeAndTheAgentLivesOn() throws Exception {
    node().kubelet.inject("/pods", KubeletFault.body(tenThousandPods), 10_000);
    node().kubelet.inject("/runningpods/", KubeletFault.body(tenThousandPods), 10_000);
    int port = startAgent(Map.of());
    HttpClient http = HttpClient.newHttpClient();

    await()
        .atMost(Duration.ofSeconds(90))
        .until(() -> failures(http, port, "pods", "too_large") >= 4);
    assertThat(process.isAlive()).as(log()).isTrue();
    assertThat(failures(http, port, "runningpods", "too_large")).isGreaterThanOrEqualTo(1);
    JsonNode ready = RunningAgent.JSON.readTree(get(http, port, "/readyz").body());
    assertThat(ready.path("trusted").asBoolean()).isFalse();
    assertThat(ready.path("untrustedReasons").toString()).contains("kubelet_poll_failed");
    assertThat(ready.path("kubeletError").asString()).startsWith("too_large:");
    JsonNode drifts = RunningAgent.JSON.readTree(get(http, port, "/v1/drifts").body());
    assertThat(drifts.path("trusted").asBoolean()).isFalse();
    assertThat(drifts.path("drifts").size()).isZero();

    stopCleanly();
  }

  @Test
  void aChunkedBodyCutOffIsRefusedWithItsReasonAndTheAgentLivesOn() throws Exception {
    // /pods cut off past the limit (9.5 MB), /runningpods/ cut off below it (1 MB).
    node().kubelet.inject("/pods", new KubeletFault.Truncated(tenThousandPods, 9_500_000), 10_000);
    node()
        .kubelet
        .inject("/runningpods/", new KubeletFault.Truncated(tenThousandPods, 1_000_000), 10_000);
    int port = startAgent(Map.of());
    HttpClient http = HttpClient.newHttpClient();

    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                failures(http, port, "pods", "too_large") >= 4
                    && failures(http, port, "runningpods", "connect") >= 2);
    assertThat(process.isAlive()).as(log()).isTrue();
    JsonNode ready = RunningAgent.JSON.readTree(get(http, port, "/readyz").body());
    assertThat(ready.path("trusted").asBoolean()).isFalse();
    assertThat(ready.path("untrustedReasons").toString())
        .contains("kubelet_poll_failed")
        .contains("runtime_poll_failed");

    stopCleanly();
  }

  @Test
  void checkRefusesA44MbPodListWithExit2AndAMessage() throws Exception {
    node().kubelet.inject("/pods", KubeletFault.body(tenThousandPods), 10_000);
    node().kubelet.inject("/runningpods/", KubeletFault.body(tenThousandPods), 10_000);
    Map<String, String> env =
        Map.of(
            "KUBELET_TOKEN_FILE", node().tokenFile.toString(),
            "KUBELET_CA_FILE", node().kubelet.caFile().toString());
    process =
        AgentJar.command(
                env,
                dir.resolve("check.out"),
                dir.resolve("check.err"),
                "check",
                "--node",
                SimulatedNode.NODE,
                "--kubeconfig",
                node().kubeconfig().toString(),
                "--kubelet-url",
                node().kubelet.url().toString(),
                "--samples",
                "1")
            .start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String err = Files.readString(dir.resolve("check.err"));
    assertThat(process.exitValue()).as(err).isEqualTo(2);
    assertThat(err)
        .contains("check: GET /pods from " + node().kubelet.url())
        .contains("KUBELET_MAX_BODY_BYTES")
        .doesNotContain("java.lang.OutOfMemoryError");
  }

  private void stopCleanly() throws Exception {
    process.destroy(); // SIGTERM
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String log = log();
    assertThat(process.exitValue()).as(log).isEqualTo(143);
    assertThat(log).doesNotContain("java.lang.OutOfMemoryError");
  }

  private static String log() {
    try {
      return Files.readString(dir.resolve("agent.err"));
    } catch (java.io.IOException e) {
      return "(no log: " + e + ")";
    }
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
            .matcher(get(http, port, "/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
