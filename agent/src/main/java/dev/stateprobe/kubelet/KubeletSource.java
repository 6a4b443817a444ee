package dev.stateprobe.kubelet;

import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimeView;
import io.vertx.core.Future;
import java.util.Optional;

/**
 * Where kubelet views come from: the kubelet's own port, or the API server's node proxy. Both
 * answer on the event loop and never block it.
 */
public interface KubeletSource extends AutoCloseable {

  /** {@code GET /pods}; fails with a {@link KubeletException}. */
  Future<KubeletView> pollPods();

  /**
   * {@code GET /runningpods/}; empty when the kubelet does not serve it (403/404), in which case it
   * is asked again only after the re-probe interval. Fails with a {@link KubeletException} for
   * other errors.
   */
  Future<Optional<RuntimeView>> pollRunningPods();

  /** False after a 403/404 from {@code /runningpods/}, until a re-probe succeeds. */
  boolean runtimeAvailable();

  /** A short human phrase for {@code /readyz}: where this source reads from. */
  String describe();

  @Override
  void close();
}
