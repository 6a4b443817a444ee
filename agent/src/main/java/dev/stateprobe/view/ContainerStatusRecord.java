package dev.stateprobe.view;

import java.util.Objects;

/** The fields of a {@code containerStatuses[]} entry the detector uses. */
public record ContainerStatusRecord(
    String name, ContainerState state, boolean ready, int restartCount) {
  public ContainerStatusRecord {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(state, "state");
  }
}
