package dev.stateprobe.view;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * The pods the API server says are bound to this node, as the informer holds them, keyed by UID.
 *
 * @param synced the informer completed its initial list
 * @param relisting a re-list (after a 410 Gone or a broken watch) is in progress
 * @param lastRelistAt when the last re-list completed, or {@code null} if there was none after the
 *     initial sync
 * @param resourceVersion the last resourceVersion the informer saw (opaque)
 */
public record ControlPlaneView(
    Map<String, PodRecord> podsByUid,
    Instant observedAt,
    boolean synced,
    boolean relisting,
    Instant lastRelistAt,
    String resourceVersion,
    long relists,
    long watchRestarts) {

  public ControlPlaneView {
    podsByUid = Map.copyOf(podsByUid);
    Objects.requireNonNull(observedAt, "observedAt");
  }

  public int size() {
    return podsByUid.size();
  }
}
