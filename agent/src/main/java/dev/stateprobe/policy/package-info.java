/**
 * ConsistencyPolicy: the model, its decoding and validation, which policy selects a pod, and what a
 * pod's consistency level changes (windows, observations, repair mode, planning priority). Rule:
 * pure; no I/O, no clock, no logger, no Vert.x, fabric8 client or Micrometer (enforced by {@code
 * PolicyPurityTest}); the list/watch that feeds it lives at the edge, behind {@link PolicySource}.
 */
package dev.stateprobe.policy;
