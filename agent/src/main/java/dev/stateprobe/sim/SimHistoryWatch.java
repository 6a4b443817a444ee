package dev.stateprobe.sim;

import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One watch of a kind the history serves (a WebSocket, as kube-apiserver serves {@code ?watch=true}
 * to a client that asks for the upgrade) from {@link SimHistory}: from a resourceVersion, or with
 * the current objects first, with bookmarks when allowed, filtered by namespace, {@code
 * metadata.name} and (pods) {@code spec.nodeName} the way the watch cache filters (an object that
 * starts to match is ADDED, one that stops is DELETED).
 */
final class SimHistoryWatch extends WebSocketListener implements SimWatch {
  private final SimHistory history;
  private final java.util.concurrent.Executor sender;
  private final JsonMapper json;
  private final Set<SimWatch> open;
  private final SimHistory.Selection selection;
  private final long fromRv;
  private final boolean sendInitialEvents;
  private final boolean allowBookmarks;
  private final boolean backstage;
  private final long timeoutNanos;
  private volatile long deadlineNanos = Long.MAX_VALUE;
  private volatile WebSocket socket;
  private volatile boolean closed;

  SimHistoryWatch(
      SimHistory history,
      java.util.concurrent.Executor sender,
      JsonMapper json,
      Set<SimWatch> open,
      SimHistory.Selection selection,
      long fromRv,
      boolean sendInitialEvents,
      boolean allowBookmarks,
      long timeoutSeconds,
      boolean backstage) {
    this.history = history;
    this.sender = sender;
    this.json = json;
    this.open = open;
    this.selection = selection;
    this.fromRv = fromRv;
    this.sendInitialEvents = sendInitialEvents;
    this.allowBookmarks = allowBookmarks;
    this.backstage = backstage;
    this.timeoutNanos = timeoutSeconds > 0 ? timeoutSeconds * 1_000_000_000L : Long.MAX_VALUE;
  }

  /** Its {@code timeoutSeconds} have passed: kube-apiserver ends such a watch cleanly. */
  boolean expired(long nowNanos) {
    return nowNanos - deadlineNanos > 0;
  }

  long fromRv() {
    return fromRv;
  }

  boolean sendInitialEvents() {
    return sendInitialEvents;
  }

  boolean allowBookmarks() {
    return allowBookmarks;
  }

  @Override
  public boolean backstage() {
    return backstage;
  }

  SimHistory.Selection selection() {
    return selection;
  }

  boolean matches(JsonNode object) {
    return selection.matches(object);
  }

  @Override
  public void onOpen(WebSocket webSocket, Response response) {
    socket = webSocket;
    if (timeoutNanos != Long.MAX_VALUE) {
      deadlineNanos = System.nanoTime() + timeoutNanos;
    }
    open.add(this);
    if (!history.open(this)) {
      // What the watch cache answers for a compacted version: one ERROR event, then the end.
      ObjectNode status = json.createObjectNode();
      status.put("kind", "Status");
      status.put("apiVersion", "v1");
      status.putObject("metadata");
      status.put("status", "Failure");
      status.put(
          "message", "too old resource version: " + fromRv + " (" + history.compactedRv() + ")");
      status.put("reason", "Expired");
      status.put("code", 410);
      ObjectNode event = json.createObjectNode();
      event.put("type", "ERROR");
      event.set("object", status);
      String text = json.writeValueAsString(event);
      sender.execute(() -> webSocket.send(text));
      drop();
    }
  }

  /** One change from the history, as this watch's filter turns it. */
  void offer(SimHistory.Event e) {
    boolean now = matches(e.object());
    boolean before = e.prev() != null && matches(e.prev());
    String type =
        switch (e.type()) {
          case "ADDED" -> now ? "ADDED" : null;
          case "MODIFIED" -> now ? (before ? "MODIFIED" : "ADDED") : before ? "DELETED" : null;
          default -> now || before ? "DELETED" : null;
        };
    if (type != null) {
      send(type, e.object());
    }
  }

  void send(String type, JsonNode object) {
    WebSocket ws = socket;
    if (ws == null || closed) {
      return;
    }
    ObjectNode event = json.createObjectNode();
    event.put("type", type);
    event.set("object", object);
    String text = json.writeValueAsString(event);
    // The mock's send waits for the write on its event loop: never wait while holding the
    // history's lock (the event loop may be waiting for it to record a change). One sender
    // thread for all watches keeps each watch's events in order.
    sender.execute(
        () -> {
          if (!closed) {
            ws.send(text);
          }
        });
  }

  void bookmark(long rv, boolean initialEventsEnd) {
    // What kube-apiserver sends: an object of the watched kind with only its resourceVersion.
    SimHistory.Kind kind = selection.kind();
    ObjectNode object = json.createObjectNode();
    object.put("kind", kind.kind());
    object.put("apiVersion", kind.apiVersion());
    ObjectNode meta = object.putObject("metadata");
    meta.put("resourceVersion", Long.toString(rv));
    meta.putNull("creationTimestamp");
    if (initialEventsEnd) {
      meta.putObject("annotations").put("k8s.io/initial-events-end", "true");
    }
    if (kind.kind().equals("Pod")) {
      object.putObject("spec").putArray("containers");
      object.putObject("status");
    }
    send("BOOKMARK", object);
  }

  @Override
  public void drop() {
    WebSocket ws = socket;
    history.closed(this);
    open.remove(this);
    // After what was queued before it: an ERROR event or a last bookmark goes out first.
    sender.execute(
        () -> {
          closed = true;
          if (ws != null) {
            ws.close(1000, "state-probe sim: watch closed");
          }
        });
  }

  @Override
  public void onClosed(WebSocket webSocket, int code, String reason) {
    closed = true;
    history.closed(this);
    open.remove(this);
  }

  @Override
  public void onFailure(WebSocket webSocket, Throwable error, Response response) {
    closed = true;
    history.closed(this);
    open.remove(this);
  }
}
