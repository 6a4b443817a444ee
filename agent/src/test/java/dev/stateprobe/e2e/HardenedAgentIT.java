package dev.stateprobe.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.testing.SimClusterExtension;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile inputs against the shipped jar under the DaemonSet's own JVM flags ({@link AgentJar}: its
 * small heap and stack, and {@code ExitOnOutOfMemoryError}): each must end in a clear refusal,
 * never in a dead or deaf agent.
 */
class HardenedAgentIT {
  @TempDir static Path dir;

  @RegisterExtension
  static final SimClusterExtension<SimulatedNode> SIM =
      SimClusterExtension.of(SimulatedNode::start);

  private static SimulatedNode node() {
    return SIM.get();
  }

  private final List<Process> processes = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();

  /**
   * The probe's client, from another loopback address than the attackers' 127.0.0.1: the kubelet
   * and Prometheus connect from addresses of their own.
   */
  private final HttpClient http =
      HttpClient.newBuilder()
          .connectTimeout(Duration.ofSeconds(5))
          .localAddress(loopback2())
          .build();

  private static InetAddress loopback2() {
    try {
      return InetAddress.getByName("127.0.0.2");
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  @BeforeAll
  static void startNode() {
    node().seed();
  }

  @AfterEach
  void cleanUp() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    for (Process p : processes) {
      p.destroyForcibly();
    }
  }

  // ---- hostile catalogs ----

  /** The catalogs that killed the agent: too large for the heap, or too deep for the stack. */
  static Stream<Arguments> badCatalogs() {
    String valid = "scripts:\n  - name: noop\n    path: noop.sh\n    drifts: [OrphanedPod]\n";
    return Stream.of(
        Arguments.of(
            "3.5 MB", valid + "#" + "x".repeat(3_500_000) + "\n", "larger than 262144 bytes"),
        Arguments.of(
            "900 KB list of 450k items",
            "scripts:\n" + "- a\n".repeat(225_000) + "-\n".repeat(225_000),
            "larger than 262144 bytes"),
        Arguments.of(
            "40 KB nested 20,000 deep",
            "scripts: " + "[".repeat(20_000) + "]".repeat(20_000) + "\n",
            "nested deeper than 16 levels"));
  }

  private static Path catalogFolder(String name, String content) throws IOException {
    Path folder = Files.createDirectories(dir.resolve(name));
    Path script = folder.resolve("noop.sh");
    Files.writeString(script, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path tmp = folder.resolve("catalog.yaml.tmp");
    Files.writeString(tmp, content);
    Files.move(
        tmp,
        folder.resolve("catalog.yaml"),
        StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
    return folder.resolve("catalog.yaml");
  }

  @ParameterizedTest(name = "{0}: exit 2 at start-up, the problem listed")
  @MethodSource("badCatalogs")
  void aBadCatalogAtStartUpIsRefusedWithExit2(String label, String content, String bound)
      throws Exception {
    Path catalog = catalogFolder("start-" + label.hashCode(), content);
    Path err = dir.resolve("start-" + label.hashCode() + ".err");
    Process p = start(Map.of("CATALOG_FILE", catalog.toString()), err);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits").isTrue();
    String stderr = Files.readString(err);
    assertThat(p.exitValue()).as(stderr).isEqualTo(2);
    assertThat(stderr)
        .contains("state-probe: start-up failed: invalid repair catalog:")
        .contains("  - " + catalog + ": ")
        .contains(bound)
        .doesNotContain("java.lang.StackOverflowError")
        .doesNotContain("java.lang.OutOfMemoryError");
  }

  @Test
  void badCatalogReloadsAreRefusedCountedAndLogged_theAgentKeepsServing() throws Exception {
    Path catalog =
        catalogFolder(
            "reload",
            "scripts:\n  - name: noop\n    path: noop.sh\n    drifts: [OrphanedPod]\n"
                + "    mode: manual\n");
    Path err = dir.resolve("reload.err");
    int port = freePort();
    Process p =
        start(Map.of("CATALOG_FILE", catalog.toString(), "HTTP_PORT", String.valueOf(port)), err);
    awaitHealthy(port);
    List<Arguments> cases = badCatalogs().toList();
    for (int i = 0; i < cases.size(); i++) {
      catalogFolder("reload", (String) cases.get(i).get()[1]);
      double refused = i + 1;
      // The watcher looks every 10 s.
      await()
          .atMost(Duration.ofSeconds(60))
          .ignoreExceptions()
          .until(() -> metric(port, "stateprobe_catalog_reload_failures_total") == refused);
      assertThat(get(port, "/healthz").statusCode()).isEqualTo(200);
    }
    assertThat(p.isAlive()).isTrue();
    List<String> refusals =
        Files.readAllLines(err).stream()
            .filter(l -> l.contains("catalog reload refused, keeping the last good catalog"))
            .toList();
    assertThat(refusals).hasSize(3);
    assertThat(refusals.get(0)).contains(catalog + ": larger than 262144 bytes");
    assertThat(refusals.get(2)).contains("nested deeper than 16 levels");
    assertThat(Files.readString(err))
        .doesNotContain("java.lang.StackOverflowError")
        .doesNotContain("java.lang.OutOfMemoryError");
  }

  // ---- hostile HTTP clients ----

  @Test
  void pipelinedRequestsThatAreNeverReadDoNotExhaustMemoryNorStarveHealthz() throws Exception {
    int drifts = 300;
    for (int i = 0; i < drifts; i++) {
      node().createCopy("scraper", "e2e-statefulset-0", "ghost-" + i, SimulatedNode.NODE);
    }
    Path err = dir.resolve("pipeline.err");
    int port = freePort();
    Process p = start(Map.of("HTTP_PORT", String.valueOf(port)), err);
    awaitHealthy(port);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                RunningAgent.JSON.readTree(get(port, "/v1/drifts").body()).path("drifts").size()
                    >= drifts);
    int replyBytes = get(port, "/v1/drifts").body().length();

    byte[] fifty =
        "GET /v1/drifts HTTP/1.1\r\nHost: agent\r\n\r\n"
            .repeat(50)
            .getBytes(StandardCharsets.US_ASCII);
    for (int c = 0; c < 200; c++) {
      pipeline(port, fifty);
    }
    System.out.printf(
        "pipelining: 200 connections x 50 GET /v1/drifts (%d bytes each, %d MB in all)"
            + " never read%n",
        replyBytes, 200L * 50 * replyBytes / 1_000_000);
    await()
        .during(Duration.ofSeconds(15))
        .atMost(Duration.ofSeconds(40))
        .until(() -> p.isAlive() && get(port, "/healthz").statusCode() == 200);
    assertThat(Files.readString(err)).doesNotContain("java.lang.OutOfMemoryError");
  }

  @Test
  void aMetricsFloodDoesNotStopHealthz() throws Exception {
    Path err = dir.resolve("flood.err");
    int port = freePort();
    Process p = start(Map.of("HTTP_PORT", String.valueOf(port)), err);
    awaitHealthy(port);
    AtomicBoolean flooding = new AtomicBoolean(true);
    AtomicLong scrapes = new AtomicLong();
    List<Thread> flooders = new ArrayList<>();
    for (int t = 0; t < 16; t++) {
      flooders.add(
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    HttpClient own = HttpClient.newHttpClient();
                    while (flooding.get()) {
                      try {
                        own.send(
                            HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .build(),
                            HttpResponse.BodyHandlers.discarding());
                        scrapes.incrementAndGet();
                      } catch (IOException e) {
                        // counted by the missing scrapes; the agent is checked below
                      } catch (InterruptedException e) {
                        return;
                      }
                    }
                  }));
    }
    // And clients that pipeline scrapes and read none of them.
    byte[] scrapes100 =
        "GET /metrics HTTP/1.1\r\nHost: agent\r\n\r\n"
            .repeat(100)
            .getBytes(StandardCharsets.US_ASCII);
    for (int c = 0; c < 100; c++) {
      pipeline(port, scrapes100);
    }
    try {
      await()
          .during(Duration.ofSeconds(10))
          .atMost(Duration.ofSeconds(30))
          .until(() -> p.isAlive() && get(port, "/healthz").statusCode() == 200);
    } finally {
      flooding.set(false);
      for (Thread t : flooders) {
        t.join(10_000);
      }
    }
    System.out.printf("metrics flood: %d scrapes answered while /healthz held%n", scrapes.get());
    assertThat(scrapes.get()).isPositive();
  }

