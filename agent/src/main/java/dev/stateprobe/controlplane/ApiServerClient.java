package dev.stateprobe.controlplane;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.OAuthTokenProvider;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.ClientOptionsBase;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's own reads of the API server, on Vert.x: plain GETs and WebSocket watches, with the
 * address, credentials and TLS that fabric8's {@link Config} resolved (in-cluster service account,
 * kubeconfig, or {@code KUBERNETES_*} variables). Nothing of that is parsed here: only {@code
 * Config}'s getters are read, and the bearer token is the one fabric8's own {@code
 * TokenRefreshInterceptor} would send.
 *
 * <h2>What is taken from {@code Config}</h2>
 *
 * <ul>
 *   <li>{@code getMasterUrl()}: scheme, host, port, base path.
 *   <li>Trust: {@code isTrustCerts()} (no verification), else {@code getCaCertData()} (base64 PEM)
 *       or {@code getCaCertFile()}, else the JVM's trust store; {@code
 *       isDisableHostnameVerification()}.
 *   <li>Client certificate: {@code getClientCertData()/getClientCertFile()} with {@code
 *       getClientKeyData()/getClientKeyFile()} (PEM; Vert.x reads PKCS#1, PKCS#8 and SEC1 keys).
 *   <li>Bearer token, in fabric8's order: {@code getOauthTokenProvider().getToken()}, else {@code
 *       getOauthToken()}, else {@code getAutoOAuthToken()} (the service-account token file, or the
 *       kubeconfig's token or exec/auth-provider result); basic auth from {@code getUsername()} and
 *       {@code getPassword()} when there is no token.
 *   <li>Rotation: as fabric8's interceptor does, {@code Config.refresh()} runs at most once a
 *       minute (on the worker pool: it reads files) and after every 401; the token it then holds is
 *       used from the next request on. A kubelet-style projected token rotates hourly and stays
 *       valid for a while after, so a minute's lag is safe.
 *   <li>{@code getCustomHeaders()}, impersonation ({@code getImpersonateUsername()/Groups()}),
 *       {@code getConnectionTimeout()}, {@code getRequestTimeout()}, {@code
 *       getWebsocketPingInterval()}.
 * </ul>
 *
 * Not supported here (fabric8's writes still honour them): HTTP proxies, a key store or trust store
 * file, {@code getTlsServerName()}, encrypted client keys.
 */
public final class ApiServerClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ApiServerClient.class);
  private static final Duration REFRESH_EVERY = Duration.ofMinutes(1);

  private final Vertx vertx;
  private final Config config;
  private final WorkerExecutor worker;
  private final Clock clock;
  private final boolean ssl;
  private final String host;
  private final int port;
  private final String basePath;
  private final Duration requestTimeout;
  private final long pingIntervalMillis;
  private final Map<String, String> fixedHeaders;
  private final HttpClient http;
  private final WebSocketClient websockets;
  private volatile Config current;
  private volatile Instant refreshedAt;
  private volatile boolean refreshing;

  /**
   * @param config fabric8's resolved configuration (the agent's, also used for its writes)
   * @param worker where {@code Config.refresh()} runs (it reads files)
   */
  public ApiServerClient(Vertx vertx, Config config, WorkerExecutor worker, Clock clock) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.config = Objects.requireNonNull(config, "config");
    this.worker = Objects.requireNonNull(worker, "worker");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.current = config;
    this.refreshedAt = clock.instant();
    URI master = URI.create(Objects.requireNonNull(config.getMasterUrl(), "masterUrl"));
    this.ssl = "https".equalsIgnoreCase(master.getScheme());
    this.host = master.getHost();
    this.port = master.getPort() > 0 ? master.getPort() : ssl ? 443 : 80;
    String path = master.getRawPath() == null ? "" : master.getRawPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    this.requestTimeout =
        Duration.ofMillis(positiveOr(config.getRequestTimeout(), Config.DEFAULT_REQUEST_TIMEOUT));
    Long ping = config.getWebsocketPingInterval();
    this.pingIntervalMillis = ping == null || ping <= 0 ? 30_000 : ping;
    this.fixedHeaders = fixedHeaders(config);
    int connectTimeout = positiveOr(config.getConnectionTimeout(), 10_000);

    HttpClientOptions httpOptions =
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setKeepAlive(true)
            .setConnectTimeout(connectTimeout);
    tls(httpOptions, config);
    WebSocketClientOptions wsOptions =
        new WebSocketClientOptions()
            .setConnectTimeout(connectTimeout)
            // One watch event is one message; a pod may be as large as etcd allows (1.5 MB).
            .setMaxFrameSize(2 * 1024 * 1024)
            .setMaxMessageSize(4 * 1024 * 1024);
    tls(wsOptions, config);
    this.http = vertx.createHttpClient(httpOptions);
    this.websockets = vertx.createWebSocketClient(wsOptions);
  }

  private static int positiveOr(Integer value, int fallback) {
    return value == null || value <= 0 ? fallback : value;
  }

  private static void tls(ClientOptionsBase options, Config config) {
    if (!"https".equalsIgnoreCase(URI.create(config.getMasterUrl()).getScheme())) {
      return;
    }
    options.setSsl(true);
    boolean verifyHost = !config.isDisableHostnameVerification();
    if (config.isTrustCerts()) {
      options.setTrustAll(true);
      verifyHost = false;
    } else if (notBlank(config.getCaCertData())) {
      options.setTrustOptions(
          new PemTrustOptions().addCertValue(Buffer.buffer(base64(config.getCaCertData()))));
    } else if (notBlank(config.getCaCertFile())) {
      options.setTrustOptions(new PemTrustOptions().addCertPath(config.getCaCertFile()));
    }
    if (options instanceof HttpClientOptions h) {
      h.setVerifyHost(verifyHost);
    } else if (options instanceof WebSocketClientOptions w) {
      w.setVerifyHost(verifyHost);
    }
    PemKeyCertOptions keyCert = null;
    if (notBlank(config.getClientCertData()) || notBlank(config.getClientCertFile())) {
      keyCert = new PemKeyCertOptions();
      if (notBlank(config.getClientCertData())) {
        keyCert.addCertValue(Buffer.buffer(base64(config.getClientCertData())));
      } else {
        keyCert.addCertPath(config.getClientCertFile());
      }
      if (notBlank(config.getClientKeyData())) {
        keyCert.addKeyValue(Buffer.buffer(base64(config.getClientKeyData())));
      } else if (notBlank(config.getClientKeyFile())) {
        keyCert.addKeyPath(config.getClientKeyFile());
      }
      options.setKeyCertOptions(keyCert);
    }
  }

  // kubeconfig's *-data fields are base64 of the PEM text; fabric8 keeps them so.
  private static byte[] base64(String data) {
    String s = data.trim();
    if (s.startsWith("-----BEGIN")) {
      return s.getBytes(StandardCharsets.US_ASCII);
    }
    return Base64.getMimeDecoder().decode(s);
  }

  private static boolean notBlank(String s) {
    return s != null && !s.isBlank();
  }

  private static Map<String, String> fixedHeaders(Config config) {
    Map<String, String> h = new LinkedHashMap<>();
    if (config.getCustomHeaders() != null) {
      h.putAll(config.getCustomHeaders());
    }
    if (notBlank(config.getImpersonateUsername())) {
      h.put("Impersonate-User", config.getImpersonateUsername());
    }
    String[] groups = config.getImpersonateGroups();
    if (groups != null && groups.length > 0) {
      h.put("Impersonate-Group", String.join(",", groups));
    }
    if (notBlank(config.getUserAgent())) {
      h.put("User-Agent", config.getUserAgent());
    }
    return Map.copyOf(h);
  }

  /** The API server's base URL, as fabric8 resolved it. */
  public String masterUrl() {
    return config.getMasterUrl();
  }

  public Duration requestTimeout() {
    return requestTimeout;
  }

  long pingIntervalMillis() {
    return pingIntervalMillis;
  }

  /** fabric8's order: a token provider, the explicit token, the auto-configured token. */
  private String authorization() {
    maybeRefresh(false);
    return authorizationNoRefresh();
  }

  private String authorizationNoRefresh() {
    Config c = current;
    OAuthTokenProvider provider = c.getOauthTokenProvider();
    String token = provider != null ? provider.getToken() : null;
    if (!notBlank(token)) {
      token = c.getOauthToken();
    }
    if (!notBlank(token)) {
      token = c.getAutoOAuthToken();
    }
    if (notBlank(token)) {
      return "Bearer " + token;
    }
    if (notBlank(c.getUsername()) && notBlank(c.getPassword())) {
      return "Basic "
          + Base64.getEncoder()
              .encodeToString(
                  (c.getUsername() + ":" + c.getPassword()).getBytes(StandardCharsets.UTF_8));
    }
    return null;
  }

  private static final java.util.regex.Pattern BEARER =
      java.util.regex.Pattern.compile("(?i)(bearer\\s+)[A-Za-z0-9._~+/=-]+");

  /**
   * {@code text} with the bearer token in use, and anything written as {@code Bearer X}, replaced
   * by {@code [REDACTED]}: error texts quote requests and replies, and logs leave the node.
   */
  String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    String auth = authorizationNoRefresh();
    if (auth != null && auth.startsWith("Bearer ") && auth.length() >= "Bearer ".length() + 8) {
      out = out.replace(auth.substring("Bearer ".length()), "[REDACTED]");
    }
    return BEARER.matcher(out).replaceAll("$1[REDACTED]");
  }

  /** After a 401: read the credentials again before the next request. */
  void credentialsRejected() {
    maybeRefresh(true);
  }

  private void maybeRefresh(boolean now) {
    if (refreshing
        || (!now && clock.instant().isBefore(refreshedAt.plus(REFRESH_EVERY)))
        || !(config.getFile() != null || config.getAutoOAuthToken() != null)) {
      return;
    }
    refreshing = true;
    worker
        .executeBlocking(config::refresh, false)
        .onComplete(
            ar -> {
              if (ar.succeeded() && ar.result() != null) {
                current = ar.result();
              } else if (ar.failed()) {
                log.warn("re-reading the API server credentials failed: {}", ar.cause().toString());
              }
              refreshedAt = clock.instant();
              refreshing = false;
            });
  }

  private void headers(java.util.function.BiConsumer<String, String> put) {
    fixedHeaders.forEach(put);
    String auth = authorization();
    if (auth != null) {
      put.accept(HttpHeaders.AUTHORIZATION.toString(), auth);
    }
    put.accept(HttpHeaders.ACCEPT.toString(), "application/json");
  }

  /** A reply: status and body (the body of a failure is kept for its message). */
  record Reply(int status, Buffer body) {}

  /** {@code GET pathAndQuery} (relative to the master URL, starting with /), body read whole. */
  Future<Reply> get(String pathAndQuery) {
    return get(pathAndQuery, Long.MAX_VALUE);
  }

  /**
   * {@code GET pathAndQuery}, its body read whole unless it grows past {@code maxBodyBytes}: then
   * the connection is closed and the future fails, naming the request and the limit.
   */
  Future<Reply> get(String pathAndQuery, long maxBodyBytes) {
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost(host)
            .setPort(port)
            .setSsl(ssl)
            .setURI(basePath + pathAndQuery)
            .setIdleTimeout(requestTimeout.toMillis());
    headers(options::putHeader);
    try {
      return http.request(options)
          .compose(req -> req.send())
          .compose(
              resp -> {
                if (maxBodyBytes == Long.MAX_VALUE) {
                  return resp.body().map(b -> new Reply(resp.statusCode(), b));
                }
                io.vertx.core.Promise<Reply> reply = io.vertx.core.Promise.promise();
                Buffer body = Buffer.buffer();
                resp.handler(
                    chunk -> {
                      if (body.length() + (long) chunk.length() > maxBodyBytes) {
                        if (reply.tryFail(
                            new IllegalStateException(
                                "the reply to GET "
                                    + pathAndQuery
                                    + " is larger than "
                                    + maxBodyBytes
                                    + " bytes"))) {
                          resp.request().connection().close();
                        }
                      } else if (!reply.future().isComplete()) {
                        body.appendBuffer(chunk);
                      }
                    });
                resp.exceptionHandler(reply::tryFail);
                resp.endHandler(v -> reply.tryComplete(new Reply(resp.statusCode(), body)));
                return reply.future();
              });
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
  }

  /** Opens a WebSocket watch at {@code pathAndQuery}. */
  Future<WebSocket> watch(String pathAndQuery) {
    WebSocketConnectOptions options =
        new WebSocketConnectOptions()
            .setHost(host)
            .setPort(port)
            .setSsl(ssl)
            .setURI(basePath + pathAndQuery)
            .setTimeout(requestTimeout.toMillis());
    headers(options::addHeader);
    try {
      return websockets.connect(options);
    } catch (IllegalStateException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * How many items a LIST at {@code pathAndQuery} answers (the items are skipped, not decoded).
   * Fails on any status but 200, naming it.
   */
  public Future<Integer> countItems(String pathAndQuery) {
    return get(pathAndQuery)
        .compose(
            reply -> {
              if (reply.status() != 200) {
                return Future.failedFuture(
                    new IllegalStateException(
                        "GET " + pathAndQuery + " answered HTTP " + reply.status()));
              }
              try (tools.jackson.core.JsonParser p =
                  new tools.jackson.core.json.JsonFactory()
                      .createParser(
                          tools.jackson.core.ObjectReadContext.empty(), reply.body().getBytes())) {
                int n = 0;
                if (p.nextToken() != tools.jackson.core.JsonToken.START_OBJECT) {
                  return Future.failedFuture(
                      new IllegalStateException("GET " + pathAndQuery + ": not a JSON object"));
                }
                String field;
                while ((field = p.nextName()) != null) {
                  tools.jackson.core.JsonToken t = p.nextToken();
                  if ("items".equals(field) && t == tools.jackson.core.JsonToken.START_ARRAY) {
                    while (p.nextToken() != tools.jackson.core.JsonToken.END_ARRAY) {
                      p.skipChildren();
                      n++;
                    }
                  } else {
                    p.skipChildren();
                  }
                }
                return Future.succeededFuture(n);
              } catch (tools.jackson.core.JacksonException e) {
                return Future.failedFuture(
                    new IllegalStateException(
                        "GET " + pathAndQuery + ": malformed JSON: " + e.getOriginalMessage()));
              }
            });
  }

  Vertx vertx() {
    return vertx;
  }

  /**
   * Closes its connections. Off a Vert.x thread it waits for them (at most 5 s), so nothing of
   * theirs is still closing when Vert.x itself stops.
   */
  @Override
  public void close() {
    Future<Void> done = Future.join(http.close(), websockets.close()).mapEmpty();
    if (!io.vertx.core.Context.isOnVertxThread()) {
      try {
        done.await(5, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        // stopping anyway
      }
    }
  }
}
