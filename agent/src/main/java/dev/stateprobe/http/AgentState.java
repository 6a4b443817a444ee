package dev.stateprobe.http;

import dev.stateprobe.controlplane.ControlPlaneSource;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.kubelet.KubeletSource;

/**
 * What the endpoints read from the running agent. Owned here so that the HTTP surface depends on
 * what it reads, not on the loop that produces it.
 */
public interface AgentState {
  /** The last published cycle, or {@code null} before the first one. */
  CycleResult last();

  /** Whether a kubelet poll has ever succeeded (for {@code /readyz}). */
  boolean kubeletEverOk();

  ControlPlaneSource controlPlane();

  KubeletSource kubelet();

  /** Why the repair of {@code key} waits for a cluster budget slot now, if it does. */
  default java.util.Optional<String> budgetWait(dev.stateprobe.drift.DriftKey key) {
    return java.util.Optional.empty();
  }
}
