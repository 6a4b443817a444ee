package dev.stateprobe.view;

/** The state of one container as a pod status reports it. */
public enum ContainerState {
  WAITING,
  RUNNING,
  TERMINATED,
  /** The status has no state object (the kubelet has not reported yet). */
  UNKNOWN
}
