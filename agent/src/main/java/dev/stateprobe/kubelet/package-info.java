/**
 * Reading the kubelet: {@code /pods} and {@code /runningpods/} over HTTPS with a rotating bearer
 * token, or through the API server's node proxy. Rule: never block the event loop; every failure is
 * a {@link dev.stateprobe.metrics.FailureReason}, counted and survived.
 */
package dev.stateprobe.kubelet;
