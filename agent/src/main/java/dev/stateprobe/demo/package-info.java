/**
 * The {@code demo} mode and the end-to-end scenarios: a simulated node (API server, kubelet,
 * runtime) with the real agent on it, broken in known ways; every scenario states which drifts the
 * agent must confirm and which repairs it must run, and is judged only by what the agent and the
 * API server show, never by the agent's internals. With {@code --nodes N} the same holds for a
 * fleet: its scenarios are judged by the scripts' own stamps, the records and the Leases.
 */
package dev.stateprobe.demo;
