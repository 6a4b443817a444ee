/**
 * The control plane as the agent reads it: its own list/watches over Vert.x, credentials and TLS
 * from fabric8's {@code Config}, never fabric8's client, informer or model. Rule: a list/watch only
 * turns the API server's bytes into decoded objects and trust signals on its one Vert.x context;
 * snapshots are immutable and replaced whole, so readers never see a half-applied change; a bad
 * object is counted and logged, never fatal.
 *
 * <p>One machine, {@link dev.stateprobe.controlplane.ListWatch}, lists (paged, or a streaming
 * list), watches from the list's version with bookmarks, resumes from the last version after a drop
 * or timeout, re-lists after 410 Gone, and backs off with jitter. {@link
 * dev.stateprobe.controlplane.PodListWatch} runs it for this node's pods (keyed by UID, decoded by
 * {@code PodJsonDecoder}). Anything else is one call:
 *
 * <pre>{@code
 * // every ConsistencyPolicy (cluster-scoped custom resource), keyed by name
 * ListWatch<Policy> policies = ListWatch.of(apiServerClient,
 *     ResourceRef.cluster("stateprobe.dev", "v1alpha1", "consistencypolicies",
 *         "ConsistencyPolicyList"),
 *     ObjectDecoder.streaming(Policy::read),      // JsonParser -> Policy
 *     ListWatch.Settings.defaults());
 *
 * // one Lease by name (fieldSelector=metadata.name=..., so RBAC can use resourceNames),
 * // keyed "namespace/name"
 * ListWatch<Brake> brake = ListWatch.of(apiServerClient,
 *     ResourceRef.namespaced("coordination.k8s.io", "v1", "leases", "LeaseList", namespace)
 *         .named("state-probe-brake"),
 *     Brake::decode,                              // (bytes, offset, length) -> Brake
 *     ListWatch.Settings.defaults());
 *
 * brake.onChange(snapshot -> ...);   // on the list/watch's event loop: quick, never blocking
 * brake.start();
 * brake.firstSync();                 // completes at the first list + an open watch
 * brake.snapshot().objects();        // immutable Map<String, Brake>; also synced(), relisting()
 * brake.close();
 * }</pre>
 */
package dev.stateprobe.controlplane;
