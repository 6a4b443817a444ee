package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.stateprobe.view.PodRef;
import java.util.Objects;

/** {@code spec.drift.target}: the pod a repair acts on. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record TargetRef(String namespace, String name, String uid) {
  public TargetRef {
    Objects.requireNonNull(namespace, "spec.drift.target.namespace");
    Objects.requireNonNull(name, "spec.drift.target.name");
    Objects.requireNonNull(uid, "spec.drift.target.uid");
  }

  public static TargetRef of(PodRef pod) {
    return new TargetRef(pod.namespace(), pod.name(), pod.uid());
  }

  public PodRef toPodRef() {
    return new PodRef(namespace, name, uid);
  }
}
