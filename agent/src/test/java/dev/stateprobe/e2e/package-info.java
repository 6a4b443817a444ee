/**
 * End-to-end tests of the whole agent on a simulated node (the simulated API server and the fake
 * HTTPS kubelet, seeded in agreement from a real capture). Rule: every test proves the agreement
 * first, then loses one event or breaks one view, and asserts on every cycle, never on a sleep.
 */
package dev.stateprobe.e2e;
