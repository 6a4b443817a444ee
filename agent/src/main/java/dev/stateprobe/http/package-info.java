/**
 * The agent's HTTP surface: {@code /metrics}, {@code /healthz}, {@code /readyz}, {@code /v1/views},
 * {@code /v1/drifts}. Rule: handlers only read published immutable state and render it on the event
 * loop; they never poll, list or block, and unknown paths answer 404.
 */
package dev.stateprobe.http;
