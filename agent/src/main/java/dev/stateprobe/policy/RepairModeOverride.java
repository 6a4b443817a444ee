package dev.stateprobe.policy;

import java.util.Arrays;
import java.util.Optional;

/** A policy's {@code overrides.repair.mode}. */
public enum RepairModeOverride {
  /** The catalog entries' own modes. */
  AUTO("auto"),
  /** Every entry waits for a person to approve its record, even an {@code auto} one. */
  APPROVAL("approval"),
  /** No repair for the policy's pods: detect and report only. */
  OFF("off");

  private final String wireName;

  RepairModeOverride(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static Optional<RepairModeOverride> fromWireName(String name) {
    return Arrays.stream(values()).filter(m -> m.wireName.equals(name)).findFirst();
  }
}
