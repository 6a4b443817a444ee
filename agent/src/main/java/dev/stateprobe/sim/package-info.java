/**
 * Simulated node parts for tests and the demo mode: a fake kubelet that speaks the real wire format
 * over real HTTPS. Rule: behave like the real component on the wire, make every fault injectable
 * and every request observable, and keep no state outside the instance.
 */
package dev.stateprobe.sim;
