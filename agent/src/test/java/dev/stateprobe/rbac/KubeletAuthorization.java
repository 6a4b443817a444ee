package dev.stateprobe.rbac;

import java.util.List;
import java.util.Locale;

/**
 * How a kubelet authorizes a request to its own HTTPS API (port 10250), as the attributes it sends
 * the API server in a SubjectAccessReview: resource {@code nodes}, a subresource chosen by path,
 * the verb from the HTTP method. Mirrors kubelet {@code pkg/kubelet/server/auth.go} ({@code
 * GetRequestAttributes}) with fine-grained kubelet authorization (KEP-2862: alpha 1.32, beta and on
 * by default 1.33, GA and locked on 1.36): {@code /pods} and {@code /runningpods/} are checked as
 * {@code nodes/pods} first and fall back to {@code nodes/proxy}; {@code /healthz} and {@code
 * /configz} likewise with their own subresource; {@code /stats}, {@code /metrics}, {@code /logs},
 * {@code /checkpoint} have dedicated subresources; everything else ({@code /exec}, {@code /run},
 * {@code /attach}, ...) is {@code nodes/proxy}.
 */
final class KubeletAuthorization {
  private KubeletAuthorization() {}

  /**
   * The grants ({@code /nodes/SUB:verb}, in {@link dev.stateprobe.manifests.ClusterRoleGrants}
   * form) the kubelet asks about, in order: any one of them admits the request.
   */
  static List<String> grantsFor(String method, String path) {
    String verb =
        switch (method.toUpperCase(Locale.ROOT)) {
          case "GET" -> "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> "delete";
          // The kubelet leaves the verb empty for any other method, which no rule grants.
          default ->
              throw new IllegalArgumentException("no kubelet verb for HTTP method " + method);
        };
    String fineGrained = null;
    String dedicated = null;
    if (under(path, "/pods") || under(path, "/runningpods")) {
      fineGrained = "pods";
    } else if (under(path, "/healthz")) {
      fineGrained = "healthz";
    } else if (under(path, "/configz")) {
      fineGrained = "configz";
    } else if (under(path, "/stats")) {
      dedicated = "stats";
    } else if (under(path, "/metrics")) {
      dedicated = "metrics";
    } else if (under(path, "/logs")) {
      dedicated = "log";
    } else if (under(path, "/checkpoint")) {
      dedicated = "checkpoint";
    }
    if (dedicated != null) {
      return List.of(grant(dedicated, verb));
    }
    return fineGrained == null
        ? List.of(grant("proxy", verb))
        : List.of(grant(fineGrained, verb), grant("proxy", verb));
  }

  private static String grant(String subresource, String verb) {
    return "/nodes/" + subresource + ":" + verb;
  }

  /** The kubelet's {@code isSubpath}: the path itself or anything below it. */
  private static boolean under(String path, String root) {
    return path.equals(root) || path.equals(root + "/") || path.startsWith(root + "/");
  }
}
