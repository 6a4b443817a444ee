package dev.stateprobe.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.sim.FakeKubelet.RecordedRequest;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** The fake kubelet on the wire: one Vert.x, one fake and one trusting client for the class. */
class FakeKubeletIT {
  private static final String TOKEN = "sim-token";
  private static final String ETCD = "eaf7d48161d81d9c3359e1c008571fd6";
  private static final String HPA = "3ea3ef66-5f89-43b7-b88b-6ee26f5b18a4";
  private static final byte[] CAPTURE = Fixtures.kubelet(Fixtures.K8S_1_35);

  private static Vertx vertx;
  private static FakeKubelet fake;
  private static HttpClientAgent client;
  private static Context context;
  private final ObjectMapper json = JsonMapper.builder().build();
  private final PodJsonDecoder decoder = new PodJsonDecoder();

  private record Reply(int status, String body) {
    byte[] bytes() {
      return body.getBytes(StandardCharsets.UTF_8);
    }
  }

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
    fake = new FakeKubelet(vertx, TOKEN);
    fake.start().await();
    context = vertx.getOrCreateContext();
    client =
        vertx
            .httpClientBuilder()
            .with(
                new HttpClientOptions()
                    .setSsl(true)
                    .setVerifyHost(true)
                    .setTrustOptions(new PemTrustOptions().addCertPath(fake.caFile().toString())))
            .build();
  }

  @AfterAll
  static void stop() {
    client.close().await();
    fake.close();
    vertx.close().await();
  }

  @BeforeEach
  void reset() {
    fake.reset(TOKEN);
    fake.loadPodList(CAPTURE);
  }

  private Reply call(HttpMethod method, String path, String token) throws Exception {
    RequestOptions options =
        new RequestOptions()
            .setMethod(method)
            .setHost(fake.url().getHost())
            .setPort(fake.port())
            .setURI(path);
    if (token != null) {
      options.putHeader("Authorization", "Bearer " + token);
    }
    // On an event loop: built from this thread, the chain could attach the body handler after
    // the body had arrived, and wait for it forever.
    Promise<Reply> reply = Promise.promise();
    context.runOnContext(
        v ->
            client
                .request(options)
                .compose(req -> req.send())
                .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b.toString())))
                .onComplete(reply));
    return reply.future().await(20, TimeUnit.SECONDS);
  }

  private Reply get(String path) throws Exception {
    return call(HttpMethod.GET, path, TOKEN);
  }

  private Reply stop(String uid) throws Exception {
    return call(HttpMethod.POST, "/control/sandboxes/" + uid + "/stop", TOKEN);
  }

  private List<String> podUids(Reply reply) throws Exception {
    return decoder.decodePodList(reply.bytes()).stream().map(PodRecord::uid).toList();
  }

  private List<String> runningUids(Reply reply) throws Exception {
    return decoder.decodeRunningPods(reply.bytes()).stream().map(RuntimePod::uid).toList();
  }

  @Test
  void requestsWithoutTheAcceptedTokenAre401AndRecorded() throws Exception {
    assertThat(call(HttpMethod.GET, "/pods", null).status()).isEqualTo(401);
    assertThat(call(HttpMethod.GET, "/pods", "other").status()).isEqualTo(401);
    assertThat(call(HttpMethod.GET, "/nowhere", null).status()).isEqualTo(401);
    assertThat(get("/pods").status()).isEqualTo(200);

    assertThat(fake.requests())
        .containsExactly(
            new RecordedRequest("GET", "/pods", false, false),
            new RecordedRequest("GET", "/pods", true, false),
            new RecordedRequest("GET", "/nowhere", false, false),
            new RecordedRequest("GET", "/pods", true, true));
  }

  @Test
  void aRotatedTokenReplacesTheOldOne() throws Exception {
    fake.acceptToken("rotated");

    assertThat(get("/pods").status()).isEqualTo(401);
    assertThat(call(HttpMethod.GET, "/pods", "rotated").status()).isEqualTo(200);
  }

  @Test
  void podsIsAKubeletShapedListOfTheCaptureInOrder() throws Exception {
    Reply reply = get("/pods");

    assertThat(reply.status()).isEqualTo(200);
    JsonNode list = json.readTree(reply.body());
    assertThat(list.path("kind").asString()).isEqualTo("PodList");
    assertThat(list.path("apiVersion").asString()).isEqualTo("v1");
    List<String> captured = decoder.decodePodList(CAPTURE).stream().map(PodRecord::uid).toList();
    assertThat(podUids(reply)).hasSize(24).containsExactlyElementsOf(captured);
    assertThat(decoder.decodePodList(reply.bytes()))
        .containsExactlyElementsOf(decoder.decodePodList(CAPTURE)); // same digests: same content
  }

  @Test
  void runningPodsCarryOnlyIdentityAndRunningContainersAsTheKubeletRendersThem() throws Exception {
    Reply reply = get("/runningpods/");

    assertThat(reply.status()).isEqualTo(200);
    JsonNode items = json.readTree(reply.body()).path("items");
    assertThat(items.size()).isEqualTo(17);
    for (JsonNode item : items) {
      assertThat(names(item)).containsExactlyInAnyOrder("metadata", "spec", "status");
      assertThat(names(item.path("metadata")))
          .containsExactlyInAnyOrder("name", "namespace", "uid", "creationTimestamp");
      assertThat(names(item.path("spec"))).containsExactly("containers");
      for (JsonNode c : item.path("spec").path("containers")) {
        assertThat(names(c)).containsExactlyInAnyOrder("name", "image", "resources");
      }
    }
    RuntimePod etcd =
        decoder.decodeRunningPods(reply.bytes()).stream()
            .filter(p -> p.uid().equals(ETCD))
            .findFirst()
            .orElseThrow();
    assertThat(etcd.name()).isEqualTo("etcd-datagen-1-35");
    assertThat(etcd.runningContainers()).containsExactly("etcd");
    assertThat(runningUids(reply)).doesNotContain("0961a396-5fff-45fe-a970-19b2aac96e5d"); // Failed
  }

  private static List<String> names(JsonNode node) {
    List<String> names = new ArrayList<>();
    node.properties().forEach(e -> names.add(e.getKey()));
    return names;
  }

  @Test
  void runningPodsAnswer404WhenSwitchedOff() throws Exception {
    fake.serveRunningPods(false);

    assertThat(get("/runningpods/").status()).isEqualTo(404);
    assertThat(get("/pods").status()).isEqualTo(200);
  }

  @Test
  void stoppingASandboxEndsItsContainersButKeepsAListedPod() throws Exception {
    Reply reply = stop(HPA);

    assertThat(reply.status()).isEqualTo(200);
    JsonNode body = json.readTree(reply.body());
    assertThat(body.path("uid").asString()).isEqualTo(HPA);
    assertThat(body.path("stoppedContainers").size()).isEqualTo(1);
    assertThat(body.path("removedFromPods").asBoolean()).isFalse();
    assertThat(runningUids(get("/runningpods/"))).hasSize(16).doesNotContain(HPA);
    assertThat(podUids(get("/pods"))).hasSize(24).contains(HPA);
  }

  @Test
  void stoppingTheSandboxOfAnOrphanedPodRemovesItFromPodsToo() throws Exception {
    fake.markOrphaned(HPA);

    JsonNode body = json.readTree(stop(HPA).body());

    assertThat(body.path("removedFromPods").asBoolean()).isTrue();
    assertThat(podUids(get("/pods"))).hasSize(23).doesNotContain(HPA);
    assertThat(runningUids(get("/runningpods/"))).doesNotContain(HPA);
  }

  @Test
  void aForgottenPodKeepsRunningUntilItsSandboxIsStopped() throws Exception {
    assertThat(fake.forgetPod(HPA)).isTrue();

    assertThat(podUids(get("/pods"))).doesNotContain(HPA);
    assertThat(runningUids(get("/runningpods/"))).contains(HPA);

    assertThat(stop(HPA).status()).isEqualTo(200);
    assertThat(runningUids(get("/runningpods/"))).doesNotContain(HPA);
    assertThat(stop(HPA).status()).isEqualTo(404); // nothing left to stop
  }

  @Test
  void controlEndpointsNeedTheTokenAndTheRightMethod() throws Exception {
    assertThat(call(HttpMethod.POST, "/control/sandboxes/" + HPA + "/stop", null).status())
        .isEqualTo(401);
    assertThat(call(HttpMethod.GET, "/control/sandboxes/" + HPA + "/stop", TOKEN).status())
        .isEqualTo(405);
    assertThat(call(HttpMethod.POST, "/pods", TOKEN).status()).isEqualTo(405);
    assertThat(stop("no-such-uid").status()).isEqualTo(404);
    assertThat(fake.runningUids()).contains(HPA);
  }

  @Test
  void aRestartRunsTheOwnersHookOffTheEventLoopAndReportsItsOutcome() throws Exception {
    // The only test that sets the hook, so the first call finds none.
    assertThat(call(HttpMethod.POST, "/control/restart", TOKEN).status()).isEqualTo(501);
    List<Boolean> onEventLoop = new ArrayList<>();
    fake.onRestart(
        () -> {
          onEventLoop.add(Context.isOnEventLoopThread());
          fake.removePod(HPA);
          return "re-listed 23 pods";
        });
    assertThat(call(HttpMethod.POST, "/control/restart", null).status()).isEqualTo(401);
    assertThat(call(HttpMethod.GET, "/control/restart", TOKEN).status()).isEqualTo(405);
    assertThat(onEventLoop).isEmpty();

    Reply reply = call(HttpMethod.POST, "/control/restart", TOKEN);
    assertThat(reply.status()).isEqualTo(200);
    JsonNode body = json.readTree(reply.body());
    assertThat(body.path("restarted").asBoolean()).isTrue();
    assertThat(body.path("detail").asString()).isEqualTo("re-listed 23 pods");
    assertThat(onEventLoop).containsExactly(false);
    assertThat(fake.podUids()).doesNotContain(HPA);

    fake.onRestart(
        () -> {
          throw new IllegalStateException("API server unreachable");
        });
    Reply failed = call(HttpMethod.POST, "/control/restart", TOKEN);
    assertThat(failed.status()).isEqualTo(500);
    assertThat(json.readTree(failed.body()).path("error").asString())
        .contains("API server unreachable");
  }

  @Test
  void faultsApplyInOrderAndOnlyToTheirPath() throws Exception {
    fake.inject("/pods", KubeletFault.status(500), 2);
    fake.inject(KubeletFault.garbage());

    assertThat(get("/runningpods/").body()).startsWith("<html>"); // the garbage was for either path
    assertThat(get("/runningpods/").body()).startsWith("{\"kind\":\"PodList\"");
    assertThat(get("/pods").status()).isEqualTo(500);
    assertThat(get("/pods").status()).isEqualTo(500);
    assertThat(get("/pods").status()).isEqualTo(200);
  }

  @Test
  void aPutPodReplacesItInPlaceAndItsRuntime() throws Exception {
    String pod =
        fake.pod(HPA).orElseThrow().replace("\"running\":{", "\"terminated\":{\"exitCode\":0,");

    fake.putPod(pod);

    assertThat(podUids(get("/pods")).get(0)).isEqualTo(HPA);
    assertThat(runningUids(get("/runningpods/"))).doesNotContain(HPA);
    assertThat(fake.podUids()).hasSize(24);
  }

  @Test
  void badPodsAreRefusedWithAReason() {
    assertThatThrownBy(() -> fake.putPod("{\"metadata\":{\"name\":\"x\"}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pod 'x' has no metadata.uid");
    assertThatThrownBy(() -> fake.putPod("[1]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> fake.loadPodList("{\"kind\":".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not JSON");
    assertThatThrownBy(() -> fake.inject("/elsewhere", KubeletFault.garbage(), 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/elsewhere");
    assertThat(fake.podUids()).hasSize(24);
  }

  @Test
  void unknownPathsAre404() throws Exception {
    assertThat(get("/pods/").status()).isEqualTo(404);
    assertThat(get("/metrics").status()).isEqualTo(404);
    assertThat(Set.copyOf(fake.requests())).hasSize(2);
  }
}
