/**
 * Immutable snapshot values shared by every part of the agent: compact pod records and the three
 * views. Rule: records only, no I/O, no mutable state, no framework types.
 */
package dev.stateprobe.view;
