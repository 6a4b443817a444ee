package dev.stateprobe.controlplane;

import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketFrame;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control-plane view: the agent's own list/watch of the pods with {@code spec.nodeName=NODE},
 * over Vert.x ({@link ApiServerClient}), each pod decoded by {@link PodJsonDecoder} straight from
 * the bytes the API server sent, as the kubelet's {@code /pods} is. No fabric8 informer, no fabric8
 * model object.
 *
 * <h2>How it keeps the view</h2>
 *
 * <ol>
 *   <li><b>Initial sync.</b> A streaming list (a watch with {@code sendInitialEvents=true}, {@code
 *       resourceVersionMatch=NotOlderThan}, {@code allowWatchBookmarks=true}; KEP-3157, beta from
 *       1.32): the current pods arrive as ADDED events, and a BOOKMARK annotated {@code
 *       k8s.io/initial-events-end: "true"} says the list is complete, on the same connection that
 *       then goes on watching. A server that refuses the parameters (400/422: feature gate off, or
 *       older than 1.27) or never sends that bookmark within {@link Settings#initialEventsDeadline}
 *       gets a paged LIST instead ({@code limit}/{@code continue}, {@link #LIST_PAGE_SIZE} a page),
 *       for as long as this source lives.
 *   <li><b>Watch.</b> From the list's resourceVersion, with bookmarks and a {@code timeoutSeconds}
 *       between 1 and 2 times {@link Settings#watchTimeout} (randomized as client-go does, so the
 *       watches of a cluster do not all end together).
 *   <li><b>Resume, no re-list.</b> When a watch ends (its timeout, a dropped connection, a
 *       read-idle connection, an HTTP error other than 410), the next watch starts from the last
 *       resourceVersion seen: the last event's or bookmark's. Bookmarks keep it recent, so a resume
 *       rarely lands on a compacted version.
 *   <li><b>410 Gone → re-list.</b> An answer 410 to the watch request, or an ERROR event with code
 *       410 on an open watch (what kube-apiserver's watch cache sends for a too-old version), or a
 *       410 to a LIST's {@code continue} token: the records are listed again from scratch.
 *   <li><b>Back-off.</b> Every retry waits {@link Backoff}'s jittered, doubling delay ({@link
 *       Settings#backoffBase} up to {@link Settings#backoffCap}); it starts again from the base
 *       once a watch delivers anything, or a list completes. A watch that ran its course and ended
 *       cleanly is resumed at once.
 * </ol>
 *
 * <p>The trust signals are {@link PodViewState}'s: synced, re-listing (a list under way after the
 * first, or no watch open), relists, watch restarts, resourceVersion.
 *
 * <p>Threading: everything except {@link #snapshot} and the counters runs on one Vert.x context;
 * decoding one event, or one page of {@link #LIST_PAGE_SIZE} pods (~2 ms), runs there too.
 */
public final class PodListWatch implements ControlPlaneSource {
  private static final Logger log = LoggerFactory.getLogger(PodListWatch.class);

  /** Pods per page of a LIST: a page is decoded whole, and a 1000-pod node's list is ~4 MB. */
  public static final int LIST_PAGE_SIZE = 100;

  private static final int FIRST_FRAME_BUFFER = 64 * 1024;

  /**
   * @param backoffBase the first retry's delay (halved at random)
   * @param backoffCap the longest delay
   * @param watchTimeout the watch's {@code timeoutSeconds} is 1 to 2 times this
   * @param initialEventsDeadline a streaming list whose end bookmark has not come by then is given
   *     up for a paged LIST
   * @param streamingList whether to try a streaming list at all
   * @param pingInterval WebSocket pings on an open watch; no frame and no pong for 2 intervals and
   *     5 s ends it (a half-open connection)
   */
  public record Settings(
      Duration backoffBase,
      Duration backoffCap,
      Duration watchTimeout,
      Duration initialEventsDeadline,
      boolean streamingList,
      Duration pingInterval,
      int listPageSize) {

    public static Settings defaults() {
      return new Settings(
          Duration.ofMillis(800),
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          Duration.ofSeconds(60),
          true,
          Duration.ofSeconds(30),
          LIST_PAGE_SIZE);
    }

    public Settings withBackoff(Duration base, Duration cap) {
      return new Settings(
          base,
          cap,
          watchTimeout,
          initialEventsDeadline,
          streamingList,
          pingInterval,
          listPageSize);
    }

    public Settings withStreamingList(boolean on) {
      return new Settings(
          backoffBase,
          backoffCap,
          watchTimeout,
          initialEventsDeadline,
          on,
          pingInterval,
          listPageSize);
    }

    public Settings withWatchTimeout(Duration timeout) {
      return new Settings(
          backoffBase,
          backoffCap,
          timeout,
          initialEventsDeadline,
          streamingList,
          pingInterval,
          listPageSize);
    }

    public Settings withPingInterval(Duration interval) {
      return new Settings(
          backoffBase,
          backoffCap,
          watchTimeout,
          initialEventsDeadline,
          streamingList,
          interval,
          listPageSize);
    }

    public Settings withListPageSize(int size) {
      return new Settings(
          backoffBase,
          backoffCap,
          watchTimeout,
          initialEventsDeadline,
          streamingList,
          pingInterval,
          size);
    }
  }

  private enum Phase {
    IDLE,
    LISTING,
    STREAMING_LIST,
    WATCHING
  }

  private final ApiServerClient api;
  private final String nodeName;
  private final String selector;
  private final PodJsonDecoder decoder;
  private final ApiJson envelopes = new ApiJson();
  private final PodViewState state;
  private final Settings settings;
  private final Backoff backoff;
  private final DoubleSupplier random;
  private final Vertx vertx;
  private final Context context;
  private final AtomicLong decodeFailures = new AtomicLong();
  private final AtomicLong lists = new AtomicLong();
  private final AtomicLong watches = new AtomicLong();

  // Confined to context.
  private Phase phase = Phase.IDLE;
  private int generation;
  private int attempt;
  private WebSocket socket;
  private String lastResourceVersion;
  private volatile Boolean streamingSupported;
  private int streamingFailures;
  private Map<String, PodRecord> listing;
  private long deadlineTimer = -1;
  private long pingTimer = -1;
  private long retryTimer = -1;
  private long lastFrameNanos;
  private long watchOpenedNanos;
  private boolean sawFrame;
  private byte[] frame = new byte[FIRST_FRAME_BUFFER];
  private int frameLength;
  private final Set<String> reportedUndecodable = new HashSet<>();
  private volatile boolean started;
  private volatile boolean closed;

  /**
   * @param api the agent's API server client (not closed here)
   * @param nodeName the node whose pods to list and watch (the value of {@code spec.nodeName})
   * @param decoder the decoder the kubelet view uses
   * @param clock the time of {@code lastRelistAt}
   * @param random jitter of back-off and watch timeouts, values in [0, 1)
   */
  public PodListWatch(
      ApiServerClient api,
      String nodeName,
      PodJsonDecoder decoder,
      Clock clock,
      DoubleSupplier random,
      Settings settings) {
    this.api = Objects.requireNonNull(api, "api");
    if (nodeName == null || nodeName.isBlank()) {
      throw new IllegalArgumentException("nodeName is required, got '" + nodeName + "'");
    }
    this.nodeName = nodeName;
    this.selector =
        "fieldSelector=" + URLEncoder.encode("spec.nodeName=" + nodeName, StandardCharsets.UTF_8);
    this.decoder = Objects.requireNonNull(decoder, "decoder");
    this.state = new PodViewState(Objects.requireNonNull(clock, "clock"));
    this.settings = Objects.requireNonNull(settings, "settings");
    this.random = Objects.requireNonNull(random, "random");
    this.backoff = new Backoff(settings.backoffBase(), settings.backoffCap(), random);
    this.vertx = api.vertx();
    this.context = vertx.getOrCreateContext();
  }

  /** Starts the first list and returns at once. */
  @Override
  public void start() {
    if (closed) {
      throw new IllegalStateException("the pod list/watch for node " + nodeName + " is closed");
    }
    if (started) {
      return;
    }
    started = true;
    log.info(
        "pod list/watch started for node {} (field selector spec.nodeName={}, API server {})",
        nodeName,
        nodeName,
        api.masterUrl());
    context.runOnContext(v -> sync());
  }

  // ---- list ----

  private void sync() {
    if (closed) {
      return;
    }
    state.listStarted();
    listing = new HashMap<>();
    if (settings.streamingList() && !Boolean.FALSE.equals(streamingSupported)) {
      streamingList();
    } else {
      list(null);
    }
  }

  private void list(String continueToken) {
    phase = Phase.LISTING;
    int gen = ++generation;
    lists.incrementAndGet();
    String uri =
        "/api/v1/pods?"
            + selector
            + "&limit="
            + settings.listPageSize()
            + (continueToken == null
                ? ""
                : "&continue=" + URLEncoder.encode(continueToken, StandardCharsets.UTF_8));
    api.get(uri)
        .onComplete(
            ar -> {
              if (closed || gen != generation) {
                return;
              }
              if (ar.failed()) {
                retry("list", ar.cause().toString(), this::sync);
                return;
              }
              ApiServerClient.Reply reply = ar.result();
              if (reply.status() == 410) {
                // The continue token expired (compacted) between two pages: start over.
                retry("list", "410 Gone: " + message(reply.body()), this::sync);
                return;
              }
              if (reply.status() != 200) {
                if (reply.status() == 401) {
                  api.credentialsRejected();
                }
                retry("list", "HTTP " + reply.status() + ": " + message(reply.body()), this::sync);
                return;
              }
              page(reply.body());
            });
  }

  private void page(Buffer body) {
    byte[] bytes = body.getBytes();
    ApiJson.Page page;
    try {
      page = envelopes.page(bytes, 0, bytes.length);
    } catch (DecodeException e) {
      retry("list", "malformed PodList: " + e.getMessage(), this::sync);
      return;
    }
    for (ApiJson.Item item : page.items()) {
      PodRecord r = decode(bytes, item.span(), item.uid(), null, null);
      if (r == null && item.uid() != null) {
        // As for an event: the last good record stays, so a pod that cannot be decoded now is
        // not missing from the view (which would read as a drift).
        r = state.record(item.uid());
      }
      if (r != null) {
        listing.put(r.uid(), r);
      }
    }
    if (page.continueToken() != null) {
      list(page.continueToken());
      return;
    }
    listCompleted(page.resourceVersion());
    watch();
  }

  private void listCompleted(String resourceVersion) {
    Map<String, PodRecord> records = listing;
    listing = null;
    attempt = 0;
    streamingFailures = 0;
    lastResourceVersion = resourceVersion;
    state.listed(records, resourceVersion);
  }

  private void streamingList() {
    phase = Phase.STREAMING_LIST;
    String uri =
        "/api/v1/pods?watch=true&"
            + selector
            + "&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion="
            + "&allowWatchBookmarks=true&timeoutSeconds="
            + timeoutSeconds();
    int gen = connect(uri);
    deadlineTimer =
        vertx.setTimer(
            settings.initialEventsDeadline().toMillis(),
            id -> {
              deadlineTimer = -1;
              if (gen == generation && phase == Phase.STREAMING_LIST && !closed) {
                log.warn(
                    "the API server sent no end of its initial events within {}: it does not"
                        + " support streaming lists; listing in pages from now on",
                    settings.initialEventsDeadline());
                streamingSupported = false;
                abandonSocket();
                listing = new HashMap<>();
                list(null);
              }
            });
  }

  // ---- watch ----

  private void watch() {
    phase = Phase.WATCHING;
    String uri =
        "/api/v1/pods?watch=true&"
            + selector
            + "&resourceVersion="
            + URLEncoder.encode(
                lastResourceVersion == null ? "" : lastResourceVersion, StandardCharsets.UTF_8)
            + "&allowWatchBookmarks=true&timeoutSeconds="
            + timeoutSeconds();
    connect(uri);
  }

  private long timeoutSeconds() {
    long base = Math.max(1, settings.watchTimeout().toSeconds());
    return base + (long) (random.getAsDouble() * base);
  }

  private int connect(String uri) {
    int gen = ++generation;
    Phase connecting = phase;
    api.watch(uri)
        .onComplete(
            ar -> {
              if (closed || gen != generation) {
                if (ar.succeeded()) {
                  ar.result().close();
                }
                return;
              }
              if (ar.failed()) {
                connectFailed(connecting, ar.cause());
                return;
              }
              opened(gen, ar.result());
            });
    return gen;
  }

  private void connectFailed(Phase connecting, Throwable cause) {
    cancelDeadline();
    int status = cause instanceof UpgradeRejectedException u ? u.getStatus() : 0;
    String why =
        status == 0
            ? cause.toString()
            : "HTTP " + status + ": " + message(((UpgradeRejectedException) cause).getBody());
    if (connecting == Phase.STREAMING_LIST && (status == 400 || status == 422)) {
      log.info("the API server refused a streaming list ({}); listing in pages from now on", why);
      streamingSupported = false;
      listing = new HashMap<>();
      list(null);
      return;
    }
    if (status == 401) {
      api.credentialsRejected();
    }
    if (status == 410) {
      retry("watch", why + "; re-listing", this::sync);
    } else if (connecting == Phase.STREAMING_LIST) {
      retry("streaming list", why, this::sync);
    } else {
      retry("watch", why, this::watch);
    }
  }

  private void opened(int gen, WebSocket ws) {
    socket = ws;
    sawFrame = false;
    frameLength = 0;
    lastFrameNanos = System.nanoTime();
    watchOpenedNanos = lastFrameNanos;
    watches.incrementAndGet();
    state.watchOpened();
    ws.frameHandler(f -> onFrame(gen, f));
    ws.pongHandler(b -> lastFrameNanos = System.nanoTime());
    ws.exceptionHandler(
        e -> {
          if (gen == generation && !closed) {
            log.debug("pod watch for node {}: {}", nodeName, e.toString());
          }
        });
    ws.closeHandler(v -> onClosed(gen));
    long ping = settings.pingInterval().toMillis();
    pingTimer =
        vertx.setPeriodic(
            ping,
            id -> {
              if (gen != generation || closed) {
                vertx.cancelTimer(id);
                return;
              }
              if (System.nanoTime() - lastFrameNanos > (2 * ping + 5_000) * 1_000_000L) {
                log.warn(
                    "pod watch for node {}: nothing received for {} ms; reconnecting",
                    nodeName,
                    (System.nanoTime() - lastFrameNanos) / 1_000_000L);
                abandonSocket();
                resumeAfter(false);
                return;
              }
              ws.writePing(Buffer.buffer("state-probe"));
            });
  }

  private void onFrame(int gen, WebSocketFrame f) {
    if (gen != generation || closed) {
      return;
    }
    lastFrameNanos = System.nanoTime();
    if (!(f.isText() || f.isBinary() || f.isContinuation())) {
      return;
    }
    Buffer data = f.binaryData();
    int n = data.length();
    if (frameLength + n > frame.length) {
      byte[] bigger = new byte[Math.max(frame.length * 2, frameLength + n)];
      System.arraycopy(frame, 0, bigger, 0, frameLength);
      frame = bigger;
    }
    data.getBytes(0, n, frame, frameLength);
    frameLength += n;
    if (!f.isFinal()) {
      return;
    }
    int length = frameLength;
    frameLength = 0;
    // A reply may end in a newline (the HTTP watch's framing); it is not part of the event.
    while (length > 0 && (frame[length - 1] == '\n' || frame[length - 1] == '\r')) {
      length--;
    }
    if (length > 0) {
      event(frame, length);
    }
  }

  private void event(byte[] bytes, int length) {
    ApiJson.Event e;
    try {
      e = envelopes.event(bytes, 0, length);
    } catch (DecodeException ex) {
      decodeFailures.incrementAndGet();
      log.warn("pod watch for node {}: an event could not be read: {}", nodeName, ex.getMessage());
      return;
    }
    switch (e.type()) {
      case "ADDED", "MODIFIED" -> {
        sawFrame();
        PodRecord r = decode(bytes, e.object(), e.uid(), e.namespace(), e.name());
        if (phase == Phase.STREAMING_LIST) {
          if (r == null && e.uid() != null) {
            r = state.record(e.uid());
          }
          if (r != null) {
            listing.put(r.uid(), r);
          }
        } else {
          lastResourceVersion = e.resourceVersion();
          if (r != null) {
            state.put(r, e.resourceVersion());
          } else {
            state.at(e.resourceVersion());
          }
        }
      }
      case "DELETED" -> {
        sawFrame();
        if (phase == Phase.STREAMING_LIST) {
          listing.remove(e.uid());
        } else {
          lastResourceVersion = e.resourceVersion();
          reportedUndecodable.remove(e.uid());
          state.remove(e.uid(), e.resourceVersion());
        }
      }
      case "BOOKMARK" -> {
        sawFrame();
        if (phase == Phase.STREAMING_LIST) {
          if (e.initialEventsEnd()) {
            cancelDeadline();
            if (!Boolean.TRUE.equals(streamingSupported)) {
              log.info("the API server supports streaming lists; the initial sync used one");
            }
            streamingSupported = true;
            phase = Phase.WATCHING;
            listCompleted(e.resourceVersion());
          }
        } else if (e.resourceVersion() != null) {
          lastResourceVersion = e.resourceVersion();
          state.at(e.resourceVersion());
        }
      }
      case "ERROR" -> {
        abandonSocket();
        if (e.code() == 410) {
          retry("watch", "410 Gone (" + e.message() + "); re-listing", this::sync);
        } else if (phase == Phase.STREAMING_LIST) {
          retry("streaming list", "ERROR " + e.code() + ": " + e.message(), this::sync);
        } else {
          retry("watch", "ERROR " + e.code() + ": " + e.message(), this::watch);
        }
      }
      default ->
          log.warn("pod watch for node {}: event of unknown type {} ignored", nodeName, e.type());
    }
  }

  private void sawFrame() {
    if (!sawFrame) {
      sawFrame = true;
      attempt = 0;
    }
  }

  private void onClosed(int gen) {
    if (gen != generation || closed) {
      return;
    }
    socket = null;
    cancelPing();
    state.watchClosed();
    resumeAfter(true);
  }

  /** The watch ended without an ERROR: resume it, or restart a streaming list that broke off. */
  private void resumeAfter(boolean serverEnded) {
    if (phase == Phase.STREAMING_LIST) {
      cancelDeadline();
      streamingFailures++;
      if (streamingFailures >= 3 && !Boolean.TRUE.equals(streamingSupported)) {
        log.warn("streaming lists broke off {} times; listing in pages from now on", 3);
        streamingSupported = false;
      }
      retry("streaming list", "the connection ended before the initial events did", this::sync);
      return;
    }
    boolean ranItsCourse =
        serverEnded
            && sawFrame
            && System.nanoTime() - watchOpenedNanos >= settings.watchTimeout().toNanos() / 2;
    if (ranItsCourse) {
      watch();
    } else {
      retry("watch", "the watch ended", this::watch);
    }
  }

  private void retry(String what, String why, Runnable next) {
    if (closed) {
      return;
    }
    cancelDeadline();
    if (socket != null) {
      abandonSocket();
    }
    phase = Phase.IDLE;
    ++generation;
    Duration delay = backoff.delay(attempt++);
    log.warn(
        "pod {} for node {} failed: {}; retrying in {} ms", what, nodeName, why, delay.toMillis());
    retryTimer =
        vertx.setTimer(
            Math.max(1, delay.toMillis()),
            id -> {
              retryTimer = -1;
              context.runOnContext(v -> next.run());
            });
  }

  /** Closes the current socket and forgets it: its close is not an event any more. */
  private void abandonSocket() {
    WebSocket ws = socket;
    socket = null;
    ++generation;
    cancelPing();
    state.watchClosed();
    if (ws != null) {
      ws.close();
    }
  }

  private void cancelPing() {
    if (pingTimer >= 0) {
      vertx.cancelTimer(pingTimer);
      pingTimer = -1;
    }
  }

  private void cancelDeadline() {
    if (deadlineTimer >= 0) {
      vertx.cancelTimer(deadlineTimer);
      deadlineTimer = -1;
    }
  }

  /** Never throws: a pod that does not decode is counted and logged once. */
  private PodRecord decode(
      byte[] bytes, ApiJson.Span span, String uid, String namespace, String name) {
    try {
      PodRecord r = decoder.decodePod(bytes, span.offset(), span.length());
      reportedUndecodable.remove(r.uid());
      return r;
    } catch (DecodeException | RuntimeException e) {
      decodeFailures.incrementAndGet();
      String key = uid != null ? uid : namespace + "/" + name;
      if (reportedUndecodable.add(key)) {
        log.warn(
            "pod {}/{} (uid {}) on node {} could not be decoded ({}); keeping its last good"
                + " record, if any (logged once per pod)",
            namespace,
            name,
            uid,
            nodeName,
            e.getMessage());
      }
      return null;
    }
  }

  private static String message(Buffer body) {
    if (body == null || body.length() == 0) {
      return "(no body)";
    }
    String s = body.getString(0, Math.min(body.length(), 300), "UTF-8");
    return s.replace('\n', ' ');
  }

  @Override
  public ControlPlaneView snapshot(Instant now) {
    return state.snapshot(now);
  }

  @Override
  public CompletionStage<Void> firstSync() {
    return state.firstSync();
  }

  /** A first complete list has been applied. */
  public boolean hasSynced() {
    return state.synced();
  }

  /** Completed lists after the first. */
  public long relists() {
    return state.relists();
  }

  /** Watches the API server accepted after the first one. */
  public long watchRestarts() {
    return state.watchRestarts();
  }

  /** Pod versions (or events) that could not be decoded. */
  public long decodeFailures() {
    return decodeFailures.get();
  }

  /** LIST requests sent (pages included); 0 while streaming lists work. */
  public long listRequests() {
    return lists.get();
  }

  /** Whether the initial sync used a streaming list; empty until the server told. */
  public java.util.Optional<Boolean> streamingListSupported() {
    return java.util.Optional.ofNullable(streamingSupported);
  }

  /**
   * Stops listing and watching. Idempotent; the API client stays open. Off a Vert.x thread it waits
   * (at most 5 s) for the watch's connection to close.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    context.runOnContext(
        v -> {
          ++generation;
          cancelDeadline();
          cancelPing();
          if (retryTimer >= 0) {
            vertx.cancelTimer(retryTimer);
          }
          WebSocket ws = socket;
          socket = null;
          if (ws != null) {
            ws.close().onComplete(x -> done.tryComplete());
          } else {
            done.tryComplete();
          }
        });
    if (!io.vertx.core.Context.isOnVertxThread()) {
      try {
        done.future().await(5, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        // stopping anyway
      }
    }
  }
}
