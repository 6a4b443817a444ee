/**
 * The ConsistencyRepairJob custom resource: its model, its deterministic names and labels, and the
 * store that reads and writes it. Rule: every API call runs on the worker pool and comes back as a
 * Vert.x {@code Future}; a record is never created twice (AlreadyExists means adopt it).
 */
package dev.stateprobe.repair.job;
