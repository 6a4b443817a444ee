/**
 * The control-plane view: the agent's own list/watch of this node's pods over Vert.x, decoded by
 * the same streaming decoder as the kubelet's view; credentials and TLS from fabric8's {@code
 * Config}, never fabric8's client or model. Rule: the list/watch only turns the API server's bytes
 * into records and trust signals on its one Vert.x context; snapshots are immutable and replaced
 * whole, so readers never see a half-applied change.
 */
package dev.stateprobe.controlplane;
