/**
 * The repair planner and circuit breaker: which confirmed drift gets which script now, and which
 * waits for what. Rule: a pure function of the {@link dev.stateprobe.repair.planner.PlanInput}
 * given, including {@code now}; no I/O, no clock, no logger, no Vert.x, fabric8 or Micrometer
 * (enforced by {@code PlannerPurityTest}); it has its own mode type and reads no configuration.
 */
package dev.stateprobe.repair.planner;
