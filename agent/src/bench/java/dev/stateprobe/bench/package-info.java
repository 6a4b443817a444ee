/**
 * Benchmarks and the footprint harness's simulated node; built only with {@code -Pbench}, never
 * shipped. Rule: measure the agent's own code on realistic bytes, and compare it with the floor and
 * the naive way over the very same bytes.
 */
package dev.stateprobe.bench;
