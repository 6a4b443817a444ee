/**
 * The JSON documents the agent publishes: {@code /v1/drifts}, {@code /v1/views} and the drift a
 * repair script receives. Rule: pure rendering of values handed in, deterministic output (same
 * input, same bytes), shapes that scripts depend on never change silently.
 */
package dev.stateprobe.report;
