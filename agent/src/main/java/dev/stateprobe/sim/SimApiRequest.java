package dev.stateprobe.sim;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * One request the simulated API server received, with the attributes Kubernetes authorization sees
 * (verb, API group, resource, subresource, namespace, name), resolved from the path the way
 * kube-apiserver's request-info resolver does.
 *
 * @param method HTTP method, upper case
 * @param path the path without the query
 * @param query the raw (still percent-encoded) query, {@code ""} when there is none
 * @param verb {@code get list watch create update patch delete deletecollection} for resource
 *     requests; the lower-case HTTP method for other paths ({@code /version}, {@code /apis})
 * @param apiGroup {@code ""} for the core group; {@code null} for non-resource paths
 * @param resource e.g. {@code pods}; {@code null} for non-resource paths
 * @param subresource e.g. {@code status}, {@code binding}; {@code null} when there is none
 * @param namespace {@code null} for cluster-scoped and all-namespace requests
 * @param name {@code null} for collection requests, but for a list or watch with {@code
 *     fieldSelector=metadata.name=X}: X, as kube-apiserver resolves it for RBAC's {@code
 *     resourceNames}
 * @param backstage sent by {@link SimApiServer#client()}, which faults never touch
 * @param code the status the server answered; 101 for an accepted watch (WebSocket upgrade)
 */
public record SimApiRequest(
    String method,
    String path,
    String query,
    String verb,
    String apiGroup,
    String resource,
    String subresource,
    String namespace,
    String name,
    boolean backstage,
    int code) {

  // kube-apiserver treats these as subresources of a namespace rather than namespaced resources.
  private static final Set<String> NAMESPACE_SUBRESOURCES = Set.of("status", "finalize");

  public SimApiRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(verb, "verb");
  }

  /** Resolves the request-info of {@code method} on {@code uri} (path plus optional query). */
  static SimApiRequest parse(String method, String uri, boolean backstage, int code) {
    String upper = method.toUpperCase(Locale.ROOT);
    int q = uri.indexOf('?');
    String path = q < 0 ? uri : uri.substring(0, q);
    String query = q < 0 ? "" : uri.substring(q + 1);
    List<String> parts = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();

    String group;
    List<String> rest;
    if (parts.size() >= 2 && parts.get(0).equals("api")) {
      group = "";
      rest = parts.subList(2, parts.size());
    } else if (parts.size() >= 3 && parts.get(0).equals("apis")) {
      group = parts.get(1);
      rest = parts.subList(3, parts.size());
    } else {
      return new SimApiRequest(
          upper,
          path,
          query,
          upper.toLowerCase(Locale.ROOT),
          null,
          null,
          null,
          null,
          null,
          backstage,
          code);
    }
    if (rest.isEmpty()) {
      // Discovery of a group version (/api/v1, /apis/g/v): not a resource request.
      return new SimApiRequest(
          upper,
          path,
          query,
          upper.toLowerCase(Locale.ROOT),
          null,
          null,
          null,
          null,
          null,
          backstage,
          code);
    }
    String namespace = null;
    if (rest.get(0).equals("namespaces") && rest.size() > 1) {
      namespace = rest.get(1);
      if (rest.size() > 2 && !NAMESPACE_SUBRESOURCES.contains(rest.get(2))) {
        rest = rest.subList(2, rest.size());
      }
    }
    String resource = rest.get(0);
    String name = rest.size() > 1 ? rest.get(1) : null;
    String subresource = rest.size() > 2 ? rest.get(2) : null;
    if (resource.equals("namespaces")) {
      // GET /api/v1/namespaces/ns names the namespace object itself.
      namespace = null;
    }
    boolean watch = "true".equals(queryParameter(query, "watch"));
    String verb =
        switch (upper) {
          case "GET", "HEAD" -> watch ? "watch" : name == null ? "list" : "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> name == null ? "deletecollection" : "delete";
          default -> upper.toLowerCase(Locale.ROOT);
        };
    if (name == null && (verb.equals("list") || verb.equals("watch"))) {
      // As kube-apiserver's RequestInfo does: a list or watch selecting one name by
      // fieldSelector=metadata.name=X is authorized as a request for X (RBAC resourceNames).
      name = selectedName(queryParameter(query, "fieldSelector"));
    }
    return new SimApiRequest(
        upper, path, query, verb, group, resource, subresource, namespace, name, backstage, code);
  }

  private static String selectedName(String fieldSelector) {
    if (fieldSelector == null) {
      return null;
    }
    for (String term : fieldSelector.split(",")) {
      String t = term.trim();
      if (t.startsWith("metadata.name==")) {
        return t.substring("metadata.name==".length());
      }
      if (t.startsWith("metadata.name=")) {
        return t.substring("metadata.name=".length());
      }
    }
    return null;
  }

  /** The decoded value of a query parameter, or {@code null}. */
  public String queryParameter(String key) {
    return queryParameter(query, key);
  }

  /** A LIST or WATCH of pods (any namespace). */
  public boolean isPodCollection(String wantedVerb) {
    return wantedVerb.equals(verb)
        && "".equals(apiGroup)
        && "pods".equals(resource)
        && name == null;
  }

  static String queryParameter(String query, String key) {
    if (query.isEmpty()) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      if (URLDecoder.decode(k, StandardCharsets.UTF_8).equals(key)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
