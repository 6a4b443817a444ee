/**
 * The cluster repair budget: {@code CLUSTER_REPAIR_SLOTS} slot Leases in the agent's namespace, one
 * held by every running repair script in the cluster, and the cluster-wide hourly cap kept on the
 * same Leases. Rule: {@link dev.stateprobe.repair.budget.SlotDecision} (with {@link
 * dev.stateprobe.repair.budget.SlotView} and {@link dev.stateprobe.repair.budget.Starts}) is a pure
 * function of the slots as read, the rules, {@code now} and who asks (enforced by {@code
 * BudgetPurityTest}); the only I/O is {@link dev.stateprobe.repair.budget.SlotStore}'s, run on the
 * worker pool by {@link dev.stateprobe.repair.budget.ClusterBudget}, whose state lives on one
 * Vert.x context. Fail safe: a slot that cannot be read or written is not held, and without a slot
 * no script starts.
 */
package dev.stateprobe.repair.budget;
