package dev.stateprobe.sim;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The objects of the simulated API server as kube-apiserver's watch cache holds them, for the kinds
 * in {@link #KINDS} (pods, leases, ConsistencyPolicies): the current objects by key ({@code
 * kind:namespace/name}, the order of a LIST), and the recent changes as events with their
 * resourceVersions, from which a watch resumes and a paged LIST serves its later pages at the first
 * page's version. Fed by every change the CRUD store makes to an object of those kinds. One
 * sequence of events for all kinds, as etcd has one revision.
 *
 * <p>Compaction: events older than the last {@link #RETAINED_EVENTS} are dropped, and {@link
 * #compact} drops all of them at once (etcd's compaction; a restarted API server's empty watch
 * cache). A watch or a {@code continue} token from before the compacted version is answered 410.
 *
 * <p>Thread-safe: every method holds the one lock, and watches are sent to under it, so each watch
 * sees the events in resourceVersion order.
 */
final class SimHistory {
  static final int RETAINED_EVENTS = 10_000;

  /** A kind served from the history: its resource, and whether its objects live in namespaces. */
  record Kind(String kind, String group, String version, String plural, boolean namespaced) {
    String apiVersion() {
      return group.isEmpty() ? version : group + "/" + version;
    }
  }

  /** The kinds served from the history; the others are the stock mock's. */
  static final List<Kind> KINDS =
      List.of(
          new Kind("Pod", "", "v1", "pods", true),
          new Kind("Lease", "coordination.k8s.io", "v1", "leases", true),
          new Kind(
              "ConsistencyPolicy", "stateprobe.dev", "v1alpha1", "consistencypolicies", false));

  /** The kind served for {@code group}/{@code plural}, or {@code null}. */
  static Kind kindOf(String group, String plural) {
    for (Kind k : KINDS) {
      if (k.group().equals(group) && k.plural().equals(plural)) {
        return k;
      }
    }
    return null;
  }

  private static Kind kindNamed(String kind) {
    for (Kind k : KINDS) {
      if (k.kind().equals(kind)) {
        return k;
      }
    }
    return null;
  }

  /**
   * What a LIST or WATCH selects: one kind, optionally one namespace, {@code spec.nodeName}
   * requirements (pods) and one {@code metadata.name}.
   */
  record Selection(Kind kind, String namespace, SimApiNodeSelector nodes, String name) {
    boolean matches(JsonNode object) {
      if (object == null || !kind.kind().equals(object.path("kind").asString(""))) {
        return false;
      }
      JsonNode m = object.path("metadata");
      if (namespace != null && !namespace.equals(m.path("namespace").asString("default"))) {
        return false;
      }
      if (name != null && !name.equals(m.path("name").asString(""))) {
        return false;
      }
      return nodes == null || nodes.matches(object.path("spec").path("nodeName").stringValue(null));
    }
  }

  /** One change. {@code prev} is the object before it ({@code null} for ADDED). */
  record Event(long rv, String type, ObjectNode object, ObjectNode prev) {}

  private final JsonMapper json;
  private final LongSupplier nextRv;
  private final TreeMap<String, ObjectNode> current = new TreeMap<>();
  private final Deque<Event> events = new ArrayDeque<>();
  private final Set<SimHistoryWatch> watches = ConcurrentHashMap.newKeySet();
  private long lastRv;
  private long compactedRv;

  /**
   * @param nextRv advances the mock's global resourceVersion counter and returns the new value
   */
  SimHistory(JsonMapper json, LongSupplier nextRv) {
    this.json = json;
    this.nextRv = nextRv;
    this.lastRv = nextRv.getAsLong();
  }

  static String key(JsonNode object) {
    String kind = object.path("kind").asString("");
    Kind k = kindNamed(kind);
    JsonNode m = object.path("metadata");
    String ns = k != null && !k.namespaced() ? "" : m.path("namespace").asString("default");
    return kind + ":" + ns + "/" + m.path("name").asString("");
  }

  static long rvOf(JsonNode pod) {
    return parse(pod.path("metadata").path("resourceVersion").asString(""));
  }

