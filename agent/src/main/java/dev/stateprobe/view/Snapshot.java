package dev.stateprobe.view;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything one detection cycle looks at, taken at {@code now}.
 *
 * @param kubelet the last well-formed kubelet view, if any poll ever succeeded
 * @param lastKubeletPollOk whether the most recent poll succeeded (a failed poll keeps the old view
 *     here but makes the cycle untrusted)
 * @param runtime the last runtime view, empty when the runtime view is unavailable
 * @param runtimePollOk false when the kubelet serves the runtime view but its last poll failed and
 *     no fresh runtime view is left: the cycle cannot vouch for runtime drifts, nor clear them
 */
public record Snapshot(
    long cycle,
    Instant now,
    ControlPlaneView controlPlane,
    Optional<KubeletView> kubelet,
    boolean lastKubeletPollOk,
    Optional<RuntimeView> runtime,
    boolean runtimePollOk) {

  public Snapshot {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(controlPlane, "controlPlane");
    Objects.requireNonNull(kubelet, "kubelet");
    Objects.requireNonNull(runtime, "runtime");
  }
}
