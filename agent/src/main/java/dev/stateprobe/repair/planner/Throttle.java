package dev.stateprobe.repair.planner;

/**
 * Why a repair was held back. {@link #tag()} is the bounded {@code reason} tag of {@code
 * stateprobe_repairs_throttled_total}.
 */
public enum Throttle {
  /** {@code maxConcurrent} scripts already run on the node. */
  CONCURRENCY("concurrency"),
  /** {@code maxPerHour} repairs already started in the rolling hour. */
  HOURLY("hourly"),
  /** The target had a successful repair less than its cooldown ago. */
  COOLDOWN("cooldown"),
  /** The same script failed for this drift less than its back-off ago. */
  BACKOFF("backoff"),
  /** Every matching script used its attempts (or said not to retry). */
  MAX_ATTEMPTS("max_attempts"),
  /** The circuit breaker is open: the views are more likely wrong than the pods. */
  CIRCUIT_OPEN("circuit_open"),
  /** The node annotation {@code stateprobe.dev/paused} is set. */
  PAUSED("paused"),
  /** A script already runs for the same pod. */
  TARGET_BUSY("target_busy"),
  /** A manual entry waits for a person to approve its record. */
  AWAITING_APPROVAL("awaiting_approval"),
  /** {@code REPAIR_MODE=off}. */
  MODE_OFF("mode_off"),
  /** No catalog entry matches the drift (or none its pod's ConsistencyPolicy allows). */
  NO_SCRIPT("no_script"),
  /**
   * No cluster repair slot (Lease) could be held: all held, the cluster's hourly cap, or the API
   * server unreachable. Not a planner decision: the repair was planned and waits between its record
   * and its fresh reads (repair/budget).
   */
  CLUSTER_BUDGET("cluster_budget"),
  /** The fleet storm brake is on, stale or missing: no new repair starts anywhere. */
  FLEET_BRAKE("fleet_brake"),
  // ---- consistency policies ----
  /** The pod's ConsistencyPolicy sets {@code repair.mode: off}. */
  POLICY_OFF("policy_off"),
  /** The agent has not read the ConsistencyPolicies yet: the pod's level is unknown. */
  POLICIES_UNSYNCED("policies_unsynced");

  private final String tag;

  Throttle(String tag) {
    this.tag = tag;
  }

  public String tag() {
    return tag;
  }
}
