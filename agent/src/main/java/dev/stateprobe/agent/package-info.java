/**
 * The detection loop: polls the views, runs the pure core, and publishes one immutable state per
 * cycle. Rule: the loop runs on one Vert.x context (no locks), never overlaps itself, and hands out
 * only immutable values.
 */
package dev.stateprobe.agent;
