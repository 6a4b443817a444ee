/**
 * The control-plane view: a fabric8 pod informer limited to this node by field selector. Rule: the
 * informer's callbacks only turn objects into records; snapshots are immutable and replaced whole,
 * so readers never see a half-applied change.
 */
package dev.stateprobe.controlplane;
