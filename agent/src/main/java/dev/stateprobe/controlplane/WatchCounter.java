package dev.stateprobe.controlplane;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts watches the API server accepted, on an HTTP client that only the pod informer uses.
 *
 * <p>Why at the HTTP layer: fabric8 8.0 reconnects a broken watch inside its watch manager, from
 * the last resourceVersion, without telling the informer or any handler (only a 410 reaches the
 * informer, as a re-list). Every watch that opens, though, is one HTTP request (a WebSocket upgrade
 * answered 101, or a streaming GET answered 200), and fabric8 runs interceptors on both. Failed
 * attempts (refused, 503) are not counted: an outage of any length is one restart.
 */
final class WatchCounter implements Interceptor {
  static final String NAME = "state-probe-watch-counter";

  private final AtomicLong opened = new AtomicLong();

  @Override
  public void after(
      HttpRequest request,
      HttpResponse<?> response,
      AsyncBody.Consumer<List<ByteBuffer>> consumer) {
    String query = request.uri().getRawQuery();
    if (query != null
        && (query.startsWith("watch=true") || query.contains("&watch=true"))
        && (response.code() == 101 || response.code() == 200)) {
      opened.incrementAndGet();
    }
  }

  /** Watches opened. */
  long opened() {
    return opened.get();
  }

  /** Watches opened after the first one. */
  long restarts() {
    return Math.max(0, opened.get() - 1);
  }
}
