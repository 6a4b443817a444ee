package dev.stateprobe.view;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * The pods the kubelet means to run, from one successful {@code GET /pods}, keyed by UID.
 *
 * @param observedAt when the reply was received
 */
public record KubeletView(Map<String, PodRecord> podsByUid, Instant observedAt) {
  public KubeletView {
    podsByUid = Map.copyOf(podsByUid);
    Objects.requireNonNull(observedAt, "observedAt");
  }

  public int size() {
    return podsByUid.size();
  }
}
