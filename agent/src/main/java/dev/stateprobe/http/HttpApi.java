package dev.stateprobe.http;

import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.report.Reports;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimeView;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Serves the agent's endpoints from the agent's last published cycle.
 *
 * <p>Bounded against its clients, so none can exhaust the agent's memory or starve {@code /healthz}
 * (README, Security): HTTP/1.1 only (HTTP/2 would multiplex many requests on one connection), short
 * request lines and headers, idle connections closed, at most {@link #MAX_CONNECTIONS} at once and
 * {@link #MAX_CONNECTIONS_PER_ADDRESS} from one address, one reply per connection built only once
 * the previous one has been taken by the client (a client that pipelines requests and reads nothing
 * gets no more replies built), and the {@code /metrics} scrape reused for {@link #SCRAPE_REUSE}.
 */
public final class HttpApi implements AutoCloseable {
  private static final String JSON = "application/json";
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  /**
   * Connections open at once; one more is closed as soon as it is accepted. Prometheus and the
   * kubelet's probes need a handful.
   */
  public static final int MAX_CONNECTIONS = 128;

  /**
   * Connections open at once from one client address, so one client cannot take all of {@link
   * #MAX_CONNECTIONS} and lock out the kubelet's probes and Prometheus.
   */
  public static final int MAX_CONNECTIONS_PER_ADDRESS = 32;

  /** A connection with no traffic either way for this long is closed. */
  public static final Duration IDLE_TIMEOUT = Duration.ofSeconds(30);

  /** How long one {@code /metrics} scrape is served again, so a flood costs one scrape a second. */
  public static final Duration SCRAPE_REUSE = Duration.ofSeconds(1);

  /** Bytes of a request line and of all headers; the agent's requests need a few hundred. */
  static final int MAX_REQUEST_LINE = 4096;

  static final int MAX_HEADERS = 8192;

  private final Vertx vertx;
  private final String node;
  private final AgentState agent;
  private final PrometheusMeterRegistry registry;
  private final Reports reports;
  private final Clock clock;
  private final Duration stallAfter;
  private volatile HttpServer server;
  private volatile Instant startedAt;
  private final AtomicInteger connections = new AtomicInteger();
  private final ConcurrentHashMap<String, Integer> perAddress = new ConcurrentHashMap<>();
  private final AtomicReference<Scrape> lastScrape = new AtomicReference<>();

  private record Scrape(long atNanos, String body) {}

  /**
   * @param stallAfter {@code /healthz} fails when no cycle finished for this long: a wedged loop is
   *     restarted by the kubelet instead of silently watching nothing
   */
  public HttpApi(
      Vertx vertx,
      String node,
      AgentState agent,
      PrometheusMeterRegistry registry,
      Reports reports,
      Clock clock,
      Duration stallAfter) {
    this.vertx = vertx;
    this.node = node;
    this.agent = agent;
    this.registry = registry;
    this.reports = reports;
    this.clock = clock;
    this.stallAfter = stallAfter;
  }

  /** Listens on all interfaces; port 0 picks a free one (see {@link #port()}). */
  public Future<HttpServer> start(int port) {
    startedAt = clock.instant();
    return vertx
        .createHttpServer(options())
        .connectionHandler(this::admit)
        .requestHandler(this::handle)
        .listen(port, "0.0.0.0")
        .onSuccess(s -> server = s);
  }

  public int port() {
    HttpServer s = server;
    if (s == null) {
      throw new IllegalStateException("the HTTP server is not listening");
    }
    return s.actualPort();
  }

  static HttpServerOptions options() {
    return new HttpServerOptions()
        .setHttp2ClearTextEnabled(false)
        .setIdleTimeout((int) IDLE_TIMEOUT.toSeconds())
        .setIdleTimeoutUnit(TimeUnit.SECONDS)
        .setMaxInitialLineLength(MAX_REQUEST_LINE)
        .setMaxHeaderSize(MAX_HEADERS)
        .setCompressionSupported(false)
        .setDecompressionSupported(false);
  }

  /** Connections open now (for tests and diagnostics). */
  public int connections() {
    return connections.get();
  }

  private void admit(HttpConnection conn) {
    String address = conn.remoteAddress() == null ? "" : conn.remoteAddress().hostAddress();
    int total = connections.incrementAndGet();
    int fromAddress = perAddress.merge(address, 1, Integer::sum);
    if (total > MAX_CONNECTIONS || fromAddress > MAX_CONNECTIONS_PER_ADDRESS) {
      release(address);
      conn.close();
      return;
    }
    conn.closeHandler(v -> release(address));
  }

  private void release(String address) {
    connections.decrementAndGet();
    perAddress.computeIfPresent(address, (k, n) -> n <= 1 ? null : n - 1);
  }

  /**
   * Builds no reply while the connection still holds an earlier one the client has not read: Vert.x
   * hands a pipelined request over only once the previous reply ended, so waiting for the drain
   * holds every later request of that connection too.
   */
  private void handle(HttpServerRequest req) {
    HttpServerResponse response = req.response();
    if (response.writeQueueFull()) {
      response.drainHandler(v -> route(req));
      return;
    }
    route(req);
  }

  private void route(HttpServerRequest req) {
    if (req.response().ended() || req.response().closed()) {
      return;
    }
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      req.response().setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
      return;
    }
    switch (req.path()) {
      case "/metrics" -> send(req, 200, PROMETHEUS, scrape());
      case "/healthz" -> healthz(req);
      case "/readyz" -> readyz(req);
      case "/v1/drifts" -> drifts(req);
      case "/v1/views" -> views(req);
      default ->
          send(req, 404, JSON, reports.object(Map.of("error", "not found", "path", req.path())));
    }
  }

  /**
   * The scrape, reused for {@link #SCRAPE_REUSE} of real time: the bound is on the CPU a flood
   * costs, so it is measured on the monotonic clock, not on the injected one (which tests may hold
   * still).
   */
  private String scrape() {
    long now = System.nanoTime();
    Scrape s = lastScrape.get();
    if (s == null || now - s.atNanos() >= SCRAPE_REUSE.toNanos()) {
      s = new Scrape(now, registry.scrape());
      lastScrape.set(s);
    }
    return s.body();
  }

  private void healthz(HttpServerRequest req) {
    CycleResult last = agent.last();
    Instant now = clock.instant();
    // A loop that never finished a cycle is as wedged as one that stopped.
    Instant lastAt = last != null ? last.snapshot().now() : startedAt;
    if (lastAt != null && Duration.between(lastAt, now).compareTo(stallAfter) > 0) {
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("status", "stalled");
      body.put("lastCycleAt", last == null ? null : lastAt);
      body.put("cycle", last == null ? 0L : last.cycle());
      send(req, 503, JSON, reports.object(body));
      return;
    }
    send(req, 200, "text/plain; charset=utf-8", "ok\n");
  }

  /**
   * Ready once the informer has synced and a kubelet poll has succeeded (the contract). A
   * later failed poll does not make the agent unready: it makes its cycles untrusted, which the
   * body, {@code stateprobe_trusted} and the untrusted-cycle counter say; an agent that flapped
   * NotReady with every slow poll would stall DaemonSet roll-outs and say nothing more.
   */
  private void readyz(HttpServerRequest req) {
    ControlPlaneView api = agent.controlPlane().snapshot(clock.instant());
    CycleResult last = agent.last();
    boolean synced = api.synced();
    boolean polled = agent.kubeletEverOk();
    boolean ready = synced && polled;
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ready", ready);
    if (!synced) {
      body.put("reason", "pod informer has not synced");
    } else if (!polled) {
      body.put(
          "reason", last == null ? "no kubelet poll yet" : "no kubelet poll has succeeded yet");
    }
    body.put("informerSynced", synced);
    body.put("kubeletPolled", polled);
    body.put("kubeletPollOk", last != null && last.snapshot().lastKubeletPollOk());
    body.put("kubeletSource", agent.kubelet().describe());
    body.put("runtimeViewAvailable", agent.kubelet().runtimeAvailable());
    body.put("trusted", last != null && last.trusted());
    if (last != null && !last.trusted()) {
      body.put("untrustedReasons", last.trust().reasons());
    }
    if (last != null) {
      last.kubeletError().ifPresent(e -> body.put("kubeletError", e));
    }
    send(req, ready ? 200 : 503, JSON, reports.object(body));
  }

  private void drifts(HttpServerRequest req) {
    CycleResult last = agent.last();
    String body =
        last == null
            ? reports.drifts(node, false, null, List.of())
            : reports.drifts(
                node, last.trusted(), last.snapshot().now(), last.drifts(), last::policy);
    send(req, 200, JSON, body);
  }

  private void views(HttpServerRequest req) {
    Instant now = clock.instant();
    ControlPlaneView api = agent.controlPlane().snapshot(now);
    CycleResult last = agent.last();
    KubeletView kubelet = last == null ? null : last.snapshot().kubelet().orElse(null);
    RuntimeView runtime = last == null ? null : last.snapshot().runtime().orElse(null);
    Map<String, Object> apiExtra = new LinkedHashMap<>();
    apiExtra.put("synced", api.synced());
    apiExtra.put("relisting", api.relisting());
    apiExtra.put("lastRelistAt", api.lastRelistAt());
    apiExtra.put("relists", api.relists());
    apiExtra.put("watchRestarts", api.watchRestarts());
    Map<String, Object> kubeletExtra = new LinkedHashMap<>();
    kubeletExtra.put("source", agent.kubelet().describe());
    kubeletExtra.put("lastPollOk", last != null && last.snapshot().lastKubeletPollOk());
    List<Reports.ViewSummary> views =
        List.of(
            new Reports.ViewSummary(
                "api",
                api.synced(),
                api.size(),
                api.observedAt(),
                age(api.observedAt(), now),
                api.resourceVersion(),
                Reports.checksum(api.podsByUid().values()),
                apiExtra),
            new Reports.ViewSummary(
                "kubelet",
                kubelet != null,
                kubelet == null ? 0 : kubelet.size(),
                kubelet == null ? null : kubelet.observedAt(),
                kubelet == null ? null : age(kubelet.observedAt(), now),
                null,
                kubelet == null ? null : Reports.checksum(kubelet.podsByUid().values()),
                kubeletExtra),
            new Reports.ViewSummary(
                "runtime",
                agent.kubelet().runtimeAvailable() && runtime != null,
                runtime == null ? 0 : runtime.size(),
                runtime == null ? null : runtime.observedAt(),
                runtime == null ? null : age(runtime.observedAt(), now),
                null,
                null,
                Map.of()));
    send(req, 200, JSON, reports.views(node, last == null ? 0 : last.cycle(), now, views));
  }

  private static Double age(Instant at, Instant now) {
    return Duration.between(at, now).toMillis() / 1000.0;
  }

  private static void send(HttpServerRequest req, int status, String type, String body) {
    req.response().setStatusCode(status).putHeader("Content-Type", type);
    if (req.method() == HttpMethod.HEAD) {
      req.response().end();
    } else {
      req.response().end(body);
    }
  }

  /** Stops listening; completes when the port is released. */
  public Future<Void> stop() {
    HttpServer s = server;
    server = null;
    return s == null ? Future.succeededFuture() : s.close();
  }

  @Override
  public void close() {
    stop();
  }
}
