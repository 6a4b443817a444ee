package dev.stateprobe.e2e;

import static dev.stateprobe.e2e.SimulatedNode.NODE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.cli.CheckCommand;
import dev.stateprobe.sim.SimApiServer.ProxyReply;
import dev.stateprobe.testing.SimClusterExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code state-probe check} end to end: the API server through a kubeconfig, the kubelet either
 * directly ({@code --kubelet-url}, the fake HTTPS kubelet) or through the API server's node proxy
 * (the simulated API server forwards {@code /api/v1/nodes/NODE/proxy/pods} to what the fake kubelet
 * serves).
 */
class CheckCommandIT {
  @TempDir static Path dir;

  @RegisterExtension
  static final SimClusterExtension<SimulatedNode> SIM =
      SimClusterExtension.of(SimulatedNode::start);

  private static SimulatedNode node() {
    return SIM.get();
  }

  private static Path kubeconfig;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final AtomicInteger proxied = new AtomicInteger();

  @BeforeAll
  static void startNode() {
    kubeconfig = node().kubeconfig();
  }

  @BeforeEach
  void seed() {
    node().seed();
    node()
        .api
        .proxyNode(
            NODE,
            path -> {
              proxied.incrementAndGet();
              return kubeletAnswer(path);
            });
  }

  @AfterEach
  void reset() {
    node().reset();
  }

  private static ProxyReply kubeletAnswer(String path) {
    return "/pods".equals(path)
        ? new ProxyReply(200, "application/json", node().kubelet.podsBody())
        : new ProxyReply(404, "text/plain", "404 page not found".getBytes(StandardCharsets.UTF_8));
  }

  private int check(String... args) {
    Map<String, String> env =
        Map.of(
            "KUBELET_TOKEN_FILE", node().tokenFile.toString(),
            "KUBELET_CA_FILE", node().kubelet.caFile().toString());
    return new CheckCommand(
            env,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(List.of(args));
  }

  private int checkDirect(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--node",
                NODE,
                "--kubeconfig",
                kubeconfig.toString(),
                "--kubelet-url",
                node().kubelet.url().toString(),
                "--samples",
                "2",
                "--interval",
                "100ms"));
    args.addAll(List.of(more));
    return check(args.toArray(String[]::new));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void directNoDriftExits0() {
    assertThat(checkDirect()).as(err()).isZero();
    assertThat(out()).isEqualTo("node " + NODE + ": no drift in 2 samples\n");
    assertThat(node().kubelet.requests("/pods")).hasSize(2).allMatch(r -> r.authorized());
    assertThat(proxied).hasValue(0);
  }

