/**
 * Kubernetes Events (events.k8s.io/v1) about pods and the node. Rule: best effort and aggregated —
 * a repeat within the series window patches the existing event's series instead of creating another
 * (a restarted agent's too: the series' name is deterministic), and a failed write is logged, never
 * fails the caller.
 */
package dev.stateprobe.events;
