/**
 * The repair planner, the circuit breaker and the verification state machine: which confirmed drift
 * gets which script now, which waits for what, and when a success is Resolved or Unresolved. Rule:
 * a pure function of what it is given, including {@code now}; no I/O, no clock, no logger, no
 * Vert.x, fabric8 or Micrometer (enforced by {@code PlannerPurityTest}); it has its own mode type
 * and reads no configuration.
 */
package dev.stateprobe.repair.planner;
