package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.config.AgentConfig.KubeletSettings;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.metrics.FailureReason;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimeView;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The node-proxy source against fabric8's mock API server in expectations mode. */
class ApiProxyKubeletSourceIT {
  private static final String PODS = "/api/v1/nodes/n1/proxy/pods";
  private static final String RUNNING = "/api/v1/nodes/n1/proxy/runningpods/";
  private static final String CAPTURE =
      new String(Fixtures.kubelet(Fixtures.K8S_1_35), StandardCharsets.UTF_8);
  private static final String RUNNING_PODS =
      """
      {"kind":"PodList","apiVersion":"v1","metadata":{},"items":[
       {"metadata":{"name":"etcd-n1","namespace":"kube-system","uid":"1d2b3c4d-0000-4000-8000-00000000e7cd","creationTimestamp":null},
        "spec":{"containers":[{"name":"etcd","image":"registry.k8s.io/etcd:3.6","resources":{}}]},"status":{}},
       {"metadata":{"name":"web","namespace":"shop","uid":"1d2b3c4d-0000-4000-8000-0000000000eb","creationTimestamp":null},
        "spec":{"containers":[{"name":"app","image":"shop:1","resources":{}},
                              {"name":"sidecar","image":"proxy:1","resources":{}}]},"status":{}}]}
      """;

  private static Vertx vertx;
  private static KubernetesMockServer server;
  private static KubernetesClient client;

  private final TestClock clock = new TestClock(Instant.parse("2026-11-26T10:00:00Z"));
  private SimpleMeterRegistry registry;
  private Metrics metrics;
  private ApiProxyKubeletSource source;

  @BeforeAll
  static void startServer() {
    vertx = Vertx.vertx();
    server = new KubernetesMockServer(false);
    server.init();
    client = clientFor(server.url("/"));
  }

  /** No retries: fabric8 would otherwise repeat a 5xx with back-off inside the poll. */
  private static KubernetesClient clientFor(String url) {
    Config config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(url)
            .withRequestRetryBackoffLimit(0)
            .withConnectionTimeout(10_000)
            .build();
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(new Vertx5HttpClientFactory(vertx))
        .build();
  }

  @AfterAll
  static void stopServer() {
    client.close();
    server.destroy();
    vertx.close().await();
  }

  @BeforeEach
  void setUp() {
    server.reset();
    registry = new SimpleMeterRegistry();
    metrics = new Metrics(registry, "test", clock::millis);
  }

  @AfterEach
  void tearDown() {
    if (source != null) {
      source.close();
    }
    metrics.close();
  }

  private static KubeletSettings settings(long maxBody, Duration requestTimeout) {
    return new KubeletSettings(
        URI.create("https://kubelet.invalid:10250"),
        Path.of("/nonexistent/token"), // unused: the client carries the credentials
        Optional.empty(),
        false,
        true,
        Duration.ofSeconds(10),
        requestTimeout,
        maxBody,
        Duration.ofMinutes(5));
  }

  private ApiProxyKubeletSource source(KubeletSettings settings) {
    source =
        new ApiProxyKubeletSource(
            vertx, client, "n1", settings, new PodJsonDecoder(), metrics, clock);
    return source;
  }

  private ApiProxyKubeletSource source() {
    return source(settings(64L * 1024 * 1024, Duration.ofSeconds(15)));
  }

  private static <T> T result(Future<T> f) throws Exception {
    return f.await(20, TimeUnit.SECONDS);
  }

  private static KubeletException failure(Future<?> f) {
    await().atMost(Duration.ofSeconds(20)).until(f::isComplete);
    assertThat(f.failed()).as("poll failed").isTrue();
    assertThat(f.cause()).isInstanceOf(KubeletException.class);
    return (KubeletException) f.cause();
  }

  private double failures(String endpoint, FailureReason reason) {
    return registry
        .get("stateprobe.kubelet.poll.failures")
        .tags("endpoint", endpoint, "reason", reason.tag())
        .counter()
        .count();
  }

  @Test
  void podsThroughTheNodeProxyGive24Records() throws Exception {
    server.expect().get().withPath(PODS).andReturn(200, CAPTURE).once();

    KubeletView view = result(source().pollPods());

    assertThat(view.size()).isEqualTo(24);
    assertThat(view.podsByUid().get("eaf7d48161d81d9c3359e1c008571fd6").name())
        .isEqualTo("etcd-datagen-1-35");
    assertThat(view.observedAt()).isEqualTo(clock.instant());
    RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
    assertThat(request.getPath()).isEqualTo(PODS);
    assertThat(
            registry
                .get("stateprobe.kubelet.poll.duration")
                .tags("endpoint", "pods")
                .timer()
                .count())
        .isEqualTo(1);
    assertThat(registry.get("stateprobe.kubelet.response.size").summary().totalAmount())
        .isEqualTo(CAPTURE.getBytes(StandardCharsets.UTF_8).length);
  }

  @Test
  void runningPodsThroughTheNodeProxyListRunningContainers() throws Exception {
    server.expect().get().withPath(RUNNING).andReturn(200, RUNNING_PODS).once();

    RuntimeView view = result(source().pollRunningPods()).orElseThrow();

    assertThat(view.podsByUid().keySet())
        .containsExactlyInAnyOrder(
            "1d2b3c4d-0000-4000-8000-00000000e7cd", "1d2b3c4d-0000-4000-8000-0000000000eb");
    assertThat(view.podsByUid().get("1d2b3c4d-0000-4000-8000-0000000000eb").runningContainers())
        .containsExactlyInAnyOrder("app", "sidecar");
    assertThat(source.runtimeAvailable()).isTrue();
  }

