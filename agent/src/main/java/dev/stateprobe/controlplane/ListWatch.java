package dev.stateprobe.controlplane;

import dev.stateprobe.decode.DecodeException;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's own list/watch of one resource over Vert.x ({@link ApiServerClient}): any group,
 * version and plural, cluster-scoped or in one namespace, optionally narrowed by a field selector
 * (one object by {@code metadata.name}). Each object is handed, as the bytes the API server sent,
 * to a caller's {@link ObjectDecoder}; the decoded objects are kept by key ({@code namespace/name},
 * or {@code name} when cluster-scoped) in an immutable {@link Snapshot}. The pods of a node ({@link
 * PodListWatch}) run on the same machine, keyed by UID.
 *
 * <pre>{@code
 * ListWatch<Policy> policies = ListWatch.of(api,
 *     ResourceRef.cluster("stateprobe.dev", "v1alpha1", "consistencypolicies",
 *         "ConsistencyPolicyList"),
 *     Policy::decode, ListWatch.Settings.defaults());
 * policies.onChange(s -> engine.policiesChanged(s.objects()));
 * policies.start();
 * policies.firstSync().toCompletableFuture().join();   // off the event loop
 * Map<String, Policy> now = policies.snapshot().objects();
 * ...
 * policies.close();
 * }</pre>
 *
 * <h2>How it keeps the view</h2>
 *
 * <ol>
 *   <li><b>Initial sync.</b> A streaming list (a watch with {@code sendInitialEvents=true}, {@code
 *       resourceVersionMatch=NotOlderThan}, {@code allowWatchBookmarks=true}; KEP-3157, beta from
 *       1.32): the current objects arrive as ADDED events, and a BOOKMARK annotated {@code
 *       k8s.io/initial-events-end: "true"} says the list is complete, on the same connection that
 *       then goes on watching. A server that refuses the parameters (400/422: feature gate off, or
 *       older than 1.27) or never sends that bookmark within {@link Settings#initialEventsDeadline}
 *       gets a paged LIST instead ({@code limit}/{@code continue}, {@link Settings#listPageSize} a
 *       page), for as long as this list/watch lives.
 *   <li><b>Watch.</b> From the list's resourceVersion, with bookmarks and a {@code timeoutSeconds}
 *       between 1 and 2 times {@link Settings#watchTimeout} (randomized as client-go does, so the
 *       watches of a cluster do not all end together).
 *   <li><b>Resume, no re-list.</b> When a watch ends (its timeout, a dropped connection, a
 *       read-idle connection, an HTTP error other than 410), the next watch starts from the last
 *       resourceVersion seen: the last event's or bookmark's. Bookmarks keep it recent, so a resume
 *       rarely lands on a compacted version.
 *   <li><b>410 Gone → re-list.</b> An answer 410 to the watch request, or an ERROR event with code
 *       410 on an open watch (what kube-apiserver's watch cache sends for a too-old version), or a
 *       410 to a LIST's {@code continue} token: the objects are listed again from scratch.
 *   <li><b>Back-off.</b> Every retry waits {@link Backoff}'s jittered, doubling delay ({@link
 *       Settings#backoffBase} up to {@link Settings#backoffCap}); it starts again from the base
 *       once a watch delivers anything, or a list completes. A watch that ran its course and ended
 *       cleanly is resumed at once.
 *   <li><b>Bad objects.</b> An object the decoder refuses is counted ({@link #decodeFailures}) and
 *       named in the log once; its last good value stays. Never fatal.
 * </ol>
 *
 * <p>The trust signals are {@link ListWatchState}'s: synced, re-listing (a list under way after the
 * first, or no watch open), relists, watch restarts, resourceVersion. Error texts are logged with
 * the bearer token redacted, and at most 300 characters of an error body.
 *
 * <p>Threading: everything except {@link #snapshot} and the counters runs on one Vert.x context,
 * decoding included; {@link #onChange} listeners run there too, so they must be quick and must not
 * block.
 *
 * @param <T> what one object decodes to (immutable)
 */
public final class ListWatch<T> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ListWatch.class);

  private static final int FIRST_FRAME_BUFFER = 64 * 1024;

  /**
   * 256 MiB: a page of 100 objects as large as etcd stores (1.5 MB), with room; what it stops is a
   * server or proxy that never ends its reply.
   */
  public static final long DEFAULT_MAX_LIST_BODY_BYTES = 256L * 1024 * 1024;

  /**
   * Objects per page of a paged initial list: a page is decoded whole, and a 1000-pod node's pod
   * list is ~4 MB.
   */
  public static final int LIST_PAGE_SIZE = 100;

  /**
   * @param backoffBase the first retry's delay (halved at random)
   * @param backoffCap the longest delay
   * @param watchTimeout the watch's {@code timeoutSeconds} is 1 to 2 times this
   * @param initialEventsDeadline a streaming list whose end bookmark has not come by then is given
   *     up for a paged LIST
   * @param streamingList whether to try a streaming list at all
   * @param pingInterval WebSocket pings on an open watch; no frame and no pong for 2 intervals and
   *     5 s ends it (a half-open connection)
   * @param listPageSize objects per page of a LIST ({@code limit})
   * @param maxListBodyBytes a LIST page larger than this is refused (the connection closed) and
   *     retried after back-off; a watch event is limited by the client's WebSocket message size
   */
  public record Settings(
      Duration backoffBase,
      Duration backoffCap,
      Duration watchTimeout,
      Duration initialEventsDeadline,
      boolean streamingList,
      Duration pingInterval,
      int listPageSize,
      long maxListBodyBytes) {

    public Settings {
      Objects.requireNonNull(backoffBase, "backoffBase");
      Objects.requireNonNull(backoffCap, "backoffCap");
      Objects.requireNonNull(watchTimeout, "watchTimeout");
      Objects.requireNonNull(initialEventsDeadline, "initialEventsDeadline");
      Objects.requireNonNull(pingInterval, "pingInterval");
      if (listPageSize < 1) {
        throw new IllegalArgumentException("listPageSize must be positive, got " + listPageSize);
      }
      if (maxListBodyBytes < 1) {
        throw new IllegalArgumentException(
            "maxListBodyBytes must be positive, got " + maxListBodyBytes);
      }
    }

    /**
     * Those of the pod list/watch: back-off 0.8 s to 30 s, 5 min watches, pages of 100 of at most
     * {@link #DEFAULT_MAX_LIST_BODY_BYTES}.
     */
    public static Settings defaults() {
      return new Settings(
          Duration.ofMillis(800),
          Duration.ofSeconds(30),
          Duration.ofMinutes(5),
          Duration.ofSeconds(60),
          true,
          Duration.ofSeconds(30),
          LIST_PAGE_SIZE,
          DEFAULT_MAX_LIST_BODY_BYTES);
    }

    public Settings withBackoff(Duration base, Duration cap) {
      return new Settings(
          base,
          cap,
          watchTimeout,
          initialEventsDeadline,
          streamingList,
          pingInterval,
          listPageSize,
          maxListBodyBytes);
    }

    public Settings withStreamingList(boolean on) {
      return new Settings(
          backoffBase,
          backoffCap,
          watchTimeout,
          initialEventsDeadline,
          on,
          pingInterval,
          listPageSize,
          maxListBodyBytes);
    }

    public Settings withWatchTimeout(Duration timeout) {
      return new Settings(
          backoffBase,
          backoffCap,
          timeout,
          initialEventsDeadline,
          streamingList,
          pingInterval,
          listPageSize,
          maxListBodyBytes);
    }

    public Settings withPingInterval(Duration interval) {
      return new Settings(
          backoffBase,
          backoffCap,
          watchTimeout,
          initialEventsDeadline,
          streamingList,
          interval,
          listPageSize,
          maxListBodyBytes);
    }

    public Settings withListPageSize(int size) {
      return new Settings(
          backoffBase,
          backoffCap,
          watchTimeout,
          initialEventsDeadline,
          streamingList,
          pingInterval,
          size,
          maxListBodyBytes);
    }

    public Settings withMaxListBodyBytes(long bytes) {
      return new Settings(
          backoffBase,
          backoffCap,
          watchTimeout,
          initialEventsDeadline,
          streamingList,
          pingInterval,
          listPageSize,
          bytes);
    }
  }

  /**
   * One immutable moment of the view.
   *
   * @param objects by {@code namespace/name} ({@code name} when cluster-scoped)
   * @param resourceVersion the list's, then the last event's or bookmark's; {@code null} before
   * @param synced the first list completed and a watch is open after it
   * @param relisting once synced: a list is under way or no watch is open (the view may be stale)
   * @param relists completed lists after the first
   * @param watchRestarts watches the API server accepted after the first
   */
  public record Snapshot<T>(
      Map<String, T> objects,
      String resourceVersion,
      boolean synced,
      boolean relisting,
      long relists,
      long watchRestarts) {
    public Snapshot {
      objects = Map.copyOf(objects);
    }
  }

  /** The generic view: a frozen copy of the objects, remade after a change, and the listeners. */
  private static final class ObjectsState<T> extends ListWatchState<T> {
    private final List<Consumer<Snapshot<T>>> listeners = new CopyOnWriteArrayList<>();
    private final String what;
    // Guarded by lock.
    private Map<String, T> frozen = Map.of();
    private boolean stale;

    ObjectsState(Clock clock, String what) {
      super(clock);
      this.what = what;
    }

    @Override
    protected void dirty() {
      stale = true;
    }

    Snapshot<T> snapshot() {
      synchronized (lock) {
        if (stale) {
          frozen = Map.copyOf(objects);
          stale = false;
        }
        return new Snapshot<>(
            frozen,
            resourceVersion,
            firstSynced,
            firstSynced && (listing || !watching),
            relists,
            Math.max(0, watchesOpened - 1));
      }
    }

    @Override
    protected void changed() {
      if (listeners.isEmpty()) {
        return;
      }
      Snapshot<T> s = snapshot();
      for (Consumer<Snapshot<T>> l : listeners) {
        try {
          l.accept(s);
        } catch (RuntimeException e) {
          log.warn("a listener of {} failed: {}", what, e.toString());
        }
      }
    }
  }

  private enum Phase {
    IDLE,
    LISTING,
    STREAMING_LIST,
    WATCHING
  }

  private final ApiServerClient api;
  private final ResourceRef ref;
  private final String what;
  private final String selector;
  private final boolean keyByUid;
  private final ObjectDecoder<T> decoder;
  private final ApiJson envelopes = new ApiJson();
  private final ListWatchState<T> state;
  private final ObjectsState<T> objects;
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
  private Map<String, T> listing;
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
   * A list/watch of {@code ref}, its objects decoded by {@code decoder}, with the system clock and
   * a thread-local random for the jitter.
   *
   * @param api the agent's API server client (not closed here)
   */
  public static <T> ListWatch<T> of(
      ApiServerClient api, ResourceRef ref, ObjectDecoder<T> decoder, Settings settings) {
    return of(
        api, ref, decoder, settings, Clock.systemUTC(), ThreadLocalRandom.current()::nextDouble);
  }

  /**
   * @param clock the time of a re-list
   * @param random jitter of back-off and watch timeouts, values in [0, 1)
   */
  public static <T> ListWatch<T> of(
      ApiServerClient api,
      ResourceRef ref,
      ObjectDecoder<T> decoder,
      Settings settings,
      Clock clock,
      DoubleSupplier random) {
    ObjectsState<T> state =
        new ObjectsState<>(Objects.requireNonNull(clock, "clock"), ref.describe());
    return new ListWatch<>(
        api, ref, ref.describe(), false, decoder, state, state, settings, random);
  }

  /** The machine itself; {@code state} is the pods' view when keyed by UID. */
  ListWatch(
      ApiServerClient api,
      ResourceRef ref,
      String what,
      boolean keyByUid,
      ObjectDecoder<T> decoder,
      ListWatchState<T> state,
      ObjectsState<T> objects,
      Settings settings,
      DoubleSupplier random) {
    this.api = Objects.requireNonNull(api, "api");
    this.ref = Objects.requireNonNull(ref, "ref");
    this.what = what;
    this.selector = ref.selectorQuery();
    this.keyByUid = keyByUid;
    this.decoder = Objects.requireNonNull(decoder, "decoder");
    this.state = Objects.requireNonNull(state, "state");
    this.objects = objects;
    this.settings = Objects.requireNonNull(settings, "settings");
    this.random = Objects.requireNonNull(random, "random");
    this.backoff = new Backoff(settings.backoffBase(), settings.backoffCap(), random);
    this.vertx = api.vertx();
    this.context = vertx.getOrCreateContext();
  }

  /** Starts the first list and returns at once. */
  public void start() {
    if (closed) {
      throw new IllegalStateException("the list/watch of " + what + " is closed");
    }
    if (started) {
      return;
    }
    started = true;
    log.info("list/watch of {} started (API server {})", what, api.masterUrl());
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
        ref.path()
            + "?"
            + selector
            + "limit="
            + settings.listPageSize()
            + (continueToken == null
                ? ""
                : "&continue=" + URLEncoder.encode(continueToken, StandardCharsets.UTF_8));
    api.get(uri, settings.maxListBodyBytes())
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
      page = envelopes.page(bytes, 0, bytes.length, ref.listKind());
    } catch (DecodeException e) {
      retry("list", "malformed " + ref.listKind() + ": " + e.getMessage(), this::sync);
      return;
    }
    for (ApiJson.Item item : page.items()) {
      String key = key(item.uid(), item.namespace(), item.name());
      T r = decode(bytes, item.span(), key, item.namespace(), item.name());
      if (r == null && key != null) {
        // As for an event: the last good value stays, so an object that cannot be decoded now is
        // not missing from the view (for pods that would read as a drift).
        r = state.get(key);
      }
      if (r != null) {
        listing.put(key, r);
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
    Map<String, T> records = listing;
    listing = null;
    attempt = 0;
    streamingFailures = 0;
    lastResourceVersion = resourceVersion;
    state.listed(records, resourceVersion);
  }

  private void streamingList() {
    phase = Phase.STREAMING_LIST;
    String uri =
        ref.path()
            + "?watch=true&"
            + selector
            + "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion="
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
        ref.path()
            + "?watch=true&"
            + selector
            + "resourceVersion="
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
            log.debug("watch of {}: {}", what, e.toString());
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
                    "watch of {}: nothing received for {} ms; reconnecting",
                    what,
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
      log.warn("watch of {}: an event could not be read: {}", what, ex.getMessage());
      return;
    }
    switch (e.type()) {
      case "ADDED", "MODIFIED" -> {
        sawFrame();
        String key = key(e.uid(), e.namespace(), e.name());
        T r = decode(bytes, e.object(), key, e.namespace(), e.name());
        if (phase == Phase.STREAMING_LIST) {
          if (r == null && key != null) {
            r = state.get(key);
          }
          if (r != null) {
            listing.put(key, r);
          }
        } else {
          lastResourceVersion = e.resourceVersion();
          if (r != null) {
            state.put(key, r, e.resourceVersion());
          } else {
            state.at(e.resourceVersion());
          }
        }
      }
      case "DELETED" -> {
        sawFrame();
        String key = key(e.uid(), e.namespace(), e.name());
        if (phase == Phase.STREAMING_LIST) {
          listing.remove(key);
        } else {
          lastResourceVersion = e.resourceVersion();
          reportedUndecodable.remove(key);
          state.remove(key, e.resourceVersion());
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
      default -> log.warn("watch of {}: event of unknown type {} ignored", what, e.type());
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

  private void retry(String operation, String why, Runnable next) {
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
        "{} of {} failed: {}; retrying in {} ms",
        operation,
        what,
        api.redact(why),
        delay.toMillis());
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

  private String key(String uid, String namespace, String name) {
    if (keyByUid) {
      return uid;
    }
    if (name == null) {
      return null;
    }
    return namespace == null ? name : namespace + "/" + name;
  }

  /** Never throws: an object that does not decode is counted and logged once. */
  private T decode(byte[] bytes, ApiJson.Span span, String key, String namespace, String name) {
    try {
      if (key == null) {
        throw new DecodeException(keyByUid ? "no metadata.uid" : "no metadata.name");
      }
      T r = decoder.decode(bytes, span.offset(), span.length());
      if (r == null) {
        throw new DecodeException("the decoder returned nothing");
      }
      reportedUndecodable.remove(key);
      return r;
    } catch (Exception e) {
      decodeFailures.incrementAndGet();
      if (reportedUndecodable.add(key == null ? "" : key)) {
        log.warn(
            "{} {}{} of {} could not be decoded ({}); keeping its last good value, if any (logged"
                + " once per object)",
            ref.listKind().substring(0, ref.listKind().length() - "List".length()),
            namespace == null ? "" : namespace + "/",
            name,
            what,
            api.redact(String.valueOf(e.getMessage())));
      }
      return null;
    }
  }

  private String message(Buffer body) {
    if (body == null || body.length() == 0) {
      return "(no body)";
    }
    String s = body.getString(0, Math.min(body.length(), 300), "UTF-8");
    return api.redact(s.replace('\n', ' '));
  }

  /**
   * The objects now, immutable. Cheap, safe from any thread.
   *
   * @throws IllegalStateException for the pods' list/watch, whose view is {@link PodListWatch}'s
   */
  public Snapshot<T> snapshot() {
    if (objects == null) {
      throw new IllegalStateException("the pod list/watch's view is PodListWatch.snapshot(now)");
    }
    return objects.snapshot();
  }

  /**
   * Calls {@code listener} with the new snapshot after every change of the objects (a completed
   * list, an applied event) and when the first sync completes; on the list/watch's Vert.x context,
   * so it must not block. A listener that throws is logged and kept.
   */
  public void onChange(Consumer<Snapshot<T>> listener) {
    if (objects == null) {
      throw new IllegalStateException("the pod list/watch has no listeners");
    }
    objects.listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Completes (once, on any thread) when a first complete list has been applied and a watch is open
   * after it.
   */
  public CompletionStage<Void> firstSync() {
    return state.firstSync();
  }

  /** What is listed and watched. */
  public ResourceRef resource() {
    return ref;
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

  /** Object versions (or events) that could not be decoded. */
  public long decodeFailures() {
    return decodeFailures.get();
  }

  /** LIST requests sent (pages included); 0 while streaming lists work. */
  public long listRequests() {
    return lists.get();
  }

  /** Watch connections the API server accepted (streaming lists included). */
  public long watchesOpened() {
    return watches.get();
  }

  /** Whether the initial sync used a streaming list; empty until the server told. */
  public Optional<Boolean> streamingListSupported() {
    return Optional.ofNullable(streamingSupported);
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
    if (!Context.isOnVertxThread()) {
      try {
        done.future().await(5, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        // stopping anyway
      }
    }
  }
}
