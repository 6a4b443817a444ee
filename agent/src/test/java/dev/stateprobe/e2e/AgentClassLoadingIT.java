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
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which classes the shipped jar loads on a node with nothing to repair: the agent reads the API
 * server through its own list/watch, and fabric8's client is built only when it first has to write.
 * Run as a process with {@code -Xlog:class+load}, configured as in a pod (fabric8's {@code
 * KUBERNETES_*} variables, no kubeconfig).
 *
 * <p>While no drift was seen, the only classes of fabric8 loaded are {@link #ALLOWED}: {@code
 * io.fabric8.kubernetes.client.Config} and what it needs to resolve the configuration (the agent
 * reads credentials and TLS from it). Not the {@code KubernetesClient} interface, nothing of the
 * client's implementation ({@code impl}, {@code dsl}, {@code vertx5}, {@code informers}), no model
 * class but the two {@code Config} holds. A drift then makes the agent build the client, and the
 * same log shows it: the control that the test can fail.
 */
class AgentClassLoadingIT {
  /**
   * Every class of fabric8 the agent may load before it writes: {@code Config} and what resolving
   * it needs (its generated builder and fluent base classes, {@code RequestConfig}, {@code
   * TlsVersion}, {@code HttpClient.Factory} as a field type, {@code Version}, {@code Utils} and its
   * scheduler, the exception it declares) and the two model types {@code Config} holds a context
   * in. Measured: 21 classes.
   */
  private static final Pattern ALLOWED =
      Pattern.compile(
          "io\\.fabric8\\.kubernetes\\.("
              + "client\\.(Config|SundrioConfig\\w*|RequestConfig|Version|KubernetesClientException"
              + "|http\\.HttpClient\\$Factory|http\\.TlsVersion"
              + "|utils\\.Utils(\\$\\$Lambda.*)?|utils\\.CachedSingleThreadScheduler)"
              + "|api\\.builder\\.\\w+"
              + "|api\\.model\\.(KubernetesResource|NamedContext))");

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

  /** fabric8's classes in the log that are not {@link #ALLOWED}. */
  private static List<String> forbidden(Path classLog) throws Exception {
    return Files.readAllLines(classLog, StandardCharsets.UTF_8).stream()
        .filter(l -> l.contains("] io.fabric8."))
        .map(l -> l.replaceAll(".*\\] (\\S+) .*", "$1"))
        .filter(c -> !ALLOWED.matcher(c).matches())
        .toList();
  }

  @Test
  void aNodeWithoutDriftNeverLoadsFabric8sClientOrModelUntilADriftAppears() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path classLog = dir.resolve("classes.txt");
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(
                java,
                "-Xmx128m",
                "-Xlog:class+load=info:file=" + classLog,
                "-jar",
                AgentJar.jar().toString(),
                "agent")
            .redirectError(dir.resolve("agent.err").toFile())
            .redirectOutput(dir.resolve("agent.out").toFile());
    Map<String, String> env = pb.environment();
    env.putAll(node().env(Map.of("HTTP_PORT", String.valueOf(port))));
    env.put("KUBERNETES_MASTER", node().api.url());
    env.put("KUBERNETES_AUTH_TOKEN", "sim-api-token-0003");
    env.put("KUBERNETES_NAMESPACE", "default");
    env.put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
    env.put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
    env.remove("KUBECONFIG");
    process = pb.start();

    HttpClient http = HttpClient.newHttpClient();
    await()
        .atMost(Duration.ofSeconds(40))
        .ignoreExceptions()
        .until(() -> get(http, port, "/readyz").statusCode() == 200);
    // Well past the first trusted cycle and the start-up check for old records.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                cycles(http, port) >= 20
                    && Files.readString(dir.resolve("agent.err"))
                        .contains("event=repair_deferred"));

    List<String> lines = Files.readAllLines(classLog, StandardCharsets.UTF_8);
    List<String> fabric8 =
        lines.stream()
            .filter(l -> l.contains("] io.fabric8."))
            .map(l -> l.replaceAll(".*\\] (\\S+) .*", "$1"))
            .toList();
    System.out.println(
        "AgentClassLoadingIT: "
            + lines.size()
            + " classes loaded, "
            + fabric8.size()
            + " of fabric8's: "
            + fabric8);
    assertThat(lines).anyMatch(l -> l.contains("dev.stateprobe.controlplane.PodListWatch "));
    assertThat(lines).anyMatch(l -> l.contains("io.fabric8.kubernetes.client.Config "));
    assertThat(forbidden(classLog)).as("fabric8 client or model classes loaded").isEmpty();
    assertThat(fabric8)
        .doesNotContain(
            "io.fabric8.kubernetes.client.KubernetesClient",
            "io.fabric8.kubernetes.client.impl.KubernetesClientImpl",
            "io.fabric8.kubernetes.api.model.Pod");

    // The control: a drift makes the agent build its client, and the same log shows it.
    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                Files.readAllLines(classLog, StandardCharsets.UTF_8).stream()
                    .anyMatch(
                        l ->
                            l.contains("io.fabric8.kubernetes.client.impl.KubernetesClientImpl ")));
    assertThat(forbidden(classLog))
        .contains("io.fabric8.kubernetes.client.KubernetesClient")
        .anyMatch(c -> c.startsWith("io.fabric8.kubernetes.client.vertx5."));
    process.destroy();
  }

  private static long cycles(HttpClient http, int port) throws Exception {
    return get(http, port, "/metrics")
        .body()
        .lines()
        .filter(l -> l.startsWith("stateprobe_cycles_total"))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static HttpResponse<String> get(HttpClient http, int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
