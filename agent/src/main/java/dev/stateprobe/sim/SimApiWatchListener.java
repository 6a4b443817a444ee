package dev.stateprobe.sim;

import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Wraps the CRUD mock's watch listener: registers the open watch so the server can drop it, and
 * applies a {@code spec.nodeName} selector to the events the mock sends.
 *
 * <p>The filter does what kube-apiserver does for a field-selected watch: an object that starts to
 * match is sent as ADDED, one that stops matching as DELETED, others not at all. The mock watches
 * all pods (the selector was stripped) and replays every existing pod as ADDED when the watch
 * opens; the filter tracks the UIDs it let through to turn MODIFIED into ADDED/DELETED.
 */
final class SimApiWatchListener extends WebSocketListener implements SimWatch {
  private final WebSocketListener inner;
  private final SimApiNodeSelector selector;
  private final JsonMapper json;
  private final Set<SimWatch> open;
  private final boolean backstage;
  private final Set<String> sent = ConcurrentHashMap.newKeySet();
  private volatile FilteringSocket socket;

  SimApiWatchListener(
      WebSocketListener inner,
      SimApiNodeSelector selector,
      JsonMapper json,
      Set<SimWatch> open,
      boolean backstage) {
    this.inner = inner;
    this.selector = selector;
    this.json = json;
    this.open = open;
    this.backstage = backstage;
  }

  @Override
  public boolean backstage() {
    return backstage;
  }

  /** Closes the connection as a server going away does; the client sees the watch end. */
  @Override
  public void drop() {
    FilteringSocket s = socket;
    if (s != null) {
      s.close(1001, "state-probe sim: watch dropped");
    }
  }

  private synchronized FilteringSocket wrap(WebSocket raw) {
    if (socket == null) {
      socket = new FilteringSocket(raw);
    }
    return socket;
  }

  @Override
  public void onBeforeAccept(WebSocket webSocket, Response response) {
    inner.onBeforeAccept(wrap(webSocket), response);
  }

  @Override
  public void onOpen(WebSocket webSocket, Response response) {
    open.add(this);
    inner.onOpen(wrap(webSocket), response);
  }

  @Override
  public void onMessage(WebSocket webSocket, String text) {
    inner.onMessage(wrap(webSocket), text);
  }

  @Override
  public void onMessage(WebSocket webSocket, byte[] bytes) {
    inner.onMessage(wrap(webSocket), bytes);
  }

  @Override
  public void onPing(WebSocket webSocket, byte[] payload) {
    inner.onPing(wrap(webSocket), payload);
  }

  @Override
  public void onClosing(WebSocket webSocket, int code, String reason) {
    inner.onClosing(wrap(webSocket), code, reason);
  }

  @Override
  public void onClosed(WebSocket webSocket, int code, String reason) {
    open.remove(this);
    inner.onClosed(wrap(webSocket), code, reason);
  }

  @Override
  public void onFailure(WebSocket webSocket, Throwable error, Response response) {
    open.remove(this);
    inner.onFailure(wrap(webSocket), error, response);
  }

  /** The event to send instead of {@code text}: itself, a retyped copy, or null to drop it. */
  String filter(String text) {
    if (selector == null) {
      return text;
    }
    JsonNode event;
    try {
      event = json.readTree(text);
    } catch (JacksonException e) {
      return text;
    }
    String type = event.path("type").asString();
    JsonNode object = event.path("object");
    String uid = object.path("metadata").path("uid").asString();
    if (!(type.equals("ADDED") || type.equals("MODIFIED") || type.equals("DELETED"))
        || uid.isEmpty()) {
      return text;
    }
    boolean matches = selector.matches(object.path("spec").path("nodeName").stringValue(null));
    boolean wasSent = sent.contains(uid);
    String out =
        switch (type) {
          case "ADDED" -> matches ? "ADDED" : null;
          case "MODIFIED" ->
              matches ? (wasSent ? "MODIFIED" : "ADDED") : (wasSent ? "DELETED" : null);
          default -> wasSent || matches ? "DELETED" : null;
        };
    if (out == null) {
      return null;
    }
    if (out.equals("DELETED")) {
      sent.remove(uid);
    } else {
      sent.add(uid);
    }
    if (out.equals(type)) {
      return text;
    }
    ((ObjectNode) event).put("type", out);
    return json.writeValueAsString(event);
  }

  private final class FilteringSocket implements WebSocket {
    private final WebSocket raw;

    FilteringSocket(WebSocket raw) {
      this.raw = raw;
    }

    @Override
    public RecordedRequest request() {
      return raw.request();
    }

    @Override
    public boolean send(String text) {
      String out = filter(text);
      return out == null || raw.send(out);
    }

    @Override
    public boolean send(byte[] bytes) {
      return raw.send(bytes);
    }

    @Override
    public boolean close(int code, String reason) {
      return raw.close(code, reason);
    }
  }
}
