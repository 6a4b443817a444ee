package dev.stateprobe.sim;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.crud.AttributeSet;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.fabric8.mockwebserver.internal.MockDispatcher;
import io.fabric8.mockwebserver.internal.SimpleRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sits in front of fabric8's CRUD mock: logs every request, injects the faults {@link SimApiServer}
 * asks for, and applies {@code spec.nodeName} field selectors to pod lists and watches (see {@link
 * SimApiNodeSelector}). Runs on the mock server's Vert.x event loop: nothing here blocks.
 */
final class SimApiDispatcher extends Dispatcher {
  static final String BACKSTAGE_HEADER = "X-State-Probe-Sim";
  static final String BACKSTAGE_VALUE = "backstage";
  private static final int LOG_LIMIT = 20_000;

  private final KubernetesCrudDispatcher crud =
      new KubernetesCrudDispatcher() {
        @Override
        public void processEvent(
            String path,
            AttributeSet pathAttributes,
            AttributeSet oldAttributes,
            GenericKubernetesResource resource,
            String newValue) {
          // Every change of the store passes here: the old value is still in the store.
          Map.Entry<AttributeSet, String> old =
              oldAttributes == null ? null : findResource(oldAttributes);
          super.processEvent(path, pathAttributes, oldAttributes, resource, newValue);
          history().changed(old == null ? null : old.getValue(), newValue);
        }
      };
  private final SimHistory history;
  private final ScheduledExecutorService ticker;
  private final java.util.concurrent.ExecutorService sender;
  private volatile boolean streamingLists;
  private volatile long bookmarkEveryNanos = 10_000_000_000L;
  private volatile long lastBookmarkNanos = System.nanoTime();
  private final Map<ServerRequest, Queue<ServerResponse>> expectations;
  private final MockDispatcher expectationDispatcher;
  private final JsonMapper json = JsonMapper.builder().build();
  private final Runnable drainServerQueue;
  private final Set<SimWatch> openWatches = ConcurrentHashMap.newKeySet();
  private final AtomicInteger podWatchesToFail = new AtomicInteger();
  private final Map<String, String> documents = new ConcurrentHashMap<>();
  private final Deque<SimApiRequest> log = new ArrayDeque<>();
  private volatile boolean down;
  private volatile boolean refuseWatches;
  // Watches from a resourceVersion older than this are answered 410: the watch cache of a
  // restarted API server starts at the current revision.
  private volatile long oldestServableRv;
  private final Map<String, java.util.function.Function<String, SimApiServer.ProxyReply>>
      nodeProxies = new ConcurrentHashMap<>();

