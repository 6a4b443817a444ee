/**
 * Fleet tests: many nodes, each with its own agent, against one simulated API server ({@link
 * dev.stateprobe.sim.SimCluster}). Rule: a scenario acts on every node (or a chosen few) at once,
 * waits on each agent's own cycles and on the API server's records, never on a sleep, and prints
 * what the API server carried rather than asserting a rate.
 */
package dev.stateprobe.fleet;
