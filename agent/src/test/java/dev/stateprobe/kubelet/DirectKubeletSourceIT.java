package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.config.AgentConfig.KubeletSettings;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.metrics.FailureReason;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.sim.FakeKubelet;
import dev.stateprobe.sim.FakeKubelet.RecordedRequest;
import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.SelfSignedCertificate;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The direct source against a real HTTPS fake kubelet: one Vert.x and one fake for the class. */
class DirectKubeletSourceIT {
  private static final String TOKEN = "token-aaaa";
  private static final String NEW_TOKEN = "token-bbbb"; // same length: only content differs
  private static final byte[] CAPTURE = Fixtures.kubelet(Fixtures.K8S_1_35);

  private static Vertx vertx;
  private static FakeKubelet fake;

  @TempDir Path dir;
  private final TestClock clock = new TestClock(Instant.parse("2026-11-26T10:00:00Z"));
  private SimpleMeterRegistry registry;
  private Metrics metrics;
  private Path tokenFile;
  private DirectKubeletSource source;

  @BeforeAll
  static void startFake() {
    vertx = Vertx.vertx();
    fake = new FakeKubelet(vertx, TOKEN);
    fake.start().await();
  }

  @AfterAll
  static void stopFake() {
    fake.close();
    vertx.close().await();
  }

  @BeforeEach
  void setUp() throws Exception {
    fake.reset(TOKEN);
    fake.loadPodList(CAPTURE);
    registry = new SimpleMeterRegistry();
    metrics = new Metrics(registry, "test", clock::millis);
    tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");
  }

  @AfterEach
  void tearDown() {
    if (source != null) {
      source.close();
    }
    metrics.close();
  }

  private KubeletSettings settings(UnaryOperator<Settings> change) {
    return change
        .apply(
            new Settings(
                fake.url(),
                tokenFile,
                Optional.of(fake.caFile()),
                false,
                // Generous: the first TLS handshake of a cold JVM on a loaded 2-core machine took >
                // 2 s.
                Duration.ofSeconds(10),
                Duration.ofSeconds(15),
                64L * 1024 * 1024))
        .toKubelet();
  }

  /** The few settings the tests vary. */
  private record Settings(
      URI url,
      Path token,
      Optional<Path> ca,
      boolean insecure,
      Duration connect,
      Duration request,
      long maxBody) {
    Settings maxBody(long bytes) {
      return new Settings(url, token, ca, insecure, connect, request, bytes);
    }

    Settings request(Duration timeout) {
      return new Settings(url, token, ca, insecure, connect, timeout, maxBody);
    }

    Settings ca(Optional<Path> file, boolean skipVerify) {
      return new Settings(url, token, file, skipVerify, connect, request, maxBody);
    }

    Settings connect(Duration timeout) {
      return new Settings(url, token, ca, insecure, timeout, request, maxBody);
    }

    Settings url(URI to) {
      return new Settings(to, token, ca, insecure, connect, request, maxBody);
    }

    KubeletSettings toKubelet() {
      return new KubeletSettings(
          url, token, ca, insecure, false, connect, request, maxBody, Duration.ofMinutes(5));
    }
  }

  private DirectKubeletSource source(KubeletSettings settings) {
    source = new DirectKubeletSource(vertx, settings, new PodJsonDecoder(), metrics, clock);
    return source;
  }

  private DirectKubeletSource source() {
    return source(settings(s -> s));
  }

  private static <T> T result(Future<T> f) throws Exception {
    return f.await(20, TimeUnit.SECONDS);
  }

