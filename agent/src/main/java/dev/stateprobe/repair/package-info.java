/**
 * The acting half: turns confirmed drifts into ConsistencyRepairJobs and runs their scripts. Rule:
 * a record is written before anything acts, a fresh read re-confirms the drift right before a
 * script starts, and the outcome is written back before the next decision; the pure choices live in
 * {@code planner}, the I/O here and in {@code job} and {@code exec}. One class per job: {@link
 * dev.stateprobe.repair.RepairController} only orders a cycle and asks the planner; the attempt,
 * the record cache, approvals, the pause switch, the breaker and verifications are its parts, each
 * touched only on the agent's Vert.x context.
 */
package dev.stateprobe.repair;
