package dev.stateprobe.repair.job;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.Optional;

/** Test values: drifts, specs and records. */
final class Jobs {
  static final Instant T0 = Instant.parse("2026-11-20T12:00:00Z");
  static final String NODE = "worker-1";

  private Jobs() {}

  static TrackedDrift orphan(String name) {
    return new TrackedDrift(
        new Drift.OrphanedPod(new PodRef("shop", name, "uid-" + name), Drift.Source.KUBELET),
        T0.minusSeconds(90),
        T0.minusSeconds(30),
        4);
  }

  static RepairJobSpec spec(String pod, String script) {
    return RepairJobSpec.of(NODE, orphan(pod), Optional.of("4711"), script, false);
  }

  /** A record with every status field set, as after a verified success. */
  static ConsistencyRepairJob full() {
    RepairJobSpec spec = spec("cart-7d9f", "remove-orphaned-sandbox");
    RepairJobStatus status =
        RepairJobStatus.pending("created", T0)
            .start(1, false, T0.plusSeconds(1))
            .finish(Phase.FAILED, 1, "boom\n", "exit 1", T0.plusSeconds(2))
            .start(2, false, T0.plusSeconds(62))
            .finish(Phase.SUCCEEDED, 0, "removed sandbox 0f3c\n", "exit 0", T0.plusSeconds(63))
            .verify(Verification.RESOLVED, T0.plusSeconds(73));
    return ConsistencyRepairJob.of(
        new ObjectMetaBuilder().withName(spec.jobName()).addToLabels(Labels.NODE, NODE).build(),
        spec,
        status);
  }
}
