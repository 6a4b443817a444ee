/**
 * The agent's HTTP surface: {@code /metrics}, {@code /healthz}, {@code /readyz}, {@code /v1/views},
 * {@code /v1/drifts}. Rule: handlers only read published immutable state and render it on the event
 * loop; they never poll, list or block, and unknown paths answer 404. No client gets a second reply
 * built before it has read the first, nor more than its share of connections. The agent is read
 * through {@link dev.stateprobe.http.AgentState}, never the loop itself.
 */
package dev.stateprobe.http;