  @Test
  void oneClientHoldingIdleConnectionsDoesNotLockOutTheProbes() throws Exception {
    Path err = dir.resolve("idle.err");
    int port = freePort();
    Process p = start(Map.of("HTTP_PORT", String.valueOf(port)), err);
    awaitHealthy(port);
    for (int c = 0; c < 200; c++) {
      Socket s = new Socket("127.0.0.1", port);
      sockets.add(s);
    }
    await()
        .during(Duration.ofSeconds(5))
        .atMost(Duration.ofSeconds(20))
        .until(() -> p.isAlive() && get(port, "/healthz").statusCode() == 200);
  }

  // ---- helpers ----

  /**
   * A client on 127.0.0.1 that sends {@code requests} and never reads; the agent may close the
   * connection at once (over its limits), which is not the client's problem.
   */
  private void pipeline(int port, byte[] requests) throws IOException {
    Socket s = new Socket("127.0.0.1", port);
    s.setReceiveBufferSize(4096); // reads nothing and buffers little
    sockets.add(s);
    try {
      OutputStream out = s.getOutputStream();
      out.write(requests);
      out.flush();
    } catch (IOException refused) {
      // closed by the agent's connection limits
    }
  }

  private Process start(Map<String, String> overrides, Path err) throws IOException {
    Map<String, String> env = new java.util.HashMap<>(node().env(Map.of("REPAIR_MODE", "dry-run")));
    env.putAll(overrides);
    env.put("KUBECONFIG", node().kubeconfig().toString());
    Process p =
        AgentJar.command(env, dir.resolve(err.getFileName() + ".out"), err, "agent").start();
    processes.add(p);
    return p;
  }

  private void awaitHealthy(int port) {
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> get(port, "/healthz").statusCode() == 200);
  }

  private double metric(int port, String name) throws Exception {
    for (String line : get(port, "/metrics").body().split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).strip());
      }
    }
    return -1;
  }

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
