package dev.stateprobe.view;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything one detection cycle looks at, taken at {@code now}.
 *
 * @param kubelet the last well-formed kubelet view, if any poll ever succeeded
 * @param lastKubeletPollOk whether the most recent poll succeeded (a failed poll keeps the old
 *     view here but makes the cycle untrusted)
 * @param runtime the last runtime view, empty when the runtime view is unavailable
 */
public record Snapshot(
    long cycle,
    Instant now,
    ControlPlaneView controlPlane,
    Optional<KubeletView> kubelet,
    boolean lastKubeletPollOk,
    Optional<RuntimeView> runtime) {

  public Snapshot {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(controlPlane, "controlPlane");
    Objects.requireNonNull(kubelet, "kubelet");
    Objects.requireNonNull(runtime, "runtime");
  }
}
