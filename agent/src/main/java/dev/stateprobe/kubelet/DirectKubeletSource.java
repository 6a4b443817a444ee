package dev.stateprobe.kubelet;

import dev.stateprobe.config.AgentConfig.KubeletSettings;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.metrics.FailureReason;
import dev.stateprobe.metrics.Metrics;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.PemTrustOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the kubelet's own port over HTTPS with the bearer token from {@code KUBELET_TOKEN_FILE}.
 *
 * <p>Every request ends within {@code requestTimeout} even when the kubelet trickles bytes (a
 * timer, not an idle timeout, bounds it), and its body is counted as it arrives: past {@code
 * maxBodyBytes} the connection is closed at once. A 401 re-reads the token file and repeats the
 * request once with what it holds then; a second 401 is the answer.
 *
 * <p>HTTP/1.1 on purpose: resetting a request then closes its connection, which is what stops a
 * kubelet that sends too much; two pooled keep-alive connections cover {@code /pods} and {@code
 * /runningpods/} in parallel.
 */
public final class DirectKubeletSource extends AbstractKubeletSource {
  private static final Logger LOG = LoggerFactory.getLogger(DirectKubeletSource.class);

  /** Enough of an error body to say why (the kubelet's "Forbidden (user=…, verb=…)"). */
  private static final int ERROR_TEXT_BYTES = 1024;

  private static final int KEEP_ALIVE_SECONDS = 30;

  private final KubeletSettings settings;
  private final TokenSource tokens;
  private final HttpClientAgent http;
  private final Context context;
  private final String host;
  private final int port;
  private final boolean ssl;
  private final String basePath;
  private final String where;

  /** Opens (or joins) the shared {@code state-probe-worker} pool for decoding and file reads. */
  public DirectKubeletSource(
      Vertx vertx, KubeletSettings settings, PodJsonDecoder decoder, Metrics metrics, Clock clock) {
    this(vertx, settings, decoder, metrics, clock, null);
  }

  /**
   * @param worker the agent's {@code state-probe-worker} executor; {@code null} opens it here
   */
  public DirectKubeletSource(
      Vertx vertx,
      KubeletSettings settings,
      PodJsonDecoder decoder,
      Metrics metrics,
      Clock clock,
      WorkerExecutor worker) {
    this(vertx, settings, decoder, metrics, clock, worker, BodyBudget.ofHeap());
  }

  DirectKubeletSource(
      Vertx vertx,
      KubeletSettings settings,
      PodJsonDecoder decoder,
      Metrics metrics,
      Clock clock,
      WorkerExecutor worker,
      BodyBudget budget) {
    super(
        vertx,
        decoder,
        metrics,
        clock,
        worker,
        checked(settings).runtimeReprobeInterval(), // before a worker is opened
        "kubelet " + settings.url(),
        settings.maxBodyBytes(),
        budget);
    this.settings = settings;
    URI url = settings.url();
    this.ssl = "https".equalsIgnoreCase(url.getScheme());
    this.host = url.getHost();
    this.port = url.getPort() > 0 ? url.getPort() : (ssl ? 443 : 80);
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    this.basePath = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    this.tokens = new TokenSource(settings.tokenFile(), this.worker);
    this.context = vertx.getOrCreateContext();

    HttpClientOptions options =
        new HttpClientOptions()
            .setProtocolVersion(HttpVersion.HTTP_1_1)
            .setConnectTimeout(Math.toIntExact(settings.connectTimeout().toMillis()))
            .setKeepAlive(true)
            .setKeepAliveTimeout(KEEP_ALIVE_SECONDS)
            .setSsl(ssl);
    if (ssl) {
      // Vert.x 5.2 offers enabled suites in the order added (5.0.7 did not: it hashed them).
      cipherSuitePreference().forEach(options::addEnabledCipherSuite);
    }
    String trust;
    if (!ssl) {
      trust = "PLAIN HTTP, NOT ENCRYPTED";
      LOG.warn(
          "event=insecure_kubelet_http KUBELET_ALLOW_INSECURE_HTTP=true: the kubelet at {} is read"
              + " over plain HTTP; anyone on the path can read the bearer token and answer for the"
              + " kubelet. Use https.",
          url);
    } else if (settings.insecureSkipTlsVerify()) {
      options.setTrustAll(true).setVerifyHost(false);
      trust = "TLS NOT VERIFIED";
      LOG.warn(
          "KUBELET_INSECURE_SKIP_TLS_VERIFY=true: the kubelet's certificate at {} is NOT verified;"
              + " anyone on the path can read the bearer token and answer for the kubelet."
              + " Set KUBELET_CA_FILE instead.",
          url);
    } else if (settings.caFile().isPresent()) {
      options.setTrustOptions(
          new PemTrustOptions().addCertPath(settings.caFile().get().toString()));
      options.setVerifyHost(true);
      trust = "CA " + settings.caFile().get();
    } else {
      options.setVerifyHost(true);
      trust = "JVM trust store";
    }
    this.where = url + " (" + trust + ")";
    this.http =
        vertx.httpClientBuilder().with(options).with(new PoolOptions().setHttp1MaxSize(2)).build();
  }

