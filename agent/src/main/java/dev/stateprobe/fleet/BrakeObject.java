package dev.stateprobe.fleet;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The brake as published: a {@code coordination.k8s.io/v1} Lease named {@link #NAME} in the agents'
 * namespace. {@code spec.renewTime} is the coordinator's heartbeat and {@code spec.holderIdentity}
 * the leader that wrote it; the annotations carry the decision.
 *
 * @param holder {@code spec.holderIdentity}
 * @param renewTime {@code spec.renewTime}: the last heartbeat
 * @param annotations the object's annotations (only the {@code stateprobe.dev/brake*} ones are
 *     read)
 */
public record BrakeObject(
    Optional<String> holder, Optional<Instant> renewTime, Map<String, String> annotations) {

  /** The Lease's name. */
  public static final String NAME = "state-probe-fleet-brake";

  /** {@code on} or {@code off}; anything else reads as on. */
  public static final String STATE = "stateprobe.dev/brake";

  /** Why, in words: the counts against the threshold. */
  public static final String REASON = "stateprobe.dev/brake-reason";

  /** Nodes with a repair record in the window. */
  public static final String DRIFTING = "stateprobe.dev/brake-drifting-nodes";

  /** Nodes in the cluster. */
  public static final String NODES = "stateprobe.dev/brake-nodes";

  /** When the state last changed (RFC 3339). */
  public static final String SINCE = "stateprobe.dev/brake-since";

  public static final String ON = "on";
  public static final String OFF = "off";

  public BrakeObject {
    Objects.requireNonNull(holder, "holder");
    Objects.requireNonNull(renewTime, "renewTime");
    annotations = Map.copyOf(annotations);
  }

  /** The published state says off, and nothing else: any other value holds repairs back. */
  public boolean saysOff() {
    return OFF.equals(annotations.get(STATE));
  }

  public String reason() {
    return annotations.getOrDefault(REASON, "");
  }
}
