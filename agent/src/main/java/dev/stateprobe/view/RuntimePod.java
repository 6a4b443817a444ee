package dev.stateprobe.view;

import java.util.Objects;
import java.util.Set;

/** A pod with running containers as the kubelet's {@code /runningpods/} reports it. */
public record RuntimePod(String uid, String namespace, String name, Set<String> runningContainers) {
  public RuntimePod {
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    runningContainers = Set.copyOf(runningContainers);
  }

  public PodRef ref() {
    return new PodRef(namespace, name, uid);
  }
}