  /**
   * The JVM's default cipher suites, in its order, except that the ChaCha20-Poly1305 ones come
   * first.
   *
   * <p>Why: the DaemonSet runs the JVM with C1 only, which has no intrinsics for AES-GCM. A profile
   * of the agent on a 1000-pod node (4.3 MB {@code /pods} every 5 s) had 90 % of its steady CPU in
   * AES-GCM decryption ({@code GHASH.blockMult}, {@code AESCrypt}); decrypting 4.3 MB took ~130 ms
   * of CPU with AES-GCM and ~28 ms with ChaCha20-Poly1305 in C1 code on the same machine. The
   * kubelet's TLS server (Go's crypto/tls) chooses ChaCha20-Poly1305 when the client names it
   * before AES-GCM, and AES-GCM otherwise; a kubelet that cannot use ChaCha20 (a FIPS build) still
   * finds AES-GCM in the list. Nothing is added or removed: only the order.
   */
  static List<String> cipherSuitePreference() {
    String[] defaults;
    try {
      defaults = SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no default TLS context", e);
    }
    List<String> ordered = new ArrayList<>(defaults.length);
    for (String suite : defaults) {
      if (suite.contains("CHACHA20_POLY1305")) {
        ordered.add(suite);
      }
    }
    for (String suite : defaults) {
      if (!suite.contains("CHACHA20_POLY1305")) {
        ordered.add(suite);
      }
    }
    return List.copyOf(ordered);
  }

  /**
   * Checks the CA file once, at start-up, where blocking is fine: Vert.x would load it only at the
   * first connection and fail every poll with a message that does not name the setting.
   */
  private static KubeletSettings checked(KubeletSettings settings) {
    Objects.requireNonNull(settings, "settings");
    if (settings.caFile().isPresent()
        && !settings.insecureSkipTlsVerify()
        && !Files.isReadable(settings.caFile().get())) {
      throw new IllegalArgumentException(
          "KUBELET_CA_FILE " + settings.caFile().get() + " is not a readable file");
    }
    return settings;
  }

  @Override
  public String describe() {
    return "kubelet " + where;
  }

  @Override
  protected String where() {
    return settings.url().toString();
  }

  /** The token file reader, for tests that count its reads. */
  TokenSource tokens() {
    return tokens;
  }

  /** The tokens this source has sent, replaced wherever a message could repeat them. */
  @Override
  protected String redact(String text) {
    return tokens.redact(text);
  }

  @Override
  protected Future<Reply> fetch(String path) {
    return tokens
        .token()
        .compose(token -> send(path, token))
        .compose(
            reply -> {
              if (reply.status() != 401) {
                return Future.succeededFuture(reply);
              }
              // A rotated token whose file change we have not seen yet: read it again, retry
              // once. If the file still holds the refused token, the second 401 is the answer.
              LOG.debug("{} answered 401 to {}; re-reading {}", where(), path, tokens.file());
              return tokens.reload().compose(token -> send(path, token));
            });
  }

  /**
   * One request, on this source's context: its timer and handlers share one thread, and each
   * handler is set before the event loop can deliver what it handles (from a caller's thread, a
   * response could arrive and stream its body before the body handler is in place).
   */
  private Future<Reply> send(String path, String token) {
    Promise<Reply> promise = Promise.promise();
    context.runOnContext(
        v -> {
          try {
            sendOnContext(path, token, promise);
          } catch (RuntimeException e) {
            // Whatever the HTTP client refuses (a header it will not send), the poll must end
            // now, not at its timeout; the exception's message may quote the header: not kept.
            promise.tryFail(
                new KubeletException(
                    FailureReason.CONNECT,
                    "GET "
                        + path
                        + " from "
                        + where()
                        + ": the request could not be sent ("
                        + e.getClass().getSimpleName()
                        + ")"));
          }
        });
    return promise.future();
  }

