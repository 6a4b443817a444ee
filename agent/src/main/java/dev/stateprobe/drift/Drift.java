package dev.stateprobe.drift;

import dev.stateprobe.view.PodRef;
import java.time.Instant;
import java.util.List;

/**
 * One disagreement between views, as seen in one cycle. A sealed family: code that handles drifts
 * switches over it exhaustively, so a new kind cannot be forgotten.
 */
public sealed interface Drift
    permits Drift.OrphanedPod,
        Drift.UnknownToKubelet,
        Drift.UidMismatch,
        Drift.StaleKubeletView,
        Drift.StuckTerminating,
        Drift.MissingMirrorPod,
        Drift.ContainerNotRunning,
        Drift.TerminalButRunning {

  /** The pod the drift is about; its UID is the one a repair must act on. */
  PodRef target();

  DriftKind kind();

  /** One sentence for people: what disagrees, and where. */
  String detail();

  /** Identity across cycles: the same key in two cycles is the same drift. */
  default DriftKey key() {
    return new DriftKey(kind(), target());
  }

  /** Which view still has the pod. */
  enum Source {
    KUBELET("kubelet"),
    RUNTIME("runtime");

    private final String label;

    Source(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** The kubelet lists, or the runtime runs, a non-static pod under a UID the API server lacks. */
  record OrphanedPod(PodRef target, Source seenIn) implements Drift {
    public DriftKind kind() {
      return DriftKind.ORPHANED_POD;
    }

    public String detail() {
      return seenIn == Source.KUBELET
          ? "kubelet lists it; API server has no pod with this UID"
          : "runtime runs it; API server has no pod with this UID";
    }
  }

  /** The API server binds a live pod to this node; the kubelet does not list it. */
  record UnknownToKubelet(PodRef target) implements Drift {
    public DriftKind kind() {
      return DriftKind.UNKNOWN_TO_KUBELET;
    }

    public String detail() {
      return "API server binds it to this node; kubelet does not list it";
    }
  }

  /** Same namespace/name, different UID: the pod was recreated and one side missed it. */
  record UidMismatch(PodRef target, String kubeletUid) implements Drift {
    public DriftKind kind() {
      return DriftKind.UID_MISMATCH;
    }

    public String detail() {
      return "API server has UID " + target.uid() + "; kubelet has UID " + kubeletUid;
    }
  }

  /** Same UID, but the kubelet's copy missed updates to the named fields. */
  record StaleKubeletView(PodRef target, List<String> fields) implements Drift {
    public StaleKubeletView {
      fields = List.copyOf(fields);
    }

    public DriftKind kind() {
      return DriftKind.STALE_KUBELET_VIEW;
    }

    public String detail() {
      return "kubelet's copy differs from the API server in " + String.join(", ", fields);
    }
  }

  /** Deleted, grace period over, and the kubelet or the runtime still has it. */
  record StuckTerminating(PodRef target, Instant deletionTimestamp, Source seenIn)
      implements Drift {
    public DriftKind kind() {
      return DriftKind.STUCK_TERMINATING;
    }

    public String detail() {
      return "grace period ended at "
          + deletionTimestamp
          + "; "
          + (seenIn == Source.KUBELET ? "kubelet still lists it" : "runtime still runs it");
    }
  }

  /** A static pod the kubelet runs has no mirror pod in the API server. */
  record MissingMirrorPod(PodRef target) implements Drift {
    public DriftKind kind() {
      return DriftKind.MISSING_MIRROR_POD;
    }

    public String detail() {
      return "static pod has no mirror pod in the API server";
    }
  }

  /** The API server reports these containers running; the runtime runs none of that name. */
  record ContainerNotRunning(PodRef target, List<String> containers) implements Drift {
    public ContainerNotRunning {
      containers = List.copyOf(containers);
    }

    public DriftKind kind() {
      return DriftKind.CONTAINER_NOT_RUNNING;
    }

    public String detail() {
      return "API server says running, runtime has no running container: "
          + String.join(", ", containers);
    }
  }

  /** The API server says the pod finished; the runtime still runs containers of it. */
  record TerminalButRunning(PodRef target, String phase) implements Drift {
    public DriftKind kind() {
      return DriftKind.TERMINAL_BUT_RUNNING;
    }

    public String detail() {
      return "API server phase is " + phase + "; runtime still runs its containers";
    }
  }
}