  @Test
  void directOrphanExits1WithATableRow() {
    String uid = node().kubeletUid("scraper", "e2e-statefulset-0");
    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();

    assertThat(checkDirect()).as(err()).isEqualTo(1);

    List<String> lines = out().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0).split("\\s+"))
        .containsExactly("KIND", "STATE", "NAMESPACE", "NAME", "UID", "SEEN", "DETAIL");
    assertThat(lines.get(1))
        .matches(
            "OrphanedPod +confirmed +scraper +e2e-statefulset-0 +"
                + uid
                + " +2/2 +kubelet lists it; API server has no pod with this UID");
  }

  @Test
  void jsonOutputHasTheDriftsShape() {
    String uid = node().kubeletUid("scraper", "e2e-statefulset-0");
    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();

    assertThat(checkDirect("--output", "json", "--samples", "3")).as(err()).isEqualTo(1);

    JsonNode body = RunningAgent.JSON.readTree(out());
    assertThat(body.propertyNames()).containsExactly("node", "trusted", "observedAt", "drifts");
    assertThat(body.path("node").asString()).isEqualTo(NODE);
    assertThat(body.path("drifts")).hasSize(1);
    JsonNode d = body.path("drifts").get(0);
    assertThat(d.propertyNames())
        .containsExactly(
            "kind",
            "state",
            "namespace",
            "name",
            "uid",
            "firstObservedAt",
            "confirmedAt",
            "observations",
            "detail",
            "policy",
            "level");
    assertThat(d.path("kind").asString()).isEqualTo("OrphanedPod");
    // No ConsistencyPolicy selects the pod: the default level, and no policy named.
    assertThat(d.path("policy").isNull()).isTrue();
    assertThat(d.path("level").asString()).isEqualTo("Strict");
    assertThat(d.path("state").asString()).isEqualTo("confirmed");
    assertThat(d.path("uid").asString()).isEqualTo(uid);
    assertThat(d.path("observations").asInt()).isEqualTo(3);
    assertThat(d.path("confirmedAt").asString()).isEqualTo(body.path("observedAt").asString());
  }

  @Test
  void throughTheNodeProxyNoDriftExits0AndAnOrphanExits1() {
    List<String> args =
        List.of(
            "--node",
            NODE,
            "--kubeconfig",
            kubeconfig.toString(),
            "--samples",
            "2",
            "--interval",
            "100ms");
    assertThat(check(args.toArray(String[]::new))).as(err()).isZero();
    // /pods twice; /runningpods/ once: its 404 (no runtime view) is not asked again so soon.
    assertThat(proxied).hasValue(3);
    assertThat(node().kubelet.requests()).isEmpty();
    assertThat(node().api.count(r -> r.path().equals("/api/v1/nodes/" + NODE + "/proxy/pods")))
        .isEqualTo(2);

    node().cluster.pods().inNamespace("scraper").withName("e2e-statefulset-0").delete();
    assertThat(check(args.toArray(String[]::new))).as(err()).isEqualTo(1);
    assertThat(out()).contains("OrphanedPod").contains("e2e-statefulset-0");
  }

  @Test
  void aDriftSeenInOnlySomeSamplesIsSuspectedAndExits0() {
    // The first sample's kubelet list lacks one pod; the later ones have it.
    String uid = node().kubeletUid("scraper", "e2e-statefulset-1");
    AtomicInteger podsCalls = new AtomicInteger();
    node()
        .api
        .proxyNode(
            NODE,
            path -> {
              if ("/pods".equals(path) && podsCalls.getAndIncrement() == 0) {
                ObjectNode list =
                    (ObjectNode) RunningAgent.JSON.readTree(node().kubelet.podsBody());
                ArrayNode items = (ArrayNode) list.path("items");
                for (int i = 0; i < items.size(); i++) {
                  if (items.get(i).path("metadata").path("uid").asString().equals(uid)) {
                    items.remove(i);
                    break;
                  }
                }
                return new ProxyReply(
                    200, "application/json", RunningAgent.JSON.writeValueAsBytes(list));
              }
              return kubeletAnswer(path);
            });

    int code =
        check(
            "--node",
            NODE,
            "--kubeconfig",
            kubeconfig.toString(),
            "--samples",
            "3",
            "--interval",
            "100ms",
            "--output=json");

    assertThat(code).as(err()).isZero();
    JsonNode d = RunningAgent.JSON.readTree(out()).path("drifts");
    assertThat(d).hasSize(1);
    assertThat(d.get(0).path("kind").asString()).isEqualTo("UnknownToKubelet");
    assertThat(d.get(0).path("state").asString()).isEqualTo("suspected");
    assertThat(d.get(0).path("observations").asInt()).isEqualTo(1);
    assertThat(d.get(0).path("confirmedAt").isNull()).isTrue();
  }

  @Test
  void badArgumentsExit2NamingThem() {
    assertThat(check("--node", NODE, "--output", "yaml", "--interval", "soon")).isEqualTo(2);
    assertThat(err())
        .startsWith("check: ")
        .contains("--output must be table or json, got 'yaml'")
        .contains("--interval");
    assertThat(out()).isEmpty();
  }

  @Test
  void anUnreachableApiServerExits2Promptly() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Path nowhere = node().kubeconfig("http://127.0.0.1:" + closed + "/");
    long start = System.nanoTime();

    int code =
        check(
            "--node",
            NODE,
            "--kubeconfig",
            nowhere.toString(),
            "--kubelet-url",
            node().kubelet.url().toString(),
            "--samples",
            "1");

    assertThat(code).isEqualTo(2);
    assertThat(err()).startsWith("check: ");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    assertThat(out()).isEmpty();
  }

  @Test
  void anUnreachableKubeletExits2() {
    assertThat(
            check(
                "--node",
                NODE,
                "--kubeconfig",
                kubeconfig.toString(),
                "--kubelet-url",
                "https://127.0.0.1:1",
                "--samples",
                "1"))
        .isEqualTo(2);
    assertThat(err()).startsWith("check: ").contains("127.0.0.1:1");
  }
}
