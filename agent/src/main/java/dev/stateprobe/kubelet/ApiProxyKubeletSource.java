package dev.stateprobe.kubelet;

import dev.stateprobe.config.AgentConfig.KubeletSettings;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.metrics.FailureReason;
import dev.stateprobe.metrics.Metrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Reads the kubelet through the API server's node proxy ({@code /api/v1/nodes/NODE/proxy/pods})
 * with the credentials of a fabric8 client: what {@code check} uses from a laptop, and the agent
 * with {@code KUBELET_VIA_API_PROXY=true}. Needs {@code nodes/proxy} get: the API server checks
 * that verb itself before it proxies, whatever the kubelet would allow ({@code nodes/pods} covers
 * only direct kubelet reads). RbacIT proves it; the opt-in {@code components/nodes-proxy} grants
 * it.
 *
 * <p>Starting a request runs fabric8's interceptors on the calling thread, and those may block (an
 * exec credential plugin, a token file): it is started on the worker. The reply then arrives on the
 * client's own threads and is bridged back to a Vert.x future. The body limit and the whole-request
 * timeout are enforced here as in {@link DirectKubeletSource}; TLS, the token and the retry on 401
 * are the client's business. Its retry with back-off on 5xx and I/O errors ({@code
 * requestRetryBackoffLimit}) runs inside the request timeout: with the default of 10 retries a
 * refusing kubelet shows up as {@code TIMEOUT}, not {@code HTTP_5XX}.
 */
public final class ApiProxyKubeletSource extends AbstractKubeletSource {
  private static final Pattern NODE_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  private static final int ERROR_TEXT_BYTES = 1024;

  private final KubernetesClient client;
  private final KubeletSettings settings;
  private final String nodeName;
  private final String proxyRoot;
  private final Context context;

  /**
   * @param settings only the timeouts, the body limit and the re-probe interval are used; the URL,
   *     token and TLS settings are the client's
   * @param worker the agent's {@code state-probe-worker} executor; {@code null} opens it here
   */
  public ApiProxyKubeletSource(
      Vertx vertx,
      KubernetesClient client,
      String nodeName,
      KubeletSettings settings,
      PodJsonDecoder decoder,
      Metrics metrics,
      Clock clock,
      WorkerExecutor worker) {
    super(
        vertx,
        decoder,
        metrics,
        clock,
        worker,
        Objects.requireNonNull(settings, "settings").runtimeReprobeInterval(),
        "API server node proxy for " + validNodeName(nodeName), // before a worker is opened
        settings.maxBodyBytes(),
        BodyBudget.ofHeap());
    this.client = Objects.requireNonNull(client, "client");
    this.settings = settings;
    this.nodeName = nodeName;
    String master = client.getMasterUrl().toString();
    this.proxyRoot =
        (master.endsWith("/") ? master : master + "/") + "api/v1/nodes/" + nodeName + "/proxy";
    this.context = vertx.getOrCreateContext();
  }

  /** Same, opening (or joining) the shared {@code state-probe-worker} pool. */
  public ApiProxyKubeletSource(
      Vertx vertx,
      KubernetesClient client,
      String nodeName,
      KubeletSettings settings,
      PodJsonDecoder decoder,
      Metrics metrics,
      Clock clock) {
    this(vertx, client, nodeName, settings, decoder, metrics, clock, null);
  }

  private static String validNodeName(String nodeName) {
    if (nodeName == null || !NODE_NAME.matcher(nodeName).matches()) {
      throw new IllegalArgumentException("node name '" + nodeName + "' is not a valid node name");
    }
    return nodeName;
  }

  @Override
  public String describe() {
    return "kubelet of node "
        + nodeName
        + " through the API server's node proxy at "
        + client.getMasterUrl();
  }

  @Override
  protected String where() {
    return "node proxy " + nodeName;
  }

  /** The API client's own bearer token, which a proxy could echo into an error body. */
  @Override
  protected String redact(String text) {
    String token = client.getConfiguration().getOauthToken();
    return text == null || token == null || token.isBlank()
        ? text
        : text.replace(token.strip(), "[REDACTED]");
  }

