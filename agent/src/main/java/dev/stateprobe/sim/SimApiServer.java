package dev.stateprobe.sim;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A simulated Kubernetes API server for tests and the {@code demo} mode: fabric8's mock server in
 * CRUD mode on a free loopback port (plain HTTP), made faithful where the agent depends on it and
 * able to fail the way a real one does.
 *
 * <p>What it adds to the stock CRUD mock:
 *
 * <ul>
 *   <li>{@code spec.nodeName=X} (also {@code ==}, {@code !=}) field selectors on pod LIST and WATCH
 *       work; the stock mock matches nothing and says nothing. A field-selected watch sends
 *       ADDED/MODIFIED/DELETED only for matching pods, as kube-apiserver does.
 *   <li>Faults, which touch only the clients made by {@link #newClient()}: {@link
 *       #failNextPodWatch()} (410 Gone), {@link #dropWatches()} (connection lost), {@link
 *       #refuseWatches()} (watch endpoint failing), {@link #down()} / {@link #up()} (unreachable,
 *       then restarted). The {@link #client()} is the cluster's other users, kubectl and
 *       controllers: it always gets through, so a test or the demo can change pods while the agent
 *       cannot see them.
 *   <li>A request log with the attributes authorization sees ({@link SimApiRequest}).
 * </ul>
 *
 * <p>Pods, {@code coordination.k8s.io/v1} Leases and {@code stateprobe.dev/v1alpha1}
 * ConsistencyPolicies (cluster-scoped) are served as kube-apiserver's watch cache serves them
 * ({@link SimHistory}): every change the CRUD store makes to one of them becomes an event with its
 * own resourceVersion (a deletion gets a new one), and their LISTs and WATCHes without a label
 * selector are answered from that history:
 *
 * <ul>
 *   <li>LIST: sorted by namespace/name, {@code limit} and {@code continue} (a token carries the
 *       first page's resourceVersion; later pages show the objects as they were then), {@code
 *       remainingItemCount}; a token from before a compaction is answered 410 Expired.
 *   <li>WATCH (WebSocket): from {@code resourceVersion} the events after it, replayed, then live;
 *       without one (or {@code 0}) the current objects as ADDED first; a version older than the
 *       last compaction gets one ERROR event with a 410 Expired Status and the connection closes.
 *       {@code allowWatchBookmarks=true} gets a BOOKMARK every {@link #bookmarkEvery} (10 s by
 *       default), and one just before a watch's {@code timeoutSeconds} end it cleanly. {@code
 *       sendInitialEvents=true} (with {@code resourceVersionMatch=NotOlderThan} and bookmarks, else
 *       422) sends the current objects as ADDED, then a BOOKMARK annotated {@code
 *       k8s.io/initial-events-end: "true"}, then live events, once {@link #streamingLists(boolean)}
 *       turns it on; by default it is answered 422, as a server with the WatchList gate off does.
 *   <li>Field selectors: {@code metadata.name=X} on all three kinds (one object watched by name),
 *       {@code spec.nodeName} on pods. A field-selected watch turns an object that starts or stops
 *       matching into ADDED or DELETED. The request log names X as the request's {@code name}, as
 *       kube-apiserver's authorizer sees it (RBAC {@code resourceNames}).
 * </ul>
 *
 * <p>Where it still differs from kube-apiserver: resourceVersion is the mock's one global counter
 * (opaque, but not etcd's revision: a LIST's version is the last change's among the served kinds,
 * not the cluster's); a LIST ignores {@code resourceVersion}/{@code resourceVersionMatch} and
 * always reads the latest state; label-selected LISTs and WATCHes, field selectors on other fields,
 * and every other kind (nodes, events, other custom resources) are still the stock mock's (a watch
 * of those ignores its resourceVersion and replays the current objects as ADDED, has no bookmarks);
 * the history keeps the last {@value SimHistory#RETAINED_EVENTS} events of the served kinds
 * together (kube keeps a time window per resource); the served kinds are fixed ({@link
 * SimHistory#KINDS}), no CRD needs to be installed for ConsistencyPolicies and nothing validates
 * them; the mock serves watches only over WebSocket (no HTTP chunked watch); bookmarks are sent on
 * a timer, not only when a watch is idle; a watch's {@code timeoutSeconds} is honoured to about 100
 * ms; the 410 injected by {@link #failNextPodWatch()} (pod watches only) leaves the closing to the
 * client (fabric8 closes it); {@link #compact()} compacts all served kinds at once.
 *
 * <p>Not thread-confined; every method may be called from any thread.
 */
public final class SimApiServer implements AutoCloseable {
  // MockWebServer logs every request at INFO through java.util.logging. A JUL logger is held
  // weakly by its manager, so the level is kept alive by this reference.
  private final Logger mockServerLog = Logger.getLogger(MockWebServer.class.getName());
  private final Map<ServerRequest, Queue<ServerResponse>> expectations = new ConcurrentHashMap<>();
  private final SimApiDispatcher dispatcher;
  private final KubernetesMockServer server;
  private final List<KubernetesClient> clients = new ArrayList<>();
  private KubernetesClient backstage;
  private boolean started;
  private boolean closed;

  public SimApiServer() {
    MockWebServer web = new MockWebServer();
    this.dispatcher = new SimApiDispatcher(expectations, this::drainRecordedRequests);
    // KubernetesMockServer registers its "/" and "/version" answers in the map it is given; the
    // dispatcher serves them from the same map.
    this.server = new KubernetesMockServer(new Context(), web, expectations, dispatcher, false);
  }

  /** Binds a free port on the loopback address. Idempotent. */
  public synchronized SimApiServer start() {
    if (closed) {
      throw new IllegalStateException("SimApiServer is closed");
    }
    if (!started) {
      mockServerLog.setLevel(Level.WARNING);
      server.start(InetAddress.getLoopbackAddress(), 0);
      started = true;
    }
    return this;
  }

  /** The base URL, e.g. {@code http://localhost:41234/}. */
  public synchronized String url() {
    requireStarted();
    return server.url("/");
  }

  /**
   * The client of the cluster's other users (tests, the demo's own writes). Faults never touch it.
   * Owned by this server: closed by {@link #close()}.
   */
  public synchronized KubernetesClient client() {
    requireStarted();
    if (backstage == null) {
      backstage = build(true);
    }
    return backstage;
  }

  /**
   * A new client as the agent would have: faults apply to it. It reconnects a broken watch after
   * 100 ms (doubling, as fabric8 does, up to 3.2 s) and does not retry failed requests itself, so
   * tests see outages quickly. Owned by this server: closed by {@link #close()}.
   */
  public synchronized KubernetesClient newClient() {
    requireStarted();
    KubernetesClient c = build(false);
    clients.add(c);
    return c;
  }

  private KubernetesClient build(boolean isBackstage) {
    ConfigBuilder config =
        new ConfigBuilder(Config.empty())
            .withMasterUrl(server.url("/"))
            .withNamespace("default")
            .withTrustCerts(true)
            .withHttp2Disable(true)
            .withWatchReconnectInterval(100)
            .withRequestRetryBackoffLimit(0)
            .withConnectionTimeout(2_000)
            .withRequestTimeout(5_000);
    if (isBackstage) {
      config.addToCustomHeaders(
          SimApiDispatcher.BACKSTAGE_HEADER, SimApiDispatcher.BACKSTAGE_VALUE);
    }
    return new KubernetesClientBuilder().withConfig(config.build()).build();
  }

  /** What the node proxy answers for one path: status, content type and body. */
  public record ProxyReply(int status, String contentType, byte[] body) {
    public ProxyReply {
      body = body.clone();
    }

    @Override
    public byte[] body() {
      return body.clone();
    }
  }

  /**
   * Serves {@code GET /api/v1/nodes/NODE/proxy/PATH} (the API server's proxy to that node's
   * kubelet) from {@code handler}, which gets {@code /PATH} (e.g. {@code /pods}); faults apply as
   * to any request. Without a handler the mock answers 404, as for any path it does not know.
   */
  public void proxyNode(String node, java.util.function.Function<String, ProxyReply> handler) {
    dispatcher.proxyNode(node, handler);
  }

  /**
   * From now on {@code GET path} (with any query) answers this JSON, ahead of the CRUD store, and
   * like everything else fails while {@link #down()}. The stock mock answers the discovery paths
   * ({@code /api}, {@code /apis}, {@code /api/v1}, ...) with a list of every object, so {@code
   * kubectl} finds no resource types; serving the real discovery documents there lets it work
   * against this server.
   */
  public void serveDocument(String path, String json) {
    if (path == null || !path.startsWith("/") || path.contains("?")) {
      throw new IllegalArgumentException("a document path starts with / and has no query: " + path);
    }
    dispatcher.serve(path, Objects.requireNonNull(json, "json"));
  }

  /**
   * The next pod WATCH from a {@link #newClient()} client gets what kube-apiserver sends for a
   * compacted resourceVersion: an ERROR event with a 410 Expired Status, then the end of the
   * stream. An informer must re-list. An informer that is already watching makes no new watch until
   * its current one ends: follow with {@link #dropWatches()}.
   */
  public void failNextPodWatch() {
    dispatcher.failNextPodWatches(1);
  }

  /**
   * Closes every open watch of the {@link #newClient()} clients, as a lost connection does; they
   * reconnect from their last resourceVersion.
   *
   * @return how many watches were closed
   */
  public int dropWatches() {
    return dispatcher.dropWatches(false);
  }

  /**
   * The API server becomes unreachable for {@link #newClient()} clients: their open watches are
   * closed and every request is answered 503 until {@link #up()}.
   */
  public void down() {
    dispatcher.down();
  }

  /**
   * Back up, as a restarted API server: its watch cache starts at the current resourceVersion, so a
   * watch that resumes from before the restart gets 410 Gone and the informer re-lists.
   */
  public void up() {
    dispatcher.up();
  }

  /**
   * Watches of {@link #newClient()} clients end and new ones are answered 503 until {@link
   * #acceptWatches()}; lists still work. A watch endpoint that fails while the rest answers, and a
   * way to hold an informer's watch closed while the cluster changes.
   */
  public void refuseWatches() {
    dispatcher.refuseWatches(true);
  }

  public void acceptWatches() {
    dispatcher.refuseWatches(false);
  }

  /**
   * Whether pod watches with {@code sendInitialEvents=true} are served (the WatchList feature, beta
   * and on by default from 1.32; the default here). Off, they are answered 422 Invalid, as a server
   * with the feature gate off answers them.
   */
  public void streamingLists(boolean on) {
    dispatcher.streamingLists(on);
  }

  /** How often open pod watches that allow bookmarks get one (kube-apiserver: about a minute). */
  public void bookmarkEvery(java.time.Duration every) {
    dispatcher.bookmarkEvery(every);
  }

  /**
   * Compacts the pod history at the current resourceVersion, as etcd's compaction does: a watch
   * from an older version, or a LIST {@code continue} token issued before, is answered 410.
   */
  public void compact() {
    dispatcher.compact();
  }

  /** The resourceVersion a pod LIST would carry now. */
  public String podResourceVersion() {
    return Long.toString(dispatcher.podResourceVersion());
  }

  public boolean isDown() {
    return dispatcher.isDown();
  }

  /** Watches currently open, backstage ones included. */
  public int openWatches() {
    return dispatcher.openWatches();
  }

  /** The requests received so far, oldest first (the last 20 000). */
  public List<SimApiRequest> requests() {
    return dispatcher.requests();
  }

  /** How many logged requests match. */
  public long count(Predicate<SimApiRequest> filter) {
    return dispatcher.requests().stream().filter(filter).count();
  }

  public void clearRequests() {
    dispatcher.clearRequests();
  }

  private void drainRecordedRequests() {
    try {
      while (server.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
        // discard: the dispatcher keeps its own bounded log
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void requireStarted() {
    if (!started) {
      throw new IllegalStateException("SimApiServer is not started");
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    clients.forEach(KubernetesClient::close);
    clients.clear();
    if (backstage != null) {
      backstage.close();
    }
    if (started) {
      server.shutdown();
    }
  }
}
