package dev.stateprobe.kubelet;

import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.ItemMemo;
import dev.stateprobe.decode.PodIdentity;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.metrics.FailureReason;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.metrics.Metrics.Endpoint;
import dev.stateprobe.report.Logfmt;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What both sources share once a reply is in: decode on the worker, key by UID, count and time
 * every request, and keep the runtime view's availability. Subclasses only fetch bytes.
 *
 * <p>Decoding runs on the worker. Measured on this machine (2 cores, JDK 25, warm, median of 200):
 * a synthesized 1000-pod list takes 18 ms to decode at 5.3 MB (p90 34 ms) and 42 ms at 10.4 MB, far
 * too long for an event loop that also serves {@code /metrics} and the API watch; the 128 KB 1.35
 * capture takes 0.5 ms either way, and the hop to the worker and back adds under 0.1 ms, so there
 * is no size below which staying on the loop would pay.
 */
abstract class AbstractKubeletSource implements KubeletSource {
  /** The pool every blocking step of the agent runs on. */
  static final String WORKER_POOL = "state-probe-worker";

  static final int WORKER_POOL_SIZE = 2;

  /**
   * One HTTP answer with its body; {@code bytes} is valid from 0 to {@code length}.
   *
   * @param observedAt the injected clock's time when the last byte arrived
   * @param errorText the start of a non-2xx body, for the message; empty otherwise
   */
  record Reply(
      int status,
      byte[] bytes,
      int length,
      Instant observedAt,
      String errorText,
      BoundedBody body) {
    Reply(int status, byte[] bytes, int length, Instant observedAt, String errorText) {
      this(status, bytes, length, observedAt, errorText, null);
    }

    boolean ok() {
      return status >= 200 && status < 300;
    }

    /** Gives the body's heap back to the budget: once refused, or not decoded. */
    void release() {
      if (body != null) {
        body.release();
      }
    }

    /**
     * Once decoded: the array stays reserved as the next reply's on the same path (see {@link
     * BodyBudget}); a reply that failed to decode is released instead, never kept.
     */
    void done(boolean decoded) {
      if (body == null) {
        return;
      }
      if (decoded) {
        body.recycle();
      } else {
        body.release();
      }
    }
  }

  /**
   * Bytes of body limit per item a list may hold: a real pod on {@code /pods} is 2 to 6 KB (5.3 KB
   * on average in the 1.35 capture) and a {@code /runningpods/} item about 300 bytes, but a list of
   * empty items decodes into several times its bytes in records (about 300 bytes of heap per item):
   * at a 7.7 MB limit, 7,500 items.
   */
  static final int BODY_BYTES_PER_ITEM = 1024;

  protected final Vertx vertx;
  protected final PodJsonDecoder decoder;
  protected final Metrics metrics;
  protected final Clock clock;
  protected final WorkerExecutor worker;
  private final boolean ownsWorker;
  private final RuntimeAvailability runtime;
  private final ReplyMemo<Map<String, PodRecord>> podsMemo = new ReplyMemo<>();
  private final ReplyMemo<Map<String, RuntimePod>> runtimeMemo = new ReplyMemo<>();
  private final ItemMemo<PodRecord> podItems = new ItemMemo<>();
  private final ItemMemo<RuntimePod> runtimeItems = new ItemMemo<>();
  private final BodySizes bodySizes = new BodySizes();
  private final BodyBudget budget;
  private final int maxItems;

