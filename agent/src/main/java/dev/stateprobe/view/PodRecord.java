package dev.stateprobe.view;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A compact, immutable copy of the parts of a pod that drift detection needs; ~1 KB where a decoded
 * fabric8 {@code Pod} holds ~45 KB. Both the kubelet and the control-plane view are made of these,
 * by the same decoder, so a difference between two records is a difference between the two objects
 * and never between two mappings.
 *
 * <p>Hashes are order-independent digests of a JSON subtree in which null values, empty arrays and
 * empty objects count as absent (Go's {@code omitempty} and fabric8's serializer disagree on those,
 * the objects do not).
 *
 * @param phase {@code status.phase}, {@code ""} when absent
 * @param resourceVersion opaque; compare for equality only. {@code null} for static pods
 * @param creationTimestamp {@code null} for static pods as the kubelet reports them
 * @param deletionTimestamp the moment the grace period ends; {@code null} unless deleting
 * @param deletionGracePeriodSeconds {@code null} unless deleting
 * @param configSource annotation {@code kubernetes.io/config.source} ({@code file}, {@code http},
 *     {@code api}) or {@code null}
 * @param configHash annotation {@code kubernetes.io/config.hash} or {@code null}
 * @param configMirror annotation {@code kubernetes.io/config.mirror} (set on mirror pods) or {@code
 *     null}
 * @param controllerKind kind of the owner reference with {@code controller: true}, or {@code null}
 * @param labelsHash digest of {@code metadata.labels}
 * @param annotationsHash digest of {@code metadata.annotations} without the kubelet's own keys
 *     ({@code kubernetes.io/config.seen}, {@code kubernetes.io/config.source})
 * @param specHash digest of {@code spec}
 * @param statusHash digest of the status that matters: phase, conditions (type, status), and per
 *     container name, state, ready and restartCount (init containers included)
 * @param containers {@code status.containerStatuses} in order
 * @param labels {@code metadata.labels} (string values only): a ConsistencyPolicy's pod selector
 *     reads them
 */
public record PodRecord(
    String uid,
    String namespace,
    String name,
    String nodeName,
    String phase,
    String resourceVersion,
    Instant creationTimestamp,
    Instant deletionTimestamp,
    Long deletionGracePeriodSeconds,
    String configSource,
    String configHash,
    String configMirror,
    String controllerKind,
    long labelsHash,
    long annotationsHash,
    long specHash,
    long statusHash,
    List<ContainerStatusRecord> containers,
    Map<String, String> labels) {

  public PodRecord {
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    phase = phase == null ? "" : phase;
    containers = List.copyOf(containers);
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }

  public PodRef ref() {
    return new PodRef(namespace, name, uid);
  }

  /** Succeeded or Failed: the kubelet will never start its containers again. */
  public boolean terminal() {
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  /**
   * A pod the kubelet read from a file or URL rather than from the API server. A mirror pod carries
   * the same {@code config.source} annotation but is the API server's copy, not the static pod
   * itself.
   */
  public boolean isStatic() {
    return configMirror == null && ("file".equals(configSource) || "http".equals(configSource));
  }

  /** The API server's copy of a static pod. */
  public boolean isMirror() {
    return configMirror != null;
  }

  /** The key that pairs a static pod with its mirror: its config hash, which is its UID. */
  public String staticKey() {
    return configHash != null ? configHash : uid;
  }

  public boolean deleting() {
    return deletionTimestamp != null;
  }
}