  /** The reason a poll failed with; fails the test if it succeeded. */
  private static KubeletException failure(Future<?> f) throws Exception {
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

  private double totalFailures() {
    return registry.get("stateprobe.kubelet.poll.failures").counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  private long polls(String endpoint) {
    return registry
        .get("stateprobe.kubelet.poll.duration")
        .tags("endpoint", endpoint)
        .timer()
        .count();
  }

  // ---- hostile input ----

  private static final String UID_A = "0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11";

  private static byte[] runningPods(String... namesAndUids) {
    StringBuilder items = new StringBuilder();
    for (int i = 0; i < namesAndUids.length; i += 2) {
      items
          .append(i == 0 ? "" : ",")
          .append("{\"metadata\":{\"name\":\"")
          .append(namesAndUids[i])
          .append("\",\"namespace\":\"default\",\"uid\":\"")
          .append(namesAndUids[i + 1])
          .append("\"},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    }
    return ("{\"kind\":\"PodList\",\"items\":[" + items + "]}").getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aRunningPodsListWithAUidTwiceIsMalformed() throws Exception {
    fake.inject("/runningpods/", KubeletFault.body(runningPods("a", UID_A, "b", UID_A)), 1);

    KubeletException e = failure(source().pollRunningPods());

    assertThat(e.reason()).isEqualTo(FailureReason.DECODE);
    assertThat(e).hasMessageContaining("items 0 and 1 have the same metadata.uid " + UID_A);
    assertThat(failures("runningpods", FailureReason.DECODE)).isEqualTo(1);
  }

  @Test
  void aRunningPodWithAnInvalidNameIsCountedAndRefusesTheReply() throws Exception {
    fake.inject(
        "/runningpods/", KubeletFault.body(runningPods("ok-0", UID_A, "x\\r\\nevent=y", "u")), 1);

    KubeletException e = failure(source().pollRunningPods());

    assertThat(e.reason()).isEqualTo(FailureReason.DECODE);
    assertThat(e).hasMessageContaining("item 1: metadata.uid \"u\" is not a valid Kubernetes UID");
    assertThat(
            registry
                .get("stateprobe.kubelet.invalid.pods")
                .tags("endpoint", "runningpods", "field", "uid")
                .counter()
                .count())
        .isEqualTo(1);
  }

  @Test
  void anErrorBodyThatEchoesTheRequestHeadersIsRedactedOfTheToken() throws Exception {
    fake.inject("/pods", new KubeletFault.EchoHeaders(500), 1);

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.HTTP_5XX);
    assertThat(e).hasMessageContaining("Bearer [REDACTED]").hasMessageNotContaining(TOKEN);
  }

  @Test
  void aReplyTheHeapBudgetCannotHoldIsTooLargeEvenUnderTheLimit() throws Exception {
    source =
        new DirectKubeletSource(
            vertx,
            settings(s -> s),
            new PodJsonDecoder(),
            metrics,
            clock,
            null,
            new BodyBudget(64 * 1024));
    fake.inject("/pods", KubeletFault.oversize(1_000_000, false), 1);

    KubeletException e = failure(source.pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
    assertThat(e).hasMessageContaining("more than the agent's heap can hold");
  }

  @Test
  void aTokenFileOfTwoLinesFailsAtOnceAsTokenNeverAsATimeout() throws Exception {
    Files.writeString(tokenFile, TOKEN + "\nsecond-line\n");

    KubeletException e =
        failure(source(settings(s -> s.request(Duration.ofMinutes(5)))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TOKEN);
    assertThat(e).hasMessageContaining(tokenFile.toString()).hasMessageNotContaining(TOKEN);
    assertThat(fake.requests()).isEmpty();
  }

  @Test
  void aPlainHttpKubeletIsAnnouncedLoudlyAtStartUp() throws Exception {
    java.io.PrintStream original = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    // slf4j-simple looks System.err up for every line (simplelogger.properties).
    System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      source(settings(s -> s.url(URI.create("http://127.0.0.1:1")).ca(Optional.empty(), false)));
    } finally {
      System.setErr(original);
    }
    assertThat(captured.toString(StandardCharsets.UTF_8))
        .contains("WARN event=insecure_kubelet_http KUBELET_ALLOW_INSECURE_HTTP=true")
        .contains("http://127.0.0.1:1");
    assertThat(source.describe()).contains("PLAIN HTTP, NOT ENCRYPTED");
  }

  // ---- /pods ----

  @Test
  void theK8s135CaptureGives24RecordsKeyedByUid() throws Exception {
    KubeletView view = result(source().pollPods());

    assertThat(view.size()).isEqualTo(24);
    assertThat(view.podsByUid().get("eaf7d48161d81d9c3359e1c008571fd6").name())
        .isEqualTo("etcd-datagen-1-35");
    assertThat(view.observedAt()).isEqualTo(clock.instant());
    assertThat(fake.requests()).containsExactly(new RecordedRequest("GET", "/pods", true, true));
    assertThat(polls("pods")).isEqualTo(1);
    assertThat(totalFailures()).isZero();
    var size = registry.get("stateprobe.kubelet.response.size").summary();
    assertThat(size.count()).isEqualTo(1);
    assertThat(size.totalAmount()).isEqualTo(fake.podsBody().length);
  }

  @Test
  void anUnchangedReplyGivesTheSameRecordsAtTheNewTimeAndAChangedOneIsDecoded() throws Exception {
    DirectKubeletSource s = source();
    KubeletView first = result(s.pollPods());
    clock.advance(Duration.ofSeconds(5));

    KubeletView same = result(s.pollPods());

    assertThat(same.podsByUid()).isSameAs(first.podsByUid());
    assertThat(same.observedAt()).isEqualTo(clock.instant());

    String uid = "eaf7d48161d81d9c3359e1c008571fd6";
    String changed = fake.pod(uid).orElseThrow().replace("\"etcd\"", "\"etcd-renamed\"");
    fake.putPod(changed);
    clock.advance(Duration.ofSeconds(5));

    KubeletView next = result(s.pollPods());

    assertThat(next.podsByUid()).isNotSameAs(first.podsByUid());
    assertThat(next.size()).isEqualTo(24);
    assertThat(next.podsByUid().get(uid).specHash())
        .isNotEqualTo(first.podsByUid().get(uid).specHash());
    assertThat(fake.requests("/pods")).hasSize(3);
    assertThat(polls("pods")).isEqualTo(3);
  }

  @Test
  void aShorterReplyInAnArraySizedForTheLastOneDecodesToExactlyItsOwnPods() throws Exception {
    DirectKubeletSource s = source();
    result(s.pollPods()); // sizes the next reply's array: longer than that reply
    String uid = "eaf7d48161d81d9c3359e1c008571fd6";
    assertThat(fake.removePod(uid)).isTrue();
    clock.advance(Duration.ofSeconds(5));

    KubeletView shorter = result(s.pollPods());
    KubeletView fresh = result(source().pollPods());

    assertThat(shorter.size()).isEqualTo(23);
    assertThat(shorter.podsByUid()).doesNotContainKey(uid).isEqualTo(fresh.podsByUid());
  }

  @Test
  void aUidListedTwiceMakesTheListMalformedNotTheLaterCopyWins() throws Exception {
    String pod =
        "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\""
            + UID_A
            + "\"},\"status\":{\"phase\":\"%s\"}}";
    String list =
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":["
            + pod.formatted("first", "Pending")
            + ","
            + pod.formatted("second", "Running")
            + "]}";
    fake.inject(KubeletFault.body(list.getBytes(StandardCharsets.UTF_8)));

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.DECODE);
    assertThat(e).hasMessageContaining("items 0 and 1 have the same metadata.uid " + UID_A);
    assertThat(failures("pods", FailureReason.DECODE)).isEqualTo(1);
  }

  @Test
  void aServerErrorIsHttp5xxAndCounted() throws Exception {
    fake.inject(KubeletFault.status(500));

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.HTTP_5XX);
    assertThat(e.getMessage()).contains("HTTP 500").contains("injected fault");
    assertThat(failures("pods", FailureReason.HTTP_5XX)).isEqualTo(1);
    assertThat(totalFailures()).isEqualTo(1);
    assertThat(polls("pods")).isEqualTo(1);
  }

  @Test
  void forbiddenNotFoundAndOther4xxKeepTheirReason() throws Exception {
    source();
    fake.inject(KubeletFault.status(403));
    fake.inject(KubeletFault.status(404));
    fake.inject(KubeletFault.status(429));

    assertThat(failure(source.pollPods()).reason()).isEqualTo(FailureReason.HTTP_403);
    assertThat(failure(source.pollPods()).reason()).isEqualTo(FailureReason.HTTP_404);
    assertThat(failure(source.pollPods()).reason()).isEqualTo(FailureReason.HTTP_4XX);
    assertThat(failures("pods", FailureReason.HTTP_403)).isEqualTo(1);
    assertThat(failures("pods", FailureReason.HTTP_404)).isEqualTo(1);
    assertThat(failures("pods", FailureReason.HTTP_4XX)).isEqualTo(1);
  }

  @Test
  void aBodyThatIsNotJsonIsADecodeFailureThatSaysWhere() throws Exception {
    fake.inject(KubeletFault.garbage());

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.DECODE);
    assertThat(e.getMessage())
        .startsWith("GET /pods from " + fake.url())
        .contains("line 1, column");
    assertThat(failures("pods", FailureReason.DECODE)).isEqualTo(1);
  }

  // ---- size limit ----

  @Test
  void aBodyOfExactlyTheLimitIsRead() throws Exception {
    int length = fake.podsBody().length;

    KubeletView view = result(source(settings(s -> s.maxBody(length))).pollPods());

    assertThat(view.size()).isEqualTo(24);
  }

  @Test
  void aBodyOneByteOverTheLimitIsRefused() throws Exception {
    int length = fake.podsBody().length;

    KubeletException e = failure(source(settings(s -> s.maxBody(length - 1))).pollPods());

    // Chunked without a length, as a kubelet sends it: cut while it arrives.
    assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
    assertThat(e.getMessage()).contains("passed the limit of " + (length - 1) + " bytes");
    assertThat(failures("pods", FailureReason.TOO_LARGE)).isEqualTo(1);
  }

  @Test
  void aChunkedBodyPastTheLimitIsCutWhileItArrives() throws Exception {
    long planned = 256L * 1024 * 1024;
    fake.inject(KubeletFault.oversize(planned, false));

    KubeletException e = failure(source(settings(s -> s.maxBody(64 * 1024))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
    assertThat(e.getMessage())
        .contains("passed the limit of 65536 bytes")
        .contains("connection closed");
    // The fake writes as fast as the client reads: had the client buffered first, all 256 MiB
    // would have gone out. Loopback socket buffers hold a few MiB at most.
    await().atMost(Duration.ofSeconds(10)).until(() -> fake.lastOversize().isPresent());
    FakeKubelet.OversizeOutcome outcome = fake.lastOversize().orElseThrow();
    assertThat(outcome.completed()).isFalse();
    assertThat(outcome.bytesWritten()).isLessThan(32L * 1024 * 1024);
    assertThat(failures("pods", FailureReason.TOO_LARGE)).isEqualTo(1);
  }

  @Test
  void aDeclaredOverSizeIsRefusedBeforeTheBody() throws Exception {
    fake.inject(KubeletFault.oversize(256L * 1024 * 1024, true));

    KubeletException e = failure(source(settings(s -> s.maxBody(64 * 1024))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
    assertThat(e.getMessage()).contains("declares 268435456 bytes");
    await().atMost(Duration.ofSeconds(10)).until(() -> fake.lastOversize().isPresent());
    assertThat(fake.lastOversize().orElseThrow().completed()).isFalse();
  }

  @Test
  void theConnectionIsUsableAgainAfterAnAbortedReply() throws Exception {
    source(settings(s -> s.maxBody(1024 * 1024)));
    fake.inject(KubeletFault.oversize(64L * 1024 * 1024, false));
    assertThat(failure(source.pollPods()).reason()).isEqualTo(FailureReason.TOO_LARGE);

    assertThat(result(source.pollPods()).size()).isEqualTo(24);
  }

  // ---- time ----

  @Test
  void aTricklingReplyEndsAtTheRequestTimeout() throws Exception {
    fake.inject(KubeletFault.trickle(16, Duration.ofMillis(20)));
    DirectKubeletSource s = source(settings(x -> x.request(Duration.ofMillis(700))));

    long start = System.nanoTime();
    KubeletException e = failure(s.pollPods());
    long tookMillis = (System.nanoTime() - start) / 1_000_000;

    assertThat(e.reason()).isEqualTo(FailureReason.TIMEOUT);
    assertThat(e.getMessage()).contains("no complete reply within PT0.7S");
    assertThat(tookMillis).isBetween(650L, 3000L);
    assertThat(failures("pods", FailureReason.TIMEOUT)).isEqualTo(1);
    var timer = registry.get("stateprobe.kubelet.poll.duration").tags("endpoint", "pods").timer();
    assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).isCloseTo(700, within(400.0));
  }

  @Test
  void aReplyThatNeverStartsEndsAtTheRequestTimeout() throws Exception {
    fake.inject(KubeletFault.delay(Duration.ofSeconds(30)));

    KubeletException e =
        failure(source(settings(x -> x.request(Duration.ofMillis(500)))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TIMEOUT);
  }

  // ---- transport ----

  @Test
  void aCertificateFromAnotherCaIsATlsFailure() throws Exception {
    SelfSignedCertificate other = SelfSignedCertificate.create("localhost");
    try {
      Path otherCa = Path.of(other.certificatePath());

      KubeletException e =
          failure(source(settings(s -> s.ca(Optional.of(otherCa), false))).pollPods());

      assertThat(e.reason()).isEqualTo(FailureReason.TLS);
      assertThat(failures("pods", FailureReason.TLS)).isEqualTo(1);
      assertThat(fake.requests()).isEmpty();
    } finally {
      other.delete();
    }
  }

  @Test
  void anUnreadableCaFileIsRefusedAtConstructionNamingIt() {
    Path missing = dir.resolve("no-ca.pem");

    assertThatThrownBy(() -> source(settings(s -> s.ca(Optional.of(missing), false))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("KUBELET_CA_FILE " + missing + " is not a readable file");
  }

  @Test
  void skippingVerificationReadsFromAnUntrustedKubelet() throws Exception {
    KubeletView view = result(source(settings(s -> s.ca(Optional.empty(), true))).pollPods());

    assertThat(view.size()).isEqualTo(24);
    assertThat(source.describe()).contains("TLS NOT VERIFIED");
  }

  @Test
  void aRefusedConnectionIsAConnectFailure() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    URI nowhere = URI.create("https://localhost:" + closedPort);

    KubeletException e = failure(source(settings(s -> s.url(nowhere))).pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.CONNECT);
    assertThat(e.getMessage()).startsWith("GET /pods from " + nowhere);
    assertThat(failures("pods", FailureReason.CONNECT)).isEqualTo(1);
  }

  @Test
  void aKubeletThatNeverFinishesTheHandshakeIsAConnectFailureAtTheConnectTimeout()
      throws Exception {
    try (ServerSocket silent = new ServerSocket(0)) { // the kernel accepts; nobody answers
      URI mute = URI.create("https://localhost:" + silent.getLocalPort());

      long start = System.nanoTime();
      KubeletException e =
          failure(source(settings(s -> s.url(mute).connect(Duration.ofMillis(500)))).pollPods());
      long tookMillis = (System.nanoTime() - start) / 1_000_000;

      assertThat(e.reason()).isEqualTo(FailureReason.CONNECT);
      assertThat(e.getMessage()).contains("no connection within PT0.5S");
      assertThat(tookMillis).isBetween(450L, 5000L);
      assertThat(failures("pods", FailureReason.CONNECT)).isEqualTo(1);
    }
  }

  // ---- token ----

  @Test
  void aMissingTokenFileIsATokenFailureAndNothingIsSent() throws Exception {
    Files.delete(tokenFile);

    KubeletException e = failure(source().pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.TOKEN);
    assertThat(fake.requests()).isEmpty();
    assertThat(failures("pods", FailureReason.TOKEN)).isEqualTo(1);
  }

  @Test
  void aRotationTheFileStampCannotSeeIsCaughtByOneRetryAfter401() throws Exception {
    source();
    result(source.pollPods());
    FileTime before = Files.getLastModifiedTime(tokenFile);
    fake.acceptToken(NEW_TOKEN);
    Files.writeString(tokenFile, NEW_TOKEN + "\n"); // same size, and the same time:
    Files.setLastModifiedTime(tokenFile, before); // the stamp check cannot see it
    fake.clearRequests();

    KubeletView view = result(source.pollPods());

    assertThat(view.size()).isEqualTo(24);
    assertThat(fake.requests())
        .containsExactly(
            new RecordedRequest("GET", "/pods", true, false),
            new RecordedRequest("GET", "/pods", true, true));
    assertThat(source.tokens().reads()).isEqualTo(2);
    assertThat(failures("pods", FailureReason.HTTP_401)).isZero(); // recovered: not a failure
  }

  @Test
  void aSwappedTokenSymlinkIsUsedWithoutA401() throws Exception {
    tokenFile = projectedToken("v1", TOKEN);
    source();
    result(source.pollPods());
    fake.acceptToken(NEW_TOKEN);
    projectedToken("v2", NEW_TOKEN);
    fake.clearRequests();

    result(source.pollPods());

    assertThat(fake.requests()).containsExactly(new RecordedRequest("GET", "/pods", true, true));
    assertThat(source.tokens().reads()).isEqualTo(2);
  }

  @Test
  void a401WithAnUnchangedFileFailsAfterOneRetryAndRecoversWhenTheFileCatchesUp() throws Exception {
    tokenFile = projectedToken("v1", TOKEN);
    source();
    result(source.pollPods());
    fake.acceptToken(NEW_TOKEN); // the kubelet moved on, the file has not yet
    fake.clearRequests();

    KubeletException e = failure(source.pollPods());

    assertThat(e.reason()).isEqualTo(FailureReason.HTTP_401);
    assertThat(e.getMessage()).contains("HTTP 401").doesNotContain(TOKEN).doesNotContain(NEW_TOKEN);
    assertThat(fake.requests())
        .containsExactly(
            new RecordedRequest("GET", "/pods", true, false),
            new RecordedRequest("GET", "/pods", true, false));
    assertThat(failures("pods", FailureReason.HTTP_401)).isEqualTo(1);

    projectedToken("v2", NEW_TOKEN);
    assertThat(result(source.pollPods()).size()).isEqualTo(24);
    assertThat(failures("pods", FailureReason.HTTP_401)).isEqualTo(1);
  }

  /** token -> ..data/token, ..data -> ..VERSION, swapped atomically as the kubelet does. */
  private Path projectedToken(String version, String token) throws Exception {
    Path versionDir = Files.createDirectories(dir.resolve(".." + version));
    Files.writeString(versionDir.resolve("token"), token);
    Path tmp = dir.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, versionDir.getFileName());
    Files.move(
        tmp,
        dir.resolve("..data"),
        StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    Path link = dir.resolve("projected-token");
    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.createSymbolicLink(link, Path.of("..data", "token"));
    }
    return link;
  }

  // ---- /runningpods/ ----

  @Test
  void runningPodsListTheRuntimeWithItsRunningContainers() throws Exception {
    Optional<RuntimeView> view = result(source().pollRunningPods());

    assertThat(view).isPresent();
    // 24 pods: 4 Failed and 2 Succeeded job pods and one whose container terminated run nothing.
    assertThat(view.get().size()).isEqualTo(17);
    assertThat(view.get().podsByUid().keySet())
        .containsExactlyInAnyOrderElementsOf(fake.runningUids());
    assertThat(view.get().observedAt()).isEqualTo(clock.instant());
    RuntimePod etcd = view.get().podsByUid().get("eaf7d48161d81d9c3359e1c008571fd6");
    assertThat(etcd.ref().namespace()).isEqualTo("kube-system");
    assertThat(etcd.runningContainers()).containsExactly("etcd");
    assertThat(source.runtimeAvailable()).isTrue();
    assertThat(registry.get("stateprobe.runtime.view.available").gauge().value()).isEqualTo(1.0);
    assertThat(polls("runningpods")).isEqualTo(1);
  }

  @Test
  void a404RuntimeViewIsEmptyAndAskedAgainOnlyAfterTheReprobeInterval() throws Exception {
    fake.serveRunningPods(false);
    source();

    assertThat(result(source.pollRunningPods())).isEmpty();
    assertThat(source.runtimeAvailable()).isFalse();
    assertThat(registry.get("stateprobe.runtime.view.available").gauge().value()).isEqualTo(0.0);
    assertThat(failures("runningpods", FailureReason.HTTP_404)).isEqualTo(1);

    clock.advance(Duration.ofMinutes(5).minusSeconds(1));
    assertThat(result(source.pollRunningPods())).isEmpty();
    assertThat(result(source.pollRunningPods())).isEmpty();
    assertThat(fake.requests("/runningpods/")).hasSize(1);
    assertThat(polls("runningpods")).isEqualTo(1);

    clock.advance(Duration.ofSeconds(1));
    assertThat(result(source.pollRunningPods())).isEmpty();
    assertThat(fake.requests("/runningpods/")).hasSize(2);

    fake.serveRunningPods(true);
    clock.advance(Duration.ofMinutes(5));
    assertThat(result(source.pollRunningPods())).isPresent();
    assertThat(source.runtimeAvailable()).isTrue();
    assertThat(registry.get("stateprobe.runtime.view.available").gauge().value()).isEqualTo(1.0);
    assertThat(fake.requests("/runningpods/")).hasSize(3);
    assertThat(result(source.pollRunningPods())).isPresent();
    assertThat(fake.requests("/runningpods/")).hasSize(4);
  }

  @Test
  void a403RuntimeViewIsUnavailableToo() throws Exception {
    fake.inject("/runningpods/", KubeletFault.status(403), 1);

    assertThat(result(source().pollRunningPods())).isEmpty();
    assertThat(source.runtimeAvailable()).isFalse();
    assertThat(failures("runningpods", FailureReason.HTTP_403)).isEqualTo(1);
  }

  @Test
  void otherRuntimeFailuresFailThePollAndKeepItAvailable() throws Exception {
    fake.inject("/runningpods/", KubeletFault.status(503), 1);

    KubeletException e = failure(source().pollRunningPods());

    assertThat(e.reason()).isEqualTo(FailureReason.HTTP_5XX);
    assertThat(source.runtimeAvailable()).isTrue();
    assertThat(failures("runningpods", FailureReason.HTTP_5XX)).isEqualTo(1);
    assertThat(result(source.pollRunningPods())).isPresent();
  }

  @Test
  void podsAndRunningPodsCanBePolledTogether() throws Exception {
    source();
    List<Future<?>> all = List.of(source.pollPods(), source.pollRunningPods(), source.pollPods());

    for (Future<?> f : all) {
      result(f);
    }
    assertThat(fake.requests()).hasSize(3);
    assertThat(totalFailures()).isZero();
  }
}
