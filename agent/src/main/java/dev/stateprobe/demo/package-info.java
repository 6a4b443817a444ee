/**
 * The {@code demo} mode and the end-to-end scenarios: a simulated node (API server, kubelet,
 * runtime) with the real agent on it, broken in known ways; every scenario states which drifts the
 * agent must confirm and which repairs it must run, and is judged only by what the agent and the
 * API server show, never by the agent's internals.
 */
package dev.stateprobe.demo;
