package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code status.verification}: whether the drift was gone two trusted cycles after a success. */
public enum Verification {
  @JsonProperty("Pending")
  PENDING("Pending"),
  @JsonProperty("Resolved")
  RESOLVED("Resolved"),
  @JsonProperty("Unresolved")
  UNRESOLVED("Unresolved");

  private final String wireName;

  Verification(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }
}
