/**
 * The pure core: drift kinds, the detector, the trust gate, the confirmation tracker and the cycle
 * result they add up to. Rule: a function of views, the pods' consistency policies ({@code policy},
 * pure as well) and the {@code now} passed in; no I/O, no clock and no read of the time, no logger,
 * no Vert.x, fabric8 client or Micrometer (enforced by {@code PurityTest}).
 */
package dev.stateprobe.drift;
