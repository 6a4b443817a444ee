/**
 * {@code state-probe coordinator}: a small leader-elected Deployment that counts the fleet's repair
 * records and publishes the storm brake, and writes the one Event per invalid ConsistencyPolicy
 * version. Its edges (fabric8's leader election, an informer on the records, a node count, the
 * brake Lease, Events) live here; the decision is the pure {@link dev.stateprobe.fleet.FleetStorm}.
 * Blocking calls run on the coordinator's own threads: there is no event loop here.
 */
package dev.stateprobe.coordinator;
