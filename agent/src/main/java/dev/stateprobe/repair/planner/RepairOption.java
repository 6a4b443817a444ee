package dev.stateprobe.repair.planner;

import java.time.Duration;
import java.util.Objects;

/**
 * One catalog script as the planner needs it. A drift's options come in escalation order: the
 * planner tries the first one that still has attempts left.
 *
 * @param script the catalog entry's name (DNS-1123)
 * @param mode whether it runs by itself, only once a person approves it, or only as a dry run
 * @param maxAttempts attempts of this script per drift before the planner escalates
 * @param cooldown the wait after a success (per target) and the base of the back-off after a
 *     failure: {@code cooldown × 2^(attempts−1)}
 */
public record RepairOption(String script, Mode mode, int maxAttempts, Duration cooldown) {

  /** The catalog entry's {@code mode}. */
  public enum Mode {
    /** Runs when the limits allow. */
    AUTO,
    /** Runs only once a person has set {@code spec.approved} on its record. */
    MANUAL,
    /** Always runs with {@code STATE_PROBE_DRY_RUN=true}, whatever {@code REPAIR_MODE} says. */
    DRY_RUN
  }

  public RepairOption {
    Objects.requireNonNull(script, "script");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(cooldown, "cooldown");
    if (script.isBlank()) {
      throw new IllegalArgumentException("repair option: script name is blank");
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException(
          "repair option " + script + ": maxAttempts must be >= 1, was " + maxAttempts);
    }
    if (cooldown.isNegative()) {
      throw new IllegalArgumentException(
          "repair option " + script + ": cooldown must not be negative, was " + cooldown);
    }
  }
}
