package dev.stateprobe.manifests;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.Set;
import java.util.TreeSet;

/**
 * A ClusterRole flattened into single grants {@code group/resource:verb} (the core group is empty:
 * {@code /pods:get}), the form in which the RBAC-recording test compares the role with the requests
 * the agent really makes.
 */
public final class ClusterRoleGrants {
  private ClusterRoleGrants() {}

  public static Set<String> of(ClusterRole role) {
    Set<String> grants = new TreeSet<>();
    for (PolicyRule rule : role.getRules()) {
      if (!rule.getResourceNames().isEmpty() || !rule.getNonResourceURLs().isEmpty()) {
        throw new AssertionError("rule with resourceNames or nonResourceURLs: " + rule);
      }
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            grants.add(group + "/" + resource + ":" + verb);
          }
        }
      }
    }
    return grants;
  }
}
