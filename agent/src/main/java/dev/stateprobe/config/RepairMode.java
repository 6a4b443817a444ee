package dev.stateprobe.config;

import java.util.Arrays;
import java.util.Optional;

/** {@code REPAIR_MODE}: whether confirmed drifts lead to repairs on this node. */
public enum RepairMode {
  /** Create records and run scripts. */
  ON("on"),
  /** Create records and run scripts with {@code STATE_PROBE_DRY_RUN=true}. */
  DRY_RUN("dry-run"),
  /** Create nothing. */
  OFF("off");

  private final String value;

  RepairMode(String value) {
    this.value = value;
  }

  public String value() {
    return value;
  }

  public static Optional<RepairMode> parse(String s) {
    return Arrays.stream(values()).filter(m -> m.value.equals(s)).findFirst();
  }
}