  static long parse(String rv) {
    if (rv == null || rv.isEmpty()) {
      return 0;
    }
    try {
      return Long.parseLong(rv);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * The CRUD store replaced {@code oldValue} by {@code newValue} (either may be null). Objects of
   * other kinds than {@link #KINDS} are ignored.
   */
  void changed(String oldValue, String newValue) {
    ObjectNode prev = served(oldValue);
    ObjectNode next = served(newValue);
    if (prev == null && next == null) {
      return;
    }
    synchronized (this) {
      Event e;
      if (next == null) {
        // kube-apiserver gives a deletion its own revision and sends the object with it.
        long rv = nextRv.getAsLong();
        ObjectNode gone = prev.deepCopy();
        ((ObjectNode) gone.path("metadata")).put("resourceVersion", Long.toString(rv));
        current.remove(key(prev));
        e = new Event(rv, "DELETED", gone, prev);
      } else {
        long rv = Math.max(rvOf(next), lastRv + 1);
        if (prev != null && rvOf(prev) == rvOf(next) && prev.equals(next)) {
          return;
        }
        current.put(key(next), next);
        e = new Event(rv, prev == null ? "ADDED" : "MODIFIED", next, prev);
      }
      lastRv = e.rv();
      events.addLast(e);
      while (events.size() > RETAINED_EVENTS) {
        compactedRv = events.removeFirst().rv();
      }
      for (SimHistoryWatch w : watches) {
        w.offer(e);
      }
    }
  }

  private ObjectNode served(String value) {
    if (value == null) {
      return null;
    }
    try {
      JsonNode n = json.readTree(value);
      return n instanceof ObjectNode o && kindNamed(o.path("kind").asString("")) != null ? o : null;
    } catch (JacksonException e) {
      return null;
    }
  }

  /**
   * Drops every retained event (etcd's compaction at the current revision): a watch or continue
   * token from an older version gets 410; one from the current version is still served.
   */
  synchronized void compact() {
    compactedRv = lastRv;
    events.clear();
  }

  /**
   * A restarted API server: its watch cache starts at a new revision, so every watch from before
   * the restart gets 410, however recent.
   */
  synchronized void restart() {
    lastRv = Math.max(lastRv, nextRv.getAsLong());
    compact();
  }

  synchronized long lastRv() {
    return lastRv;
  }

  /** What a LIST answers. */
  record ListReply(int status, String body) {}

  /**
   * A LIST of one kind.
   *
   * @param limit 0 for no limit
   * @param continueToken from the previous page, or {@code null}
   */
  synchronized ListReply list(Selection selection, long limit, String continueToken) {
    long at = lastRv;
    String after = null;
    if (continueToken != null && !continueToken.isEmpty()) {
      String decoded;
      try {
        decoded = new String(Base64.getUrlDecoder().decode(continueToken), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return new ListReply(400, null);
      }
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        return new ListReply(400, null);
      }
      at = parse(decoded.substring(0, colon));
      after = decoded.substring(colon + 1);
      if (at < compactedRv) {
        return new ListReply(410, null);
      }
    }
    TreeMap<String, ObjectNode> state = at == lastRv ? current : stateAt(at);
    String first = selection.kind().kind() + ":";
    Map<String, ObjectNode> from =
        after == null ? state.tailMap(first, true) : state.tailMap(after, false);
    ArrayNode items = json.createArrayNode();
    String lastKey = null;
    long remaining = 0;
    for (Map.Entry<String, ObjectNode> entry : from.entrySet()) {
      if (!entry.getKey().startsWith(first)) {
        break;
      }
      ObjectNode pod = entry.getValue();
      if (!selection.matches(pod)) {
        continue;
      }
      if (limit > 0 && items.size() >= limit) {
        remaining++;
        continue;
      }
      items.add(pod);
      lastKey = entry.getKey();
    }
    ObjectNode list = json.createObjectNode();
    list.put("kind", selection.kind().kind() + "List");
    list.put("apiVersion", selection.kind().apiVersion());
    ObjectNode meta = list.putObject("metadata");
    meta.put("resourceVersion", Long.toString(at));
    if (remaining > 0) {
      meta.put(
          "continue",
          Base64.getUrlEncoder()
              .withoutPadding()
              .encodeToString((at + ":" + lastKey).getBytes(StandardCharsets.UTF_8)));
      meta.put("remainingItemCount", remaining);
    }
    list.set("items", items);
    return new ListReply(200, json.writeValueAsString(list));
  }

  private TreeMap<String, ObjectNode> stateAt(long rv) {
    TreeMap<String, ObjectNode> state = new TreeMap<>(current);
    Iterator<Event> newestFirst = events.descendingIterator();
    while (newestFirst.hasNext()) {
      Event e = newestFirst.next();
      if (e.rv() <= rv) {
        break;
      }
      switch (e.type()) {
        case "ADDED" -> state.remove(key(e.object()));
        case "MODIFIED" -> {
          state.remove(key(e.object()));
          state.put(key(e.prev()), e.prev());
        }
        default -> state.put(key(e.prev()), e.prev());
      }
    }
    return state;
  }

  /**
   * Registers a watch and sends it what it asked to start with: the current objects as ADDED (then,
   * for a streaming list, the bookmark that ends them), or the events after its resourceVersion.
   * Returns false, having registered nothing, when that version is compacted.
   */
  synchronized boolean open(SimHistoryWatch w) {
    if (w.sendInitialEvents() || w.fromRv() == 0) {
      for (ObjectNode pod : current.values()) {
        if (w.selection().matches(pod)) {
          w.send("ADDED", pod);
        }
      }
      if (w.sendInitialEvents()) {
        w.bookmark(lastRv, true);
      }
    } else {
      if (w.fromRv() < compactedRv || w.fromRv() < 0) {
        return false;
      }
      for (Event e : events) {
        if (e.rv() > w.fromRv()) {
          w.offer(e);
        }
      }
    }
    watches.add(w);
    return true;
  }

  void closed(SimHistoryWatch w) {
    watches.remove(w);
  }

  /** A bookmark at the current version to every watch that allows them. */
  synchronized void bookmarks() {
    for (SimHistoryWatch w : watches) {
      if (w.allowBookmarks()) {
        w.bookmark(lastRv, false);
      }
    }
  }

  synchronized long compactedRv() {
    return compactedRv;
  }

  List<SimHistoryWatch> watches() {
    return new ArrayList<>(watches);
  }
}
