package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code status.phase} of a ConsistencyRepairJob. */
public enum Phase {
  @JsonProperty("Pending")
  PENDING("Pending"),
  @JsonProperty("Running")
  RUNNING("Running"),
  @JsonProperty("Succeeded")
  SUCCEEDED("Succeeded"),
  @JsonProperty("Failed")
  FAILED("Failed"),
  @JsonProperty("TimedOut")
  TIMED_OUT("TimedOut"),
  @JsonProperty("Skipped")
  SKIPPED("Skipped");

  private final String wireName;

  Phase(String wireName) {
    this.wireName = wireName;
  }

  /** The name in the CRD, in {@code kubectl get crj} and in the records-by-phase metric. */
  public String wireName() {
    return wireName;
  }

  /** The attempt is over: the record may be garbage-collected once it is older than the TTL. */
  public boolean finished() {
    return this != PENDING && this != RUNNING;
  }
}