  /**
   * @param worker the shared worker executor, or {@code null} to open {@value #WORKER_POOL} here
   *     (and close it in {@link #close()})
   */
  AbstractKubeletSource(
      Vertx vertx,
      PodJsonDecoder decoder,
      Metrics metrics,
      Clock clock,
      WorkerExecutor worker,
      Duration runtimeReprobeInterval,
      String sourceName,
      long maxBodyBytes,
      BodyBudget budget) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.decoder = Objects.requireNonNull(decoder, "decoder");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.ownsWorker = worker == null;
    this.worker =
        worker != null ? worker : vertx.createSharedWorkerExecutor(WORKER_POOL, WORKER_POOL_SIZE);
    this.runtime = new RuntimeAvailability(clock, runtimeReprobeInterval, metrics, sourceName);
    this.budget = Objects.requireNonNull(budget, "budget");
    this.maxItems =
        (int) Math.max(1, Math.min(Integer.MAX_VALUE, maxBodyBytes / BODY_BYTES_PER_ITEM));
  }

  /**
   * GET {@code path} (relative to the kubelet's root) and read the whole body within the limits.
   * Any HTTP status completes the future; only transport failures, timeouts and over-size bodies
   * fail it, with a {@link KubeletException}.
   */
  protected abstract Future<Reply> fetch(String path);

  /** A body for a reply on {@code path}, sized as {@link BodySizes} says, within the budget. */
  final BoundedBody newBody(String path, long limit, long declared) {
    return bodySizes.newBody(path, limit, declared, budget);
  }

  /** The failure for a body that {@code body} refused after {@code what}. */
  final KubeletException overLimit(String what, BoundedBody body) {
    if (body.refusedByBudget()) {
      return new KubeletException(
          FailureReason.TOO_LARGE,
          what
              + ": reply passed "
              + body.length()
              + " bytes, more than the agent's heap can hold now (reply bodies may take "
              + budget.capacity()
              + " bytes together, a quarter of the heap); connection closed");
    }
    return new KubeletException(
        FailureReason.TOO_LARGE,
        what
            + ": reply passed the limit of "
            + body.limit()
            + " bytes (KUBELET_MAX_BODY_BYTES) after "
            + body.length()
            + " bytes; connection closed");
  }

  /**
   * {@code text} without any credential this source sends: a kubelet or a proxy may echo request
   * headers into an error body, and that text reaches {@code /readyz} and the logs.
   */
  protected String redact(String text) {
    return text;
  }

  /** Where this source reads from, for messages: never contains a credential. */
  protected abstract String where();

  @Override
  public final Future<KubeletView> pollPods() {
    long start = System.nanoTime();
    Future<KubeletView> result =
        fetch("/pods")
            .compose(
                reply -> {
                  if (!reply.ok()) {
                    reply.release();
                    return Future.failedFuture(statusFailure("/pods", reply));
                  }
                  metrics.kubeletResponseBytes(reply.length());
                  bodySizes.remember("/pods", reply.length());
                  return worker
                      .executeBlocking(() -> podView(reply), false)
                      .onComplete(ar -> reply.done(ar.succeeded()));
                });
    return finish(result, Endpoint.PODS, "/pods", start);
  }

  @Override
  public final Future<Optional<RuntimeView>> pollRunningPods() {
    if (!runtime.tryAsk()) {
      return Future.succeededFuture(Optional.empty());
    }
    long start = System.nanoTime();
    Future<Optional<RuntimeView>> result =
        fetch("/runningpods/")
            .compose(
                reply -> {
                  if (!reply.ok()) {
                    reply.release();
                  }
                  if (reply.status() == 403 || reply.status() == 404) {
                    runtime.refused(reply.status());
                    metrics.pollFailure(
                        Endpoint.RUNNINGPODS, FailureReason.ofStatus(reply.status()));
                    return Future.succeededFuture(Optional.<RuntimeView>empty());
                  }
                  if (!reply.ok()) {
                    return Future.failedFuture(statusFailure("/runningpods/", reply));
                  }
                  bodySizes.remember("/runningpods/", reply.length());
                  return worker
                      .executeBlocking(() -> runtimeView(reply), false)
                      .onComplete(ar -> reply.done(ar.succeeded()))
                      .map(
                          view -> {
                            runtime.served();
                            return Optional.of(view);
                          });
                });
    return finish(result, Endpoint.RUNNINGPODS, "/runningpods/", start);
  }

  @Override
  public final boolean runtimeAvailable() {
    return runtime.available();
  }

  @Override
  public void close() {
    if (ownsWorker) {
      worker.close();
    }
  }

  /** Unchanged bytes since the last poll give the last records again: see {@link ReplyMemo}. */
  private KubeletView podView(Reply reply) {
    try {
      return new KubeletView(
          podsMemo.decode(reply.bytes(), reply.length(), this::podsByUid), reply.observedAt());
    } catch (DecodeException e) {
      throw decodeFailure("/pods", e);
    }
  }

  private Map<String, PodRecord> podsByUid(byte[] bytes, int length) throws DecodeException {
    List<PodRecord> pods = decoder.decodePodList(bytes, 0, length, maxItems, podItems);
    Map<String, PodRecord> byUid = new LinkedHashMap<>(pods.size() * 2);
    Map<String, Integer> index = new java.util.HashMap<>(pods.size() * 2);
    for (int i = 0; i < pods.size(); i++) {
      PodRecord p = pods.get(i);
      checkIdentity(Endpoint.PODS, i, p.namespace(), p.name(), p.uid());
      unique(index, p.uid(), i);
      byUid.put(p.uid(), p);
    }
    return Map.copyOf(byUid);
  }

  /**
   * Refuses the whole reply for one entry whose identity Kubernetes would refuse: counted by field,
   * and its value never leaves here but escaped and cut short.
   */
  private void checkIdentity(Endpoint endpoint, int item, String namespace, String name, String uid)
      throws DecodeException {
    Optional<PodIdentity.Field> bad = PodIdentity.invalid(namespace, name, uid);
    if (bad.isEmpty()) {
      return;
    }
    metrics.invalidKubeletPod(endpoint, bad.get());
    String value =
        switch (bad.get()) {
          case NAME -> name;
          case NAMESPACE -> namespace;
          case UID -> uid;
        };
    throw new DecodeException(
        "item "
            + item
            + ": metadata."
            + bad.get().tag()
            + " "
            + Logfmt.quoted(Logfmt.shortened(String.valueOf(value)))
            + " is not a valid Kubernetes "
            + (bad.get() == PodIdentity.Field.UID ? "UID" : bad.get().tag()));
  }

  /** A UID listed twice makes the list malformed: which entry is the pod is anyone's guess. */
  private static void unique(Map<String, Integer> index, String uid, int item)
      throws DecodeException {
    Integer first = index.putIfAbsent(uid, item);
    if (first != null) {
      throw new DecodeException(
          "items " + first + " and " + item + " have the same metadata.uid " + uid);
    }
  }

  private RuntimeView runtimeView(Reply reply) {
    try {
      return new RuntimeView(
          runtimeMemo.decode(reply.bytes(), reply.length(), this::runtimeByUid),
          reply.observedAt());
    } catch (DecodeException e) {
      throw decodeFailure("/runningpods/", e);
    }
  }

  private Map<String, RuntimePod> runtimeByUid(byte[] bytes, int length) throws DecodeException {
    List<RuntimePod> pods = decoder.decodeRunningPods(bytes, 0, length, maxItems, runtimeItems);
    Map<String, RuntimePod> byUid = new LinkedHashMap<>(pods.size() * 2);
    Map<String, Integer> index = new java.util.HashMap<>(pods.size() * 2);
    for (int i = 0; i < pods.size(); i++) {
      RuntimePod p = pods.get(i);
      checkIdentity(Endpoint.RUNNINGPODS, i, p.namespace(), p.name(), p.uid());
      unique(index, p.uid(), i);
      byUid.put(p.uid(), p);
    }
    return Map.copyOf(byUid);
  }

  private KubeletException decodeFailure(String path, DecodeException e) {
    return new KubeletException(
        e.tooLarge() ? FailureReason.TOO_LARGE : FailureReason.DECODE,
        "GET " + path + " from " + where() + ": " + e.getMessage(),
        e);
  }

  protected final KubeletException statusFailure(String path, Reply reply) {
    String text =
        reply.errorText().isBlank()
            ? ""
            : ": " + Logfmt.printable(redact(reply.errorText()).strip());
    return new KubeletException(
        FailureReason.ofStatus(reply.status()),
        "GET " + path + " from " + where() + ": HTTP " + reply.status() + text);
  }

  /** Times every request that went out, counts every failure once, and names the reason. */
  private <T> Future<T> finish(Future<T> result, Endpoint endpoint, String path, long startNanos) {
    return result.transform(
        ar -> {
          metrics.kubeletPoll(endpoint, Duration.ofNanos(System.nanoTime() - startNanos));
          if (ar.succeeded()) {
            return Future.succeededFuture(ar.result());
          }
          KubeletException e =
              redacted(Failures.wrap("GET " + path + " from " + where(), ar.cause()));
          metrics.pollFailure(endpoint, e.reason());
          return Future.failedFuture(e);
        });
  }

  /**
   * The failure as it leaves the source: a message that holds a credential is redacted, and its
   * causes are dropped, whose messages (a header refused by the HTTP client, an echoed body) may
   * hold it too and would reach a log with the stack trace.
   */
  private KubeletException redacted(KubeletException e) {
    boolean leaks = false;
    for (Throwable t = e; t != null && !leaks; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      leaks = m != null && !m.equals(redact(m));
    }
    if (!leaks) {
      return e;
    }
    return new KubeletException(e.reason(), redact(String.valueOf(e.getMessage())));
  }
}
