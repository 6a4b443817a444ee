package dev.stateprobe.controlplane;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Which objects a {@link ListWatch} lists and watches: a resource (group, version, plural, and the
 * {@code kind} of its list, e.g. {@code LeaseList}), optionally one namespace and a field selector.
 *
 * <pre>{@code
 * ResourceRef cpol = ResourceRef.cluster("stateprobe.dev", "v1alpha1", "consistencypolicies",
 *     "ConsistencyPolicyList");
 * ResourceRef brake = ResourceRef.namespaced("coordination.k8s.io", "v1", "leases", "LeaseList",
 *     "state-probe").named("state-probe-brake");
 * }</pre>
 *
 * @param group the API group, {@code ""} for the core group
 * @param namespace {@code null} for a cluster-scoped resource, or all namespaces
 * @param fieldSelector {@code null} for none, e.g. {@code metadata.name=brake}
 */
public record ResourceRef(
    String group,
    String version,
    String plural,
    String listKind,
    String namespace,
    String fieldSelector) {

  public ResourceRef {
    Objects.requireNonNull(group, "group");
    requireText(version, "version");
    requireText(plural, "plural");
    requireText(listKind, "listKind");
    if (namespace != null && namespace.isBlank()) {
      throw new IllegalArgumentException("namespace is blank; use null for all namespaces");
    }
    if (fieldSelector != null && fieldSelector.isBlank()) {
      fieldSelector = null;
    }
  }

  private static void requireText(String s, String what) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException(what + " is required, got '" + s + "'");
    }
  }

  /** Every object of a cluster-scoped resource (or of a namespaced one in all namespaces). */
  public static ResourceRef cluster(String group, String version, String plural, String listKind) {
    return new ResourceRef(group, version, plural, listKind, null, null);
  }

  /** The objects of a namespaced resource in {@code namespace}. */
  public static ResourceRef namespaced(
      String group, String version, String plural, String listKind, String namespace) {
    requireText(namespace, "namespace");
    return new ResourceRef(group, version, plural, listKind, namespace, null);
  }

  /** The pods of every namespace with {@code spec.nodeName=nodeName}. */
  public static ResourceRef podsOnNode(String nodeName) {
    requireText(nodeName, "nodeName");
    return new ResourceRef("", "v1", "pods", "PodList", null, "spec.nodeName=" + nodeName);
  }

  /** The same objects, further selected by {@code selector} (the API server's syntax). */
  public ResourceRef withFieldSelector(String selector) {
    return new ResourceRef(group, version, plural, listKind, namespace, selector);
  }

  /**
   * Just the object called {@code name}, by {@code fieldSelector=metadata.name=NAME}: a LIST and
   * WATCH that RBAC can restrict with {@code resourceNames}.
   */
  public ResourceRef named(String name) {
    requireText(name, "name");
    return withFieldSelector("metadata.name=" + name);
  }

  /** The collection's path, e.g. {@code /apis/coordination.k8s.io/v1/namespaces/ns/leases}. */
  public String path() {
    StringBuilder b = new StringBuilder();
    b.append(group.isEmpty() ? "/api/" : "/apis/" + group + "/").append(version);
    if (namespace != null) {
      b.append("/namespaces/").append(namespace);
    }
    return b.append('/').append(plural).toString();
  }

  /**
   * {@code fieldSelector=...&} or {@code ""}: what every request of this ref's starts its query.
   */
  String selectorQuery() {
    return fieldSelector == null
        ? ""
        : "fieldSelector=" + URLEncoder.encode(fieldSelector, StandardCharsets.UTF_8) + "&";
  }

  /** For logs: {@code leases.coordination.k8s.io in ns (metadata.name=x)}. */
  public String describe() {
    return plural
        + (group.isEmpty() ? "" : "." + group)
        + (namespace == null ? "" : " in " + namespace)
        + (fieldSelector == null ? "" : " (" + fieldSelector + ")");
  }
}
