/**
 * Simulated cluster parts for tests and the {@code demo} mode.
 * Rule: a simulation fails only when asked to, the way the real component fails, and says where it
 * differs from the real one.
 */
package dev.stateprobe.sim;