  private void sendOnContext(String path, String token, Promise<Reply> promise) {
    String what = "GET " + path + " from " + where();
    long timeoutMillis = settings.requestTimeout().toMillis();
    HttpClientRequest[] request = new HttpClientRequest[1];
    long timer =
        vertx.setTimer(
            timeoutMillis,
            id -> {
              if (promise.tryFail(
                  new KubeletException(
                      FailureReason.TIMEOUT,
                      what + ": no complete reply within " + settings.requestTimeout()))) {
                if (request[0] != null) {
                  abort(request[0]);
                }
              }
            });
    promise.future().onComplete(ar -> vertx.cancelTimer(timer));

    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setHost(host)
            .setPort(port)
            .setSsl(ssl)
            .setURI(basePath + path)
            .setConnectTimeout(settings.connectTimeout().toMillis())
            .putHeader(HttpHeaders.AUTHORIZATION, "Bearer " + token)
            .putHeader(HttpHeaders.ACCEPT, "application/json");
    Future<HttpClientRequest> requested;
    try {
      requested = http.request(options);
    } catch (IllegalStateException e) {
      // Closed while a poll was on its way here: Vert.x throws instead of failing the future,
      // which would leave this promise, and the agent's cycle, open for good.
      promise.tryFail(
          new KubeletException(FailureReason.CONNECT, what + ": the client is closed", e));
      return;
    }
    requested.onComplete(
        created -> {
          if (created.failed()) {
            promise.tryFail(connectFailure(what, created.cause()));
            return;
          }
          HttpClientRequest req = created.result();
          request[0] = req;
          if (promise.future().isComplete()) {
            abort(req); // the timer fired while connecting
            return;
          }
          req.send()
              .onComplete(
                  sent -> {
                    if (sent.failed()) {
                      promise.tryFail(Failures.wrap(what, sent.cause()));
                    } else {
                      read(sent.result(), req, path, what, promise);
                    }
                  });
        });
  }

  private void read(
      HttpClientResponse response,
      HttpClientRequest request,
      String path,
      String what,
      Promise<Reply> promise) {
    int status = response.statusCode();
    response.exceptionHandler(t -> promise.tryFail(Failures.wrap(what, t)));
    if (status < 200 || status >= 300) {
      readErrorText(response, request, status, promise);
      return;
    }
    long limit = settings.maxBodyBytes();
    long declared = contentLength(response);
    if (declared > limit) {
      promise.tryFail(
          new KubeletException(
              FailureReason.TOO_LARGE,
              what
                  + ": reply declares "
                  + declared
                  + " bytes, over the limit of "
                  + limit
                  + " (KUBELET_MAX_BODY_BYTES); not read"));
      abort(request);
      return;
    }
    BoundedBody body = newBody(path, limit, declared);
    promise.future().onFailure(t -> body.release()); // on success the reply's reader releases it
    response.handler(
        chunk -> {
          if (promise.future().isComplete()) {
            return; // timed out or aborted: the rest is on its way to nowhere
          }
          if (!body.append(chunk)) {
            promise.tryFail(overLimit(what, body));
            abort(request);
          }
        });
    response.endHandler(
        v -> {
          if (!promise.tryComplete(
              new Reply(status, body.array(), body.length(), clock.instant(), "", body))) {
            body.release();
          }
        });
  }

  /**
   * Keeps the start of an error body for the message; a long one is cut off with its connection.
   */
  private void readErrorText(
      HttpClientResponse response, HttpClientRequest request, int status, Promise<Reply> promise) {
    Buffer text = Buffer.buffer();
    response.handler(
        chunk -> {
          if (promise.future().isComplete()) {
            return;
          }
          text.appendBuffer(chunk, 0, Math.min(chunk.length(), ERROR_TEXT_BYTES - text.length()));
          if (text.length() >= ERROR_TEXT_BYTES) {
            promise.tryComplete(
                new Reply(status, new byte[0], 0, clock.instant(), errorText(text)));
            abort(request);
          }
        });
    response.endHandler(
        v ->
            promise.tryComplete(
                new Reply(status, new byte[0], 0, clock.instant(), errorText(text))));
  }

  /**
   * No connection: a timeout here is Vert.x giving up on getting one within the connect timeout
   * (TCP and TLS handshake), so it is {@code CONNECT}; {@code TIMEOUT} is for a kubelet that
   * accepted the request and was too slow to answer.
   */
  private KubeletException connectFailure(String what, Throwable cause) {
    KubeletException e = Failures.wrap(what, cause);
    if (e.reason() != FailureReason.TIMEOUT) {
      return e;
    }
    return new KubeletException(
        FailureReason.CONNECT,
        what + ": no connection within " + settings.connectTimeout() + " (KUBELET_CONNECT_TIMEOUT)",
        cause);
  }

  /**
   * Stops a reply for good: the request is reset and its connection closed, so the kubelet stops
   * sending and the pool opens a fresh connection next time. The reset alone was not enough with
   * Vert.x 5.2 against a kubelet that kept sending: a heap dump after an OutOfMemoryError held six
   * refused replies' streams in their connections' in-flight queues, each with its body.
   */
  private static void abort(HttpClientRequest request) {
    request.reset();
    HttpConnection connection = request.connection();
    if (connection != null) {
      connection.close();
    }
  }

  private static String errorText(Buffer text) {
    return text.toString(StandardCharsets.UTF_8).replaceAll("\\s+", " ");
  }

  private static long contentLength(HttpClientResponse response) {
    String header = response.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    http.close();
    super.close();
  }
}
