/**
 * Simulated node parts for tests and the {@code demo} mode: a fake kubelet over real HTTPS and a
 * mock API server that honours the node field selector. Rule: behave like the real component on the
 * wire, fail only when asked to and the way the real one fails, make every request observable, and
 * keep no state outside the instance. {@link dev.stateprobe.sim.SimCluster} is the one way to
 * assemble them into nodes (one API server, N nodes, their agents): the demo, the tests and the
 * harnesses build their nodes there and nowhere else.
 */
package dev.stateprobe.sim;
