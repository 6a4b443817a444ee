/**
 * Simulated node parts for tests and the {@code demo} mode: a fake kubelet over real HTTPS and a
 * mock API server that honours the node field selector. Rule: behave like the real component on the
 * wire, fail only when asked to and the way the real one fails, make every request observable, and
 * keep no state outside the instance.
 */
package dev.stateprobe.sim;
