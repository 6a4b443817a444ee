/**
 * Kubernetes Events (events.k8s.io/v1) about pods and the node. Rule: best effort and aggregated —
 * a repeat within the series window patches the existing event's series instead of creating
 * another, and a failed write is logged and counted, never fails the caller.
 */
package dev.stateprobe.events;