  @Override
  protected Future<Reply> fetch(String path) {
    String what = "GET " + path + " from " + where();
    Promise<Reply> promise = Promise.promise();
    Collector collector = new Collector(settings.maxBodyBytes(), path, what, promise);
    promise.future().onFailure(t -> collector.release()); // on success the reader releases it
    context.runOnContext(
        v -> {
          long timer =
              vertx.setTimer(
                  settings.requestTimeout().toMillis(),
                  id -> {
                    if (promise.tryFail(
                        new KubeletException(
                            FailureReason.TIMEOUT,
                            what + ": no complete reply within " + settings.requestTimeout()))) {
                      collector.cancel();
                    }
                  });
          promise.future().onComplete(ar -> vertx.cancelTimer(timer));
          worker
              .executeBlocking(() -> start(path, collector), false)
              .onComplete(
                  started -> {
                    if (started.failed()) {
                      promise.tryFail(Failures.wrap(what, started.cause()));
                      return;
                    }
                    collector.started(started.result());
                    Future.fromCompletionStage(started.result(), context)
                        .onComplete(
                            response -> {
                              if (response.failed()) {
                                promise.tryFail(Failures.wrap(what, response.cause()));
                              } else {
                                collector.onResponse(response.result());
                              }
                            });
                  });
        });
    return promise.future();
  }

  /** Runs on the worker: fabric8's interceptors may block. */
  private CompletableFuture<HttpResponse<AsyncBody>> start(String path, Collector collector) {
    HttpClient http = client.getHttpClient();
    HttpRequest request =
        http.newHttpRequestBuilder()
            .uri(proxyRoot + path)
            .header("Accept", "application/json")
            .timeout(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .build();
    return http.consumeBytes(request, collector);
  }

  /**
   * Counts the body as it arrives and cancels it past the limit. Called on the client's threads;
   * the timer calls {@link #cancel()} from the event loop.
   */
  private final class Collector implements AsyncBody.Consumer<List<ByteBuffer>> {
    private final String path;
    private final String what;
    private final Promise<Reply> promise;
    private final long limit;
    private BoundedBody body; // guarded by this
    private int status; // guarded by this
    private AsyncBody asyncBody; // guarded by this
    private CompletableFuture<?> pending; // guarded by this

    Collector(long limit, String path, String what, Promise<Reply> promise) {
      this.limit = limit;
      this.path = path;
      this.what = what;
      this.promise = promise;
    }

    synchronized void started(CompletableFuture<?> future) {
      pending = future;
      if (promise.future().isComplete()) {
        future.cancel(true);
      }
    }

    synchronized void onResponse(HttpResponse<AsyncBody> response) {
      asyncBody = response.body();
      if (promise.future().isComplete()) {
        asyncBody.cancel();
        return;
      }
      status = response.code();
      boolean ok = status >= 200 && status < 300;
      long declared = contentLength(response.header("Content-Length"));
      if (ok && declared > limit) {
        fail(
            new KubeletException(
                FailureReason.TOO_LARGE,
                what
                    + ": reply declares "
                    + declared
                    + " bytes, over the limit of "
                    + limit
                    + " (KUBELET_MAX_BODY_BYTES); not read"));
        return;
      }
      if (body != null) {
        body.release();
      }
      body = ok ? newBody(path, limit, declared) : new BoundedBody(ERROR_TEXT_BYTES, -1);
      asyncBody
          .done()
          .whenComplete(
              (v, t) -> {
                if (t != null) {
                  promise.tryFail(Failures.wrap(what, t));
                } else {
                  complete();
                }
              });
      asyncBody.consume();
    }

    @Override
    public synchronized void consume(List<ByteBuffer> chunks, AsyncBody source) {
      if (promise.future().isComplete()) {
        source.cancel();
        return;
      }
      if (body == null) {
        body = newBody(path, limit, -1); // chunks before the response was handed over
      }
      for (ByteBuffer chunk : chunks) {
        if (!body.append(chunk)) {
          if (status >= 200 && status < 300 || status == 0) {
            fail(overLimit(what, body));
          } else {
            complete(); // enough of an error text
            source.cancel();
          }
          return;
        }
      }
      source.consume();
    }

    private synchronized void complete() {
      boolean ok = status >= 200 && status < 300;
      String text =
          ok
              ? ""
              : new String(body.array(), 0, body.length(), StandardCharsets.UTF_8)
                  .replaceAll("\\s+", " ");
      if (!promise.tryComplete(
          new Reply(
              status,
              ok ? body.array() : new byte[0],
              ok ? body.length() : 0,
              clock.instant(),
              text,
              body))) {
        body.release();
      }
    }

    synchronized void release() {
      if (body != null) {
        body.release();
      }
    }

    private synchronized void fail(KubeletException e) {
      promise.tryFail(e);
      cancel();
    }

    synchronized void cancel() {
      if (asyncBody != null) {
        asyncBody.cancel();
      } else if (pending != null) {
        pending.cancel(true);
      }
    }
  }

  private static long contentLength(String header) {
    if (header == null) {
      return -1;
    }
    try {
      return Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
