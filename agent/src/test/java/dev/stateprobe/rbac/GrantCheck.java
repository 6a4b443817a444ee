package dev.stateprobe.rbac;

import dev.stateprobe.sim.SimApiRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares the grants of a role ({@code group/resource[/subresource]:verb}, as {@link
 * dev.stateprobe.manifests.ClusterRoleGrants} writes them) with the calls a run made: to the API
 * server, as the simulated API server resolved them, and to the kubelet, through the kubelet's own
 * mapping ({@link KubeletAuthorization}). Pure.
 */
final class GrantCheck {
  /**
   * Non-resource paths every authenticated user may GET through the default ClusterRoles {@code
   * system:discovery} and {@code system:public-info-viewer}; an agent's role need not grant them.
   */
  static final List<String> DISCOVERY_PATHS =
      List.of("/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/openapi");

  private GrantCheck() {}

  /** A request the kubelet received, and whether it accepted the bearer token. */
  record KubeletCall(String method, String path, boolean authenticated) {}

  /**
   * @param apiUse API-server calls by the grant they need
   * @param kubeletUse kubelet calls by the first grant (in the kubelet's order) that admits them
   * @param notGranted one line per grant (or path) that a call needed and the role lacks
   * @param unused grants no call used, without the exceptions the kubelet's calls account for
   * @param idleExceptions exceptions that no kubelet call accounts for, with their reason
   */
  record Result(
      Map<String, List<SimApiRequest>> apiUse,
      Map<String, Long> kubeletUse,
      List<String> notGranted,
      Set<String> unused,
      Map<String, String> idleExceptions) {

    List<String> problems() {
      List<String> out = new ArrayList<>(notGranted);
      unused.forEach(g -> out.add("grant never used: " + g));
      idleExceptions.forEach(
          (g, why) ->
              out.add(
                  "grant never used: "
                      + g
                      + " (an exception, "
                      + why
                      + ", but the kubelet served no call that needs it)"));
      return out;
    }

    String summary() {
      StringBuilder b = new StringBuilder("calls to the API server, by grant:\n");
      apiUse.forEach(
          (g, calls) -> b.append("  ").append(g).append(" x").append(calls.size()).append('\n'));
      b.append("calls to the kubelet, by the grant that admits them:\n");
      kubeletUse.forEach((g, n) -> b.append("  ").append(g).append(" x").append(n).append('\n'));
      return b.toString();
    }
  }

  /**
   * @param notObservable grants the API server cannot see in use (the kubelet authorizes them),
   *     each with its reason; exempt from "never used" only while a kubelet call needs them
   */
  static Result check(
      Set<String> granted,
      List<SimApiRequest> apiCalls,
      List<KubeletCall> kubeletCalls,
      Map<String, String> notObservable) {
    Map<String, List<SimApiRequest>> apiUse = new TreeMap<>();
    List<String> notGranted = new ArrayList<>();
    for (SimApiRequest r : apiCalls) {
      if (r.resource() == null) {
        if (!isDiscovery(r)) {
          notGranted.add(
              "non-resource call no default role grants: " + r.method() + " " + r.path());
        }
      } else {
        apiUse.computeIfAbsent(grant(r), g -> new ArrayList<>()).add(r);
      }
    }
    apiUse.forEach(
        (g, calls) -> {
          if (!granted.contains(g)) {
            SimApiRequest first = calls.getFirst();
            notGranted.add(
                "call not granted: "
                    + g
                    + " ("
                    + calls.size()
                    + (calls.size() == 1 ? " call: " : " calls, e.g. ")
                    + first.method()
                    + " "
                    + first.path()
                    + (first.query().isEmpty() ? "" : "?" + first.query())
                    + ")");
          }
        });
    Map<String, Long> kubeletUse = new TreeMap<>();
    for (KubeletCall c : kubeletCalls) {
      if (!c.authenticated()) {
        continue; // answered 401 before any authorization
      }
      List<String> asked = KubeletAuthorization.grantsFor(c.method(), c.path());
      Optional<String> admits = asked.stream().filter(granted::contains).findFirst();
      if (admits.isPresent()) {
        kubeletUse.merge(admits.get(), 1L, Long::sum);
      } else {
        notGranted.add(
            "kubelet call not granted: " + c.method() + " " + c.path() + " needs one of " + asked);
      }
    }
    Set<String> unused = new TreeSet<>();
    Map<String, String> idle = new TreeMap<>();
    for (String g : granted) {
      if (apiUse.containsKey(g)) {
        continue;
      }
      if (notObservable.containsKey(g)) {
        if (!kubeletUse.containsKey(g)) {
          idle.put(g, notObservable.get(g));
        }
      } else {
        unused.add(g);
      }
    }
    return new Result(apiUse, kubeletUse, List.copyOf(notGranted), unused, idle);
  }

  /** {@code group/resource[/subresource]:verb}; the core group is empty. */
  static String grant(SimApiRequest r) {
    return r.apiGroup()
        + "/"
        + r.resource()
        + (r.subresource() == null ? "" : "/" + r.subresource())
        + ":"
        + r.verb();
  }

  private static boolean isDiscovery(SimApiRequest r) {
    return r.method().equals("GET")
        && DISCOVERY_PATHS.stream()
            .anyMatch(p -> r.path().equals(p) || r.path().startsWith(p + "/"));
  }
}
