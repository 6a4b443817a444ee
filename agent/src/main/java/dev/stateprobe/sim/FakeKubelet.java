package dev.stateprobe.sim;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SelfSignedCertificate;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A kubelet's read API on {@code https://localhost:PORT} (bound to 127.0.0.1 only), for tests and
 * the demo mode. It serves
 *
 * <ul>
 *   <li>{@code GET /pods}: a kubelet-shaped {@code PodList} of the pods set here, in order;
 *   <li>{@code GET /runningpods/}: the simulated runtime, as the kubelet renders it (name,
 *       namespace, uid, and per running container its name and image), or 404 when switched off;
 *   <li>{@code POST /control/sandboxes/{uid}/stop}: the repair scripts' lever, see {@link
 *       #stopSandbox(String)};
 *   <li>{@code POST /control/restart}: the kubelet restarts, as its owner plays it, see {@link
 *       #onRestart(Callable)};
 * </ul>
 *
 * and answers 401 to any request without {@code Authorization: Bearer <the accepted token>},
 * control endpoints included. The certificate is self-signed for {@code localhost} and made at
 * {@link #start()}; clients trust it through {@link #caFile()}.
 *
 * <p>The runtime is kept apart from {@code /pods}: setting a pod puts its running containers (those
 * whose status says {@code running}) into the runtime; {@link #forgetPod(String)} drops a pod from
 * {@code /pods} but leaves its containers running, which is how an orphaned sandbox looks from
 * outside.
 *
 * <p>Thread-safe: tests change it from their own thread while the server answers on its event loop.
 * Requests are recorded (the last {@value #MAX_RECORDED}) for assertions.
 */
public final class FakeKubelet implements AutoCloseable {
  static final int MAX_RECORDED = 1000;
  private static final Pattern STOP_PATH = Pattern.compile("/control/sandboxes/([^/]+)/stop");
  private static final String RESTART_PATH = "/control/restart";
  private static final int GO_CHUNKING_THRESHOLD = 2048;
  private static final byte[] LIST_HEAD =
      "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":["
          .getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LIST_TAIL = "]}".getBytes(StandardCharsets.US_ASCII);
  private static final int OVERSIZE_CHUNK = 64 * 1024;

  /**
   * One request as it arrived: whether it carried a bearer token, and whether that was accepted.
   */
  public record RecordedRequest(
      String method, String path, boolean bearerPresent, boolean authorized) {}

  /**
   * How the last over-size reply ended.
   *
   * @param bytesWritten bytes handed to the connection before it ended
   * @param completed false when the client closed the connection before the end
   */
  public record OversizeOutcome(long bytesWritten, long bytesPlanned, boolean completed) {}

  /**
   * What {@link #stopSandbox(String)} did.
   *
   * @param stoppedContainers names of the containers that were running
   * @param removedFromPods whether the pod also left {@code /pods} (it was marked orphaned)
   */
  public record StopResult(String uid, List<String> stoppedContainers, boolean removedFromPods) {}

  private record Container(String name, String image) {}

  private record Sandbox(String uid, String namespace, String name, List<Container> containers) {}

  private record Pod(String uid, ObjectNode json, byte[] bytes) {}

  private static final class Injection {
    final String path;
    final KubeletFault fault;
    int remaining;

    Injection(String path, KubeletFault fault, int remaining) {
      this.path = path;
      this.fault = fault;
      this.remaining = remaining;
    }
  }

  private final Vertx vertx;
  private final ObjectMapper mapper = JsonMapper.builder().build();
  private final Object lock = new Object();
  private final Map<String, Pod> pods = new LinkedHashMap<>(); // guarded by lock
  private final Map<String, Sandbox> runtime = new LinkedHashMap<>(); // guarded by lock
  private final Set<String> orphaned = new HashSet<>(); // guarded by lock
  private final Deque<Injection> faults = new ArrayDeque<>(); // guarded by lock
  private final Deque<RecordedRequest> requests = new ArrayDeque<>(); // guarded by lock
  private String acceptedToken; // guarded by lock
  private boolean runningPodsServed = true; // guarded by lock
  private OversizeOutcome lastOversize; // guarded by lock
  private volatile Callable<String> restartHook;

  private SelfSignedCertificate certificate;
  private HttpServer server;
  private volatile int port = -1;

  /**
   * @param acceptedToken the bearer token accepted until {@link #acceptToken(String)}
   */
  public FakeKubelet(Vertx vertx, String acceptedToken) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.acceptedToken = requireToken(acceptedToken);
  }

  // ---- lifecycle ----

  /**
   * Makes the certificate and listens on 127.0.0.1 on a free port. Tests on a plain thread may
   * block on it with {@code start().await()}; never do that on an event loop.
   */
  public synchronized Future<FakeKubelet> start() {
    if (server != null) {
      return Future.failedFuture(new IllegalStateException("the fake kubelet is already started"));
    }
    certificate = SelfSignedCertificate.create("localhost");
    server =
        vertx.createHttpServer(
            new HttpServerOptions()
                .setSsl(true)
                .setKeyCertOptions(certificate.keyCertOptions())
                .setHost("127.0.0.1")
                .setPort(0));
    server.requestHandler(this::handle);
    return server
        .listen()
        .map(
            s -> {
              port = s.actualPort();
              return this;
            });
  }

  /** {@code https://localhost:PORT}: the name the certificate is made out to. */
  public URI url() {
    if (port < 0) {
      throw new IllegalStateException("the fake kubelet is not started");
    }
    return URI.create("https://localhost:" + port);
  }

  public int port() {
    return port;
  }

  /** The PEM certificate to trust (it is its own CA). */
  public Path caFile() {
    if (certificate == null) {
      throw new IllegalStateException("the fake kubelet is not started");
    }
    return Path.of(certificate.certificatePath());
  }

  /**
   * Closes the server and deletes the certificate files; waits for it unless on a Vert.x thread.
   */
  @Override
  public synchronized void close() {
    if (server == null) {
      return;
    }
    Future<Void> closed = server.close();
    if (!Context.isOnVertxThread()) {
      try {
        closed.await(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("the fake kubelet did not close within 10s", e);
      }
    }
    certificate.delete();
    server = null;
  }

  // ---- authentication ----

  /** From now on only this token is accepted (a rotation, as seen from the kubelet). */
  public void acceptToken(String token) {
    synchronized (lock) {
      acceptedToken = requireToken(token);
    }
  }

  private static String requireToken(String token) {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("the accepted token must not be blank");
    }
    return token;
  }

  // ---- pods and runtime ----

  /**
   * Replaces every pod and the whole runtime with the items of a PodList (a kubelet capture).
   *
   * @throws IllegalArgumentException when the bytes are no PodList or an item lacks uid or name
   */
  public void loadPodList(byte[] podListJson) {
    JsonNode list;
    try {
      list = mapper.readTree(podListJson);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("the pod list is not JSON: " + e.getOriginalMessage(), e);
    }
    if (!(list.get("items") instanceof ArrayNode items)) {
      throw new IllegalArgumentException("the pod list has no items array");
    }
    List<ObjectNode> parsed = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      if (!(items.get(i) instanceof ObjectNode pod)) {
        throw new IllegalArgumentException("item " + i + " of the pod list is not an object");
      }
      parsed.add(pod);
    }
    synchronized (lock) {
      pods.clear();
      runtime.clear();
      orphaned.clear();
      for (ObjectNode pod : parsed) {
        putLocked(pod);
      }
    }
  }

  /**
   * Adds a pod, or replaces the one with its UID in place; its running containers replace what the
   * runtime had for that UID.
   *
   * @throws IllegalArgumentException when it is not a JSON object with metadata.uid and name
   */
  public void putPod(String podJson) {
    JsonNode node;
    try {
      node = mapper.readTree(podJson);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("the pod is not JSON: " + e.getOriginalMessage(), e);
    }
    if (!(node instanceof ObjectNode pod)) {
      throw new IllegalArgumentException("the pod is not a JSON object");
    }
    synchronized (lock) {
      putLocked(pod);
    }
  }

  /** The pod with this UID as {@code /pods} serves it. */
  public Optional<String> pod(String uid) {
    synchronized (lock) {
      Pod p = pods.get(uid);
      return p == null
          ? Optional.empty()
          : Optional.of(new String(p.bytes(), StandardCharsets.UTF_8));
    }
  }

  /** The body {@code GET /pods} answers now (without faults). */
  public byte[] podsBody() {
    return render("/pods").getBytes();
  }

  /** UIDs listed by {@code /pods}, in order. */
  public List<String> podUids() {
    synchronized (lock) {
      return List.copyOf(pods.keySet());
    }
  }

  /** UIDs with running containers in the simulated runtime, in order. */
  public List<String> runningUids() {
    synchronized (lock) {
      return List.copyOf(runtime.keySet());
    }
  }

  /** Removes the pod from {@code /pods} and its containers from the runtime. */
  public boolean removePod(String uid) {
    synchronized (lock) {
      orphaned.remove(uid);
      boolean listed = pods.remove(uid) != null;
      return runtime.remove(uid) != null || listed;
    }
  }

  /** Removes the pod from {@code /pods} only: its containers keep running. */
  public boolean forgetPod(String uid) {
    synchronized (lock) {
      return pods.remove(uid) != null;
    }
  }

  /**
   * Marks a pod as one the API server no longer has, as the scenario decides (the fake does not
   * know the API server): stopping its sandbox then also drops it from {@code /pods}.
   */
  public void markOrphaned(String uid) {
    synchronized (lock) {
      orphaned.add(uid);
    }
  }

  /**
   * What {@code POST /control/restart} does. The fake knows no API server, so a kubelet restart
   * (which re-lists its pods from the API server and recreates missing mirror pods) is played by
   * whoever owns the simulated node. The hook may block (it may call the API server): it runs on a
   * worker thread, and its text becomes the reply's {@code detail}. Without a hook the endpoint
   * answers 501.
   */
  public void onRestart(Callable<String> hook) {
    restartHook = Objects.requireNonNull(hook, "hook");
  }

  /**
   * Switches {@code /runningpods/} on (the default) or off (404, as when the handler is disabled).
   */
  public void serveRunningPods(boolean served) {
    synchronized (lock) {
      runningPodsServed = served;
    }
  }

  /**
   * Stops the pod's sandbox: its containers leave the runtime; if the pod was marked orphaned it
   * also leaves {@code /pods}. Empty when the fake knows nothing of the UID.
   */
  public Optional<StopResult> stopSandbox(String uid) {
    synchronized (lock) {
      Sandbox sandbox = runtime.remove(uid);
      boolean listed = pods.containsKey(uid);
      if (sandbox == null && !listed) {
        return Optional.empty();
      }
      boolean removed = false;
      if (listed && orphaned.contains(uid)) {
        pods.remove(uid);
        removed = true;
      }
      orphaned.remove(uid);
      List<String> stopped =
          sandbox == null ? List.of() : sandbox.containers().stream().map(Container::name).toList();
      return Optional.of(new StopResult(uid, stopped, removed));
    }
  }

  private void putLocked(ObjectNode pod) {
    JsonNode meta = pod.path("metadata");
    String uid = meta.path("uid").asString("");
    String name = meta.path("name").asString("");
    if (uid.isEmpty() || name.isEmpty()) {
      throw new IllegalArgumentException(
          "pod '" + name + "' has no metadata.uid or metadata.name; both are required");
    }
    String namespace = meta.path("namespace").asString("default");
    pods.put(uid, new Pod(uid, pod, mapper.writeValueAsBytes(pod)));
    List<Container> running = runningContainers(pod);
    if (running.isEmpty()) {
      runtime.remove(uid);
    } else {
      runtime.put(uid, new Sandbox(uid, namespace, name, running));
    }
  }

  private static List<Container> runningContainers(ObjectNode pod) {
    Map<String, String> images = new LinkedHashMap<>();
    for (JsonNode c : pod.path("spec").path("containers")) {
      images.put(c.path("name").asString(""), c.path("image").asString(""));
    }
    List<Container> running = new ArrayList<>();
    for (JsonNode s : pod.path("status").path("containerStatuses")) {
      if (s.path("state").has("running")) {
        String name = s.path("name").asString("");
        running.add(new Container(name, images.getOrDefault(name, s.path("image").asString(""))));
      }
    }
    return running;
  }

  // ---- faults and observation ----

  /** The next reply to {@code /pods} or {@code /runningpods/} shows this fault. */
  public void inject(KubeletFault fault) {
    inject(null, fault, 1);
  }

  /** The next {@code times} replies to {@code /pods} or {@code /runningpods/} show this fault. */
  public void inject(KubeletFault fault, int times) {
    inject(null, fault, times);
  }

  /**
   * The next {@code times} replies to {@code path} ({@code /pods} or {@code /runningpods/}; null
   * for either) show this fault. Faults queue up in the order injected.
   */
  public void inject(String path, KubeletFault fault, int times) {
    Objects.requireNonNull(fault, "fault");
    if (times < 1) {
      throw new IllegalArgumentException("times must be at least 1, got " + times);
    }
    if (path != null && !path.equals("/pods") && !path.equals("/runningpods/")) {
      throw new IllegalArgumentException("faults apply to /pods or /runningpods/, not " + path);
    }
    synchronized (lock) {
      faults.add(new Injection(path, fault, times));
    }
  }

  public void clearFaults() {
    synchronized (lock) {
      faults.clear();
    }
  }

  /** Requests received so far (the last {@value #MAX_RECORDED}), oldest first. */
  public List<RecordedRequest> requests() {
    synchronized (lock) {
      return List.copyOf(requests);
    }
  }

  /** Requests received for this path. */
  public List<RecordedRequest> requests(String path) {
    return requests().stream().filter(r -> r.path().equals(path)).toList();
  }

  public void clearRequests() {
    synchronized (lock) {
      requests.clear();
    }
  }

  /** How the last over-size reply ended; empty until one has ended. */
  public Optional<OversizeOutcome> lastOversize() {
    synchronized (lock) {
      return Optional.ofNullable(lastOversize);
    }
  }

  /**
   * Forgets every fault, request and over-size outcome, accepts {@code token}, serves everything.
   */
  public void reset(String token) {
    synchronized (lock) {
      acceptedToken = requireToken(token);
      faults.clear();
      requests.clear();
      lastOversize = null;
      runningPodsServed = true;
    }
  }

  // ---- serving ----

  private void handle(HttpServerRequest req) {
    String path = req.path();
    String auth = req.getHeader(HttpHeaders.AUTHORIZATION);
    boolean bearer = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7);
    boolean authorized;
    synchronized (lock) {
      authorized = bearer && auth.substring(7).trim().equals(acceptedToken);
      requests.add(new RecordedRequest(req.method().name(), path, bearer, authorized));
      while (requests.size() > MAX_RECORDED) {
        requests.removeFirst();
      }
    }
    if (!authorized) {
      text(req.response(), 401, "Unauthorized");
      return;
    }
    Matcher stop = STOP_PATH.matcher(path);
    if (path.equals("/pods") || path.equals("/runningpods/")) {
      if (req.method() != HttpMethod.GET) {
        text(req.response(), 405, "Method Not Allowed");
        return;
      }
      serveData(req, path);
    } else if (stop.matches()) {
      if (req.method() != HttpMethod.POST) {
        text(req.response(), 405, "Method Not Allowed");
        return;
      }
      serveStop(req, stop.group(1));
    } else if (path.equals(RESTART_PATH)) {
      if (req.method() != HttpMethod.POST) {
        text(req.response(), 405, "Method Not Allowed");
        return;
      }
      serveRestart(req);
    } else {
      text(req.response(), 404, "404 page not found");
    }
  }

  private void serveData(HttpServerRequest req, String path) {
    KubeletFault fault;
    boolean served;
    synchronized (lock) {
      fault = takeFault(path);
      served = runningPodsServed;
    }
    HttpServerResponse resp = req.response();
    if (fault == null) {
      if (path.equals("/runningpods/") && !served) {
        text(resp, 404, "404 page not found");
      } else {
        json(resp, render(path));
      }
      return;
    }
    switch (fault) {
      case KubeletFault.Status s -> text(resp, s.code(), "injected fault: HTTP " + s.code());
      case KubeletFault.Garbage g ->
          json(resp, Buffer.buffer("<html>not JSON at all {\"kind\": \"PodList\", "));
      case KubeletFault.Body b -> json(resp, Buffer.buffer(b.bytes()));
      case KubeletFault.Delay d ->
          vertx.setTimer(
              Math.max(1, d.delay().toMillis()),
              id -> {
                if (!resp.closed()) {
                  json(resp, render(path));
                }
              });
      case KubeletFault.Trickle t -> trickle(resp, render(path), t);
      case KubeletFault.Oversize o -> oversize(resp, o);
      case KubeletFault.Truncated t -> truncated(req, resp, t);
      case KubeletFault.EchoHeaders e -> {
        StringBuilder echo = new StringBuilder("request headers:\n");
        req.headers()
            .forEach(h -> echo.append(h.getKey()).append(": ").append(h.getValue()).append('\n'));
        text(resp, e.code(), echo.toString());
      }
    }
  }

  private KubeletFault takeFault(String path) {
    for (Iterator<Injection> it = faults.iterator(); it.hasNext(); ) {
      Injection i = it.next();
      if (i.path == null || i.path.equals(path)) {
        if (--i.remaining == 0) {
          it.remove();
        }
        return i.fault;
      }
    }
    return null;
  }

  private Buffer render(String path) {
    synchronized (lock) {
      return path.equals("/pods") ? renderPods() : renderRunningPods();
    }
  }

  private Buffer renderPods() {
    int size = LIST_HEAD.length + LIST_TAIL.length + pods.size();
    for (Pod p : pods.values()) {
      size += p.bytes().length;
    }
    Buffer out = Buffer.buffer(size).appendBytes(LIST_HEAD);
    boolean first = true;
    for (Pod p : pods.values()) {
      if (!first) {
        out.appendByte((byte) ',');
      }
      first = false;
      out.appendBytes(p.bytes());
    }
    return out.appendBytes(LIST_TAIL);
  }

  /**
   * As the kubelet's {@code Pod.ToAPIPod()} renders a runtime pod: identity and containers only.
   */
  private Buffer renderRunningPods() {
    ObjectNode list = mapper.createObjectNode();
    list.put("kind", "PodList");
    list.put("apiVersion", "v1");
    list.putObject("metadata");
    ArrayNode items = list.putArray("items");
    for (Sandbox s : runtime.values()) {
      ObjectNode item = items.addObject();
      ObjectNode meta = item.putObject("metadata");
      meta.put("name", s.name());
      meta.put("namespace", s.namespace());
      meta.put("uid", s.uid());
      meta.putNull("creationTimestamp");
      ArrayNode containers = item.putObject("spec").putArray("containers");
      for (Container c : s.containers()) {
        ObjectNode container = containers.addObject();
        container.put("name", c.name());
        container.put("image", c.image());
        container.putObject("resources");
      }
      item.putObject("status");
    }
    return Buffer.buffer(mapper.writeValueAsBytes(list));
  }

  private void serveStop(HttpServerRequest req, String uid) {
    Optional<StopResult> result = stopSandbox(uid);
    if (result.isEmpty()) {
      ObjectNode body = mapper.createObjectNode();
      body.put("error", "no pod or sandbox with uid " + uid);
      req.response().setStatusCode(404);
      json(req.response(), Buffer.buffer(mapper.writeValueAsBytes(body)));
      return;
    }
    ObjectNode body = mapper.createObjectNode();
    body.put("uid", uid);
    ArrayNode stopped = body.putArray("stoppedContainers");
    result.get().stoppedContainers().forEach(stopped::add);
    body.put("removedFromPods", result.get().removedFromPods());
    json(req.response(), Buffer.buffer(mapper.writeValueAsBytes(body)));
  }

  private void serveRestart(HttpServerRequest req) {
    Callable<String> hook = restartHook;
    ObjectNode body = mapper.createObjectNode();
    if (hook == null) {
      body.put("error", "this simulated kubelet cannot restart: no restart hook is set");
      req.response().setStatusCode(501);
      json(req.response(), Buffer.buffer(mapper.writeValueAsBytes(body)));
      return;
    }
    vertx
        .executeBlocking(hook, false)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                body.put("restarted", true);
                body.put("detail", String.valueOf(ar.result()));
              } else {
                req.response().setStatusCode(500);
                body.put("error", "restart failed: " + ar.cause());
              }
              json(req.response(), Buffer.buffer(mapper.writeValueAsBytes(body)));
            });
  }

  private void trickle(HttpServerResponse resp, Buffer body, KubeletFault.Trickle t) {
    resp.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    resp.writeHead();
    int[] offset = {0};
    long every = Math.max(1, t.every().toMillis());
    long timer =
        vertx.setPeriodic(
            every,
            id -> {
              if (resp.closed() || resp.ended()) {
                vertx.cancelTimer(id);
                return;
              }
              int end = Math.min(body.length(), offset[0] + t.chunkBytes());
              resp.write(body.getBuffer(offset[0], end));
              offset[0] = end;
              if (end == body.length()) {
                vertx.cancelTimer(id);
                resp.end();
              }
            });
    resp.closeHandler(v -> vertx.cancelTimer(timer));
  }

  /**
   * Writes a valid, mostly blank PodList of exactly {@code o.bytes()}, one chunk at a time, the
   * next only once the last has reached the socket. {@code writeQueueFull()} cannot pace it: over
   * TLS it stays false while a single event-loop task queues any amount.
   */
  private void oversize(HttpServerResponse resp, KubeletFault.Oversize o) {
    resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (o.declareLength()) {
      resp.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(o.bytes()));
    } else {
      resp.setChunked(true);
    }
    byte[] blanks = new byte[OVERSIZE_CHUNK];
    java.util.Arrays.fill(blanks, (byte) ' ');
    Buffer blank = Buffer.buffer(blanks);
    long[] written = {0};
    boolean[] ended = {false};
    boolean[] recorded = {false};
    Runnable record =
        () -> {
          if (!recorded[0]) { // on the event loop: close, failure or end, whichever comes first
            recorded[0] = true;
            synchronized (lock) {
              lastOversize = new OversizeOutcome(written[0], o.bytes(), written[0] == o.bytes());
            }
          }
        };
    resp.closeHandler(v -> record.run());
    Runnable[] next = new Runnable[1];
    next[0] =
        () -> {
          if (resp.closed() || ended[0]) {
            return;
          }
          long left = o.bytes() - written[0];
          Buffer chunk;
          if (written[0] == 0) {
            chunk = Buffer.buffer(LIST_HEAD);
          } else if (left <= LIST_TAIL.length) {
            chunk = Buffer.buffer(LIST_TAIL); // the blanks stop exactly LIST_TAIL short
          } else {
            int n = (int) Math.min(OVERSIZE_CHUNK, left - LIST_TAIL.length);
            chunk = n == OVERSIZE_CHUNK ? blank : blank.getBuffer(0, n);
          }
          written[0] += chunk.length();
          if (written[0] == o.bytes()) {
            ended[0] = true;
            resp.end(chunk).onComplete(ar -> record.run());
            return;
          } else {
            resp.write(chunk).onSuccess(v -> next[0].run()).onFailure(t -> record.run());
          }
        };
    next[0].run();
  }

  /** Writes the first {@code t.cutAfter()} bytes in chunks, paced by the socket, then closes. */
  private void truncated(HttpServerRequest req, HttpServerResponse resp, KubeletFault.Truncated t) {
    resp.setChunked(true).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    Buffer body = Buffer.buffer(t.bytes());
    int[] offset = {0};
    Runnable[] next = new Runnable[1];
    next[0] =
        () -> {
          if (resp.closed()) {
            return;
          }
          if (offset[0] >= t.cutAfter()) {
            req.connection().close();
            return;
          }
          int end = Math.min(t.cutAfter(), offset[0] + OVERSIZE_CHUNK);
          Buffer chunk = body.getBuffer(offset[0], end);
          offset[0] = end;
          resp.write(chunk).onSuccess(v -> next[0].run());
        };
    next[0].run();
  }

  private static void text(HttpServerResponse resp, int status, String body) {
    resp.setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; charset=utf-8")
        .end(body);
  }

  /**
   * A body over 2 KB goes in chunks without a Content-Length, as a kubelet's does: Go's net/http
   * declares the length only of a reply that fits its first 2 KB buffer when the handler sets none,
   * and the kubelet's handlers set none.
   */
  private static void json(HttpServerResponse resp, Buffer body) {
    resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (body.length() > GO_CHUNKING_THRESHOLD) {
      resp.setChunked(true);
    }
    resp.end(body);
  }
}
