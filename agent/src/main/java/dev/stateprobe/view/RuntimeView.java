package dev.stateprobe.view;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * Pods with running containers, from one successful {@code GET /runningpods/}, keyed by UID. Absent
 * (not empty) when the kubelet does not serve that debugging handler.
 */
public record RuntimeView(Map<String, RuntimePod> podsByUid, Instant observedAt) {
  public RuntimeView {
    podsByUid = Map.copyOf(podsByUid);
    Objects.requireNonNull(observedAt, "observedAt");
  }

  public int size() {
    return podsByUid.size();
  }
}