  @Test
  void aForbiddenRuntimeViewIsUnavailableAndAskedAgainOnlyAfterTheInterval() throws Exception {
    server
        .expect()
        .get()
        .withPath(RUNNING)
        .andReturn(403, "{\"kind\":\"Status\",\"code\":403}")
        .once();
    server.expect().get().withPath(RUNNING).andReturn(200, RUNNING_PODS).once();
    source();

    assertThat(result(source.pollRunningPods())).isEmpty();
    assertThat(source.runtimeAvailable()).isFalse();
    assertThat(registry.get("stateprobe.runtime.view.available").gauge().value()).isEqualTo(0.0);
    assertThat(failures("runningpods", FailureReason.HTTP_403)).isEqualTo(1);

    clock.advance(Duration.ofMinutes(4));
    assertThat(result(source.pollRunningPods())).isEmpty();
    assertThat(server.getRequestCount()).isEqualTo(1);

    clock.advance(Duration.ofMinutes(1));
    assertThat(result(source.pollRunningPods())).isPresent();
    assertThat(server.getRequestCount()).isEqualTo(2);
    assertThat(source.runtimeAvailable()).isTrue();
    assertThat(registry.get("stateprobe.runtime.view.available").gauge().value()).isEqualTo(1.0);
  }

  @Test
  void aServerErrorIsHttp5xxWithTheApiServersText() throws Exception {
    server
        .expect()
        .get()
        .withPath(PODS)
        .andReturn(
            503,
            "error trying to reach service: dial tcp 10.0.0.1:10250: connect: connection refused")
        .once();

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.HTTP_5XX);
    assertThat(e.getMessage())
        .isEqualTo(
            "GET /pods from node proxy n1: HTTP 503: error trying to reach service: dial tcp"
                + " 10.0.0.1:10250: connect: connection refused");
    assertThat(failures("pods", FailureReason.HTTP_5XX)).isEqualTo(1);
  }

  @Test
  void forbiddenPodsAreHttp403() throws Exception {
    server
        .expect()
        .get()
        .withPath(PODS)
        .andReturn(403, "{\"kind\":\"Status\",\"code\":403}")
        .once();

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.HTTP_403);
    assertThat(failures("pods", FailureReason.HTTP_403)).isEqualTo(1);
  }

  @Test
  void unauthorizedIsHttp401() throws Exception {
    server.expect().get().withPath(PODS).andReturn(401, "Unauthorized").always();

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.HTTP_401);
    assertThat(failures("pods", FailureReason.HTTP_401)).isEqualTo(1);
  }

  @Test
  void aBodyThatIsNotAPodListIsADecodeFailure() throws Exception {
    server.expect().get().withPath(PODS).andReturn(200, "{\"kind\":\"Status\"}").once();

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.DECODE);
    assertThat(e.getMessage())
        .isEqualTo("GET /pods from node proxy n1: kind is Status, expected PodList");
    assertThat(failures("pods", FailureReason.DECODE)).isEqualTo(1);
  }

  @Test
  void aReplyPastTheLimitIsTooLarge() throws Exception {
    server.expect().get().withPath(PODS).andReturn(200, CAPTURE).once();

    KubeletException e = failure(source(settings(64 * 1024, Duration.ofSeconds(15))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
    assertThat(e.getMessage()).contains("65536");
    assertThat(failures("pods", FailureReason.TOO_LARGE)).isEqualTo(1);
  }

  @Test
  void aChunkedReplyPastTheLimitIsTooLargeWhileItArrives() throws Exception {
    String half = CAPTURE.substring(0, CAPTURE.length() / 2);
    server
        .expect()
        .get()
        .withPath(PODS)
        .andReturnChunked(200, half, CAPTURE.substring(half.length()))
        .once();

    KubeletException e = failure(source(settings(64 * 1024, Duration.ofSeconds(15))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
    assertThat(e.getMessage()).contains("passed the limit of 65536 bytes");
  }

  @Test
  void aSlowApiServerEndsAtTheRequestTimeout() throws Exception {
    server.expect().get().delay(10, TimeUnit.SECONDS).withPath(PODS).andReturn(200, CAPTURE).once();

    long start = System.nanoTime();
    KubeletException e =
        failure(source(settings(64L * 1024 * 1024, Duration.ofMillis(600))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TIMEOUT);
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(550L, 5000L);
    assertThat(failures("pods", FailureReason.TIMEOUT)).isEqualTo(1);
  }

  @Test
  void anUnreachableApiServerIsAConnectFailure() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (KubernetesClient nowhere = clientFor("http://localhost:" + closedPort + "/")) {
      source =
          new ApiProxyKubeletSource(
              vertx,
              nowhere,
              "n1",
              settings(1024 * 1024, Duration.ofSeconds(15)),
              new PodJsonDecoder(),
              metrics,
              clock);

      KubeletException e = failure(source.pollPods());

      assertThat(e.reason()).isEqualTo(FailureReason.CONNECT);
      assertThat(failures("pods", FailureReason.CONNECT)).isEqualTo(1);
    }
  }

  @Test
  void describeNamesTheNodeAndTheApiServer() {
    assertThat(source().describe())
        .isEqualTo(
            "kubelet of node n1 through the API server's node proxy at " + client.getMasterUrl());
  }

  @Test
  void anInvalidNodeNameIsRefusedNamingIt() {
    assertThatThrownBy(
            () ->
                new ApiProxyKubeletSource(
                    vertx,
                    client,
                    "N1/../x",
                    settings(1024, Duration.ofSeconds(1)),
                    new PodJsonDecoder(),
                    metrics,
                    clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("node name 'N1/../x' is not a valid node name");
  }
}
