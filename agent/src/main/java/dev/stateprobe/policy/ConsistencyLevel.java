package dev.stateprobe.policy;

import java.util.Arrays;
import java.util.Optional;

/**
 * How much a workload's consistency matters. {@link #wireName()} is the CRD's spelling, {@link
 * #tag()} the bounded {@code level} metric tag and the {@code /v1/drifts} value.
 */
public enum ConsistencyLevel {
  /** Detect and report only; a repair at most creates a record awaiting approval. */
  EVENTUAL("Eventual", 0),
  /** The agent's behaviour without policies; the level of every pod no policy selects. */
  STRICT("Strict", 1),
  /** Confirmed sooner, planned first on the node and first in the cluster budget. */
  CRITICAL("Critical", 2);

  private final String wireName;
  private final int priority;

  ConsistencyLevel(String wireName, int priority) {
    this.wireName = wireName;
    this.priority = priority;
  }

  public String wireName() {
    return wireName;
  }

  /** The bounded metric tag: {@code eventual}, {@code strict} or {@code critical}. */
  public String tag() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Higher goes first: on the node's planner and for a cluster budget slot. Critical 2, Strict 1,
   * Eventual 0.
   */
  public int priority() {
    return priority;
  }

  public static Optional<ConsistencyLevel> fromWireName(String name) {
    return Arrays.stream(values()).filter(l -> l.wireName.equals(name)).findFirst();
  }
}
