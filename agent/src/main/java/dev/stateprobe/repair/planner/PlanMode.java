package dev.stateprobe.repair.planner;

/**
 * Whether the planner starts repairs, as {@code REPAIR_MODE} asks. The planner's own type, so the
 * pure planner does not depend on configuration; the controller maps the configured mode onto it.
 */
public enum PlanMode {
  /** Start repairs. */
  ON,
  /** Start repairs that run their scripts with {@code STATE_PROBE_DRY_RUN=true}. */
  DRY_RUN,
  /** Start nothing. */
  OFF
}