  SimApiDispatcher(Map<ServerRequest, Queue<ServerResponse>> expectations, Runnable drain) {
    this.expectations = expectations;
    this.expectationDispatcher = new MockDispatcher(expectations);
    this.drainServerQueue = drain;
    this.history = new SimHistory(json, crud::requestResourceVersion);
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sim-api-watch-ticker");
              t.setDaemon(true);
              return t;
            });
    ticker.scheduleWithFixedDelay(this::tick, 100, 100, TimeUnit.MILLISECONDS);
    this.sender =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "sim-api-watch-sender");
              t.setDaemon(true);
              return t;
            });
  }

  private SimHistory history() {
    return history;
  }

  /** Bookmarks every {@link #bookmarkEvery}; watches past their timeoutSeconds end cleanly. */
  private void tick() {
    try {
      long now = System.nanoTime();
      for (SimHistoryWatch w : history.watches()) {
        if (w.expired(now)) {
          if (w.allowBookmarks()) {
            w.bookmark(history.lastRv(), false);
          }
          w.drop();
        }
      }
      if (now - lastBookmarkNanos >= bookmarkEveryNanos) {
        lastBookmarkNanos = now;
        history.bookmarks();
      }
    } catch (RuntimeException e) {
      // a watch closing under us; the next tick sees the rest
    }
  }

  void streamingLists(boolean on) {
    streamingLists = on;
  }

  void bookmarkEvery(java.time.Duration every) {
    bookmarkEveryNanos = every.toNanos();
  }

  void compact() {
    history.compact();
  }

  long podResourceVersion() {
    return history.lastRv();
  }

  void proxyNode(
      String node, java.util.function.Function<String, SimApiServer.ProxyReply> handler) {
    nodeProxies.put(node, handler);
  }

  void failNextPodWatches(int n) {
    podWatchesToFail.addAndGet(n);
  }

  void serve(String path, String json) {
    documents.put(path, json);
  }

  void down() {
    down = true;
    dropWatches(false);
  }

  void up() {
    // requestResourceVersion() advances the mock's global counter; RVs are opaque, a gap is fine.
    oldestServableRv = crud.requestResourceVersion();
    history.restart();
    down = false;
  }

  void refuseWatches(boolean refuse) {
    refuseWatches = refuse;
    if (refuse) {
      dropWatches(false);
    }
  }

  boolean isDown() {
    return down;
  }

  int dropWatches(boolean includeBackstage) {
    int n = 0;
    for (SimWatch w : List.copyOf(openWatches)) {
      if (includeBackstage || !w.backstage()) {
        w.drop();
        n++;
      }
    }
    return n;
  }

  int openWatches() {
    return openWatches.size();
  }

  List<SimApiRequest> requests() {
    synchronized (log) {
      return new ArrayList<>(log);
    }
  }

  void clearRequests() {
    synchronized (log) {
      log.clear();
    }
  }

  @Override
  public void shutdown() {
    // Each mock watch owns a scheduler thread that ends only when its socket closes.
    dropWatches(true);
    ticker.shutdownNow();
    sender.shutdown();
    crud.shutdown();
    expectationDispatcher.shutdown();
  }

  @Override
  public void releaseResources() {
    crud.releaseResources();
    expectationDispatcher.releaseResources();
  }

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    // MockWebServer queues every request for takeRequest(); nobody takes them here, and a long
    // demo would keep them all.
    drainServerQueue.run();
    boolean backstage = BACKSTAGE_VALUE.equals(request.getHeader(BACKSTAGE_HEADER));
    SimApiRequest info = SimApiRequest.parse(request.getMethod(), request.getPath(), backstage, 0);
    MockResponse response = respond(request, info);
    int code = response.getWebSocketListener() != null ? 101 : response.code();
    synchronized (log) {
      if (log.size() == LOG_LIMIT) {
        log.removeFirst();
      }
      log.addLast(
          new SimApiRequest(
              info.method(),
              info.path(),
              info.query(),
              info.verb(),
              info.apiGroup(),
              info.resource(),
              info.subresource(),
              info.namespace(),
              info.name(),
              backstage,
              code));
    }
    return response;
  }

  private MockResponse respond(RecordedRequest request, SimApiRequest info) {
    if (!info.backstage()) {
      if (down) {
        return status(503, "ServiceUnavailable", "the API server is down (state-probe sim)");
      }
      if (info.verb().equals("watch")) {
        if (refuseWatches) {
          return status(503, "ServiceUnavailable", "watches are refused (state-probe sim)");
        }
        if (info.isPodCollection("watch")
            && podWatchesToFail.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
          return gone(info.queryParameter("resourceVersion"), "injected");
        }
        long rv = parseRv(info.queryParameter("resourceVersion"));
        long oldest = oldestServableRv;
        if (rv > 0 && rv < oldest) {
          return gone(info.queryParameter("resourceVersion"), String.valueOf(oldest));
        }
      }
    }
    String document = info.method().equals("GET") ? documents.get(info.path()) : null;
    if (document != null) {
      return new MockResponse()
          .setResponseCode(200)
          .setHeader("Content-Type", "application/json")
          .setBody(document);
    }
    MockResponse response = route(request, info);
    WebSocketListener inner = response.getWebSocketListener();
    if (inner != null && !(inner instanceof SimWatch)) {
      response.withWebSocketUpgrade(
          new SimApiWatchListener(inner, null, json, openWatches, info.backstage()));
    }
    return response;
  }

  private MockResponse route(RecordedRequest request, SimApiRequest info) {
    if ("nodes".equals(info.resource())
        && "proxy".equals(info.subresource())
        && info.namespace() == null
        && nodeProxies.containsKey(info.name())) {
      String prefix = "/api/v1/nodes/" + info.name() + "/proxy";
      String rest =
          info.path().length() > prefix.length() ? info.path().substring(prefix.length()) : "/";
      SimApiServer.ProxyReply reply = nodeProxies.get(info.name()).apply(rest);
      return new MockResponse()
          .setResponseCode(reply.status())
          .setHeader("Content-Type", reply.contentType())
          .setBody(reply.body());
    }
    Queue<ServerResponse> expected =
        expectations.get(
            new SimpleRequest(HttpMethod.valueOf(request.getMethod()), request.getPath()));
    if (expected != null && !expected.isEmpty()) {
      return expectationDispatcher.dispatch(request);
    }
    SimHistory.Selection selection = historySelection(info);
    if (selection != null) {
      return info.verb().equals("watch")
          ? historyWatch(info, selection)
          : historyList(info, selection);
    }
    boolean podCollectionRead = info.isPodCollection("list") || info.isPodCollection("watch");
    SimApiNodeSelector nodes =
        podCollectionRead ? SimApiNodeSelector.of(info.queryParameter("fieldSelector")) : null;
    if (nodes == null) {
      return crud.dispatch(request);
    }
    String query = nodes.rewriteQuery(info.query());
    MockResponse response =
        crud.handleGet(query.isEmpty() ? info.path() : info.path() + "?" + query);
    if (response.getWebSocketListener() != null) {
      return response.withWebSocketUpgrade(
          new SimApiWatchListener(
              response.getWebSocketListener(), nodes, json, openWatches, info.backstage()));
    }
    if (response.code() == 200 && response.getBody() != null) {
      response.setBody(filterList(response.getBody().getBytes(), nodes));
    }
    return response;
  }

  /**
   * What a LIST or WATCH of a collection the history serves selects, or {@code null} when the
   * history does not serve it: another kind, a label selector, or a field selector on other fields
   * than {@code metadata.name} (and, for pods, {@code spec.nodeName}).
   */
  private static SimHistory.Selection historySelection(SimApiRequest info) {
    if (!(info.verb().equals("list") || info.verb().equals("watch"))
        || info.apiGroup() == null
        || info.subresource() != null
        || !info.path().endsWith("/" + info.resource())
        || info.queryParameter("labelSelector") != null) {
      return null;
    }
    SimHistory.Kind kind = SimHistory.kindOf(info.apiGroup(), info.resource());
    if (kind == null) {
      return null;
    }
    String fieldSelector = info.queryParameter("fieldSelector");
    SimApiNodeSelector nodes = null;
    String name = null;
    if (fieldSelector != null && !fieldSelector.isEmpty()) {
      String rest = fieldSelector;
      if (kind.kind().equals("Pod")) {
        nodes = SimApiNodeSelector.of(fieldSelector);
        rest = nodes == null ? fieldSelector : nodes.remainingFieldSelector();
      }
      for (String term : rest.split(",")) {
        String t = term.trim();
        String value;
        if (t.isEmpty()) {
          continue;
        } else if (t.startsWith("metadata.name==")) {
          value = t.substring("metadata.name==".length());
        } else if (t.startsWith("metadata.name=")) {
          value = t.substring("metadata.name=".length());
        } else {
          return null;
        }
        if (name != null && !name.equals(value)) {
          // Two different names select nothing; the stock mock's answer is as good.
          return null;
        }
        name = value;
      }
    }
    return new SimHistory.Selection(kind, info.namespace(), nodes, name);
  }

  /** A LIST from the watch cache: sorted by key, paged by limit/continue as kube does. */
  private MockResponse historyList(SimApiRequest info, SimHistory.Selection selection) {
    long limit = 0;
    try {
      String l = info.queryParameter("limit");
      limit = l == null || l.isEmpty() ? 0 : Long.parseLong(l);
    } catch (NumberFormatException e) {
      return status(400, "BadRequest", "limit is not a number");
    }
    SimHistory.ListReply reply = history.list(selection, limit, info.queryParameter("continue"));
    return switch (reply.status()) {
      case 200 ->
          new MockResponse()
              .setResponseCode(200)
              .setHeader("Content-Type", "application/json")
              .setBody(reply.body());
      case 410 ->
          status(
              410,
              "Expired",
              "The provided continue parameter is too old to display a consistent list result."
                  + " You can start a new list without the continue parameter.");
      default -> status(400, "BadRequest", "invalid continue parameter");
    };
  }

  /** A WATCH from the watch cache, validated as kube-apiserver validates one. */
  private MockResponse historyWatch(SimApiRequest info, SimHistory.Selection selection) {
    boolean initial = "true".equals(info.queryParameter("sendInitialEvents"));
    boolean bookmarks = "true".equals(info.queryParameter("allowWatchBookmarks"));
    String match = info.queryParameter("resourceVersionMatch");
    String rv = info.queryParameter("resourceVersion");
    if (initial || match != null) {
      if (!streamingLists) {
        return status(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden:"
                + " sendInitialEvents is forbidden for watch unless the WatchList feature gate"
                + " is enabled");
      }
      if (!"NotOlderThan".equals(match) || !bookmarks || !initial) {
        return status(
            422,
            "Invalid",
            "sendInitialEvents requires resourceVersionMatch=NotOlderThan and"
                + " allowWatchBookmarks=true");
      }
    }
    long from = SimHistory.parse(rv);
    if (from < 0) {
      return status(400, "BadRequest", "resourceVersion is not a number: " + rv);
    }
    long timeout = 0;
    try {
      String t = info.queryParameter("timeoutSeconds");
      timeout = t == null || t.isEmpty() ? 0 : Long.parseLong(t);
    } catch (NumberFormatException e) {
      return status(400, "BadRequest", "timeoutSeconds is not a number");
    }
    return new MockResponse()
        .withWebSocketUpgrade(
            new SimHistoryWatch(
                history,
                sender,
                json,
                openWatches,
                selection,
                from,
                initial,
                bookmarks,
                timeout,
                info.backstage()));
  }

  private String filterList(byte[] body, SimApiNodeSelector nodes) {
    JsonNode list = json.readTree(new String(body, StandardCharsets.UTF_8));
    if (list.path("items") instanceof ArrayNode items) {
      ArrayNode kept = json.createArrayNode();
      for (JsonNode item : items) {
        if (nodes.matches(item.path("spec").path("nodeName").stringValue(null))) {
          kept.add(item);
        }
      }
      ((ObjectNode) list).set("items", kept);
    }
    return json.writeValueAsString(list);
  }

  private static long parseRv(String rv) {
    if (rv == null || rv.isEmpty()) {
      return 0;
    }
    try {
      return Long.parseLong(rv);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private MockResponse status(int code, String reason, String message) {
    ObjectNode status = statusObject(code, reason, message);
    return new MockResponse()
        .setResponseCode(code)
        .setHeader("Content-Type", "application/json")
        .setBody(json.writeValueAsString(status));
  }

  private ObjectNode statusObject(int code, String reason, String message) {
    ObjectNode status = json.createObjectNode();
    status.put("kind", "Status");
    status.put("apiVersion", "v1");
    status.putObject("metadata");
    status.put("status", "Failure");
    status.put("message", message);
    status.put("reason", reason);
    status.put("code", code);
    return status;
  }

  /**
   * What kube-apiserver answers a watch from a compacted resourceVersion: the WebSocket opens and
   * one ERROR event carries a 410 Status. The real server then ends the stream; here the client
   * closes it (fabric8 does on a 410), because fabric8 8.0's client on Vert.x 5.0.7 can lose a
   * WebSocket that the server closes right after the upgrade: the connect future never completes
   * and the watch hangs (measured: 11 hangs in 1000 tries; none in 800 on Vert.x 5.2.0).
   */
  private MockResponse gone(String requestedRv, String oldest) {
    ObjectNode event = json.createObjectNode();
    event.put("type", "ERROR");
    event.set(
        "object",
        statusObject(
            410, "Expired", "too old resource version: " + requestedRv + " (" + oldest + ")"));
    String text = json.writeValueAsString(event);
    return new MockResponse()
        .withWebSocketUpgrade(
            new WebSocketListener() {
              @Override
              public void onOpen(WebSocket webSocket, Response response) {
                webSocket.send(text);
              }
            });
  }
}
