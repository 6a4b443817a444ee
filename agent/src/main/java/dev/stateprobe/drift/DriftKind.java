package dev.stateprobe.drift;

import java.util.Arrays;
import java.util.Optional;

/**
 * The eight kinds of drift. {@link #wireName()} is the stable name used in JSON, metric tags, the
 * catalog and the CRD; never rename one.
 */
public enum DriftKind {
  ORPHANED_POD("OrphanedPod", "WINDOW_ORPHANED_POD", "60s"),
  UNKNOWN_TO_KUBELET("UnknownToKubelet", "WINDOW_UNKNOWN_TO_KUBELET", "60s"),
  UID_MISMATCH("UidMismatch", "WINDOW_UID_MISMATCH", "30s"),
  STALE_KUBELET_VIEW("StaleKubeletView", "WINDOW_STALE_KUBELET_VIEW", "30s"),
  /** Its window starts when the grace period has ended (the deletionTimestamp). */
  STUCK_TERMINATING("StuckTerminating", "WINDOW_STUCK_TERMINATING", "60s"),
  MISSING_MIRROR_POD("MissingMirrorPod", "WINDOW_MISSING_MIRROR_POD", "60s"),
  CONTAINER_NOT_RUNNING("ContainerNotRunning", "WINDOW_CONTAINER_NOT_RUNNING", "30s"),
  TERMINAL_BUT_RUNNING("TerminalButRunning", "WINDOW_TERMINAL_BUT_RUNNING", "30s");

  private final String wireName;
  private final String windowVariable;
  private final String defaultWindow;

  DriftKind(String wireName, String windowVariable, String defaultWindow) {
    this.wireName = wireName;
    this.windowVariable = windowVariable;
    this.defaultWindow = defaultWindow;
  }

  public String wireName() {
    return wireName;
  }

  /** The environment variable that sets this kind's confirmation window. */
  public String windowVariable() {
    return windowVariable;
  }

  /** Default window as a duration string ({@code 60s}). */
  public String defaultWindow() {
    return defaultWindow;
  }

  public static Optional<DriftKind> fromWireName(String name) {
    return Arrays.stream(values()).filter(k -> k.wireName.equals(name)).findFirst();
  }
}
