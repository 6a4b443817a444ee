package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterRoleTest {
  private final RepoFiles repo = new RepoFiles();

  /**
   * Exactly what the agent and its shipped scripts use. {@code dev.stateprobe.rbac.RbacIT} holds
   * this set to the requests a running agent makes; it showed that nothing used the record verbs
   * watch, update and patch or the status verbs get and patch, which were removed.
   */
  static final Set<String> EXPECTED =
      Set.of(
          "/pods:get",
          "/pods:list",
          "/pods:watch",
          "/pods:delete", // force-delete-stuck-pod.sh, recreate-controlled-pod.sh (UID
          // preconditions)
          "/nodes:get",
          "/nodes/pods:get",
          "events.k8s.io/events:create",
          "events.k8s.io/events:get", // a restarted agent continues its predecessor's series
          "events.k8s.io/events:patch",
          "stateprobe.dev/consistencyrepairjobs:get",
          "stateprobe.dev/consistencyrepairjobs:list",
          "stateprobe.dev/consistencyrepairjobs:create",
          "stateprobe.dev/consistencyrepairjobs:delete",
          "stateprobe.dev/consistencyrepairjobs/status:update",
          "stateprobe.dev/consistencypolicies:list",
          "stateprobe.dev/consistencypolicies:watch");

  private ClusterRole role(String file) {
    return repo.object(repo.manifests().resolve(file), ClusterRole.class);
  }

  @Test
  void theAgentsRoleGrantsExactlyWhatItUses() {
    ClusterRole role = role("base/clusterrole.yaml");
    assertEquals("state-probe", role.getMetadata().getName());
    assertNull(role.getAggregationRule(), "an aggregated role would grow behind our back");
    assertEquals(new java.util.TreeSet<>(EXPECTED), ClusterRoleGrants.of(role));
  }

  @Test
  void theAgentsRoleHasNoWildcards() {
    for (String grant : ClusterRoleGrants.of(role("base/clusterrole.yaml"))) {
      assertFalse(grant.contains("*"), grant);
    }
  }

  @Test
  void theAgentsRoleWritesNoCoreEventsAndCannotProxyToKubelets() {
    Set<String> grants = ClusterRoleGrants.of(role("base/clusterrole.yaml"));
    assertFalse(grants.contains("/events:create"));
    assertFalse(grants.stream().anyMatch(g -> g.startsWith("/nodes/proxy:")), grants.toString());
  }

  @Test
  void theBindingGivesTheRoleToTheAgentsServiceAccount() {
    assertBinding("base/clusterrolebinding.yaml", "state-probe");
  }

  @Test
  void theNodesProxyFallbackIsOnlyGetOnNodesProxy() {
    ClusterRole role = role("components/nodes-proxy/clusterrole.yaml");
    assertEquals("state-probe-nodes-proxy", role.getMetadata().getName());
    assertEquals(Set.of("/nodes/proxy:get"), ClusterRoleGrants.of(role));
    assertBinding("components/nodes-proxy/clusterrolebinding.yaml", "state-probe-nodes-proxy");
  }

  @Test
  void theGrantFormatCountsEveryCombination() {
    ClusterRole role =
        repo.serialization()
            .unmarshal(
                """
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: x}
                rules:
                  - apiGroups: ["", "apps"]
                    resources: ["pods", "daemonsets"]
                    verbs: ["get"]
                """,
                ClusterRole.class);
    assertEquals(
        Set.of("/pods:get", "/daemonsets:get", "apps/pods:get", "apps/daemonsets:get"),
        ClusterRoleGrants.of(role));
  }

  private void assertBinding(String file, String roleName) {
    ClusterRoleBinding binding =
        repo.object(repo.manifests().resolve(file), ClusterRoleBinding.class);
    assertEquals(roleName, binding.getMetadata().getName());
    assertEquals("ClusterRole", binding.getRoleRef().getKind());
    assertEquals("rbac.authorization.k8s.io", binding.getRoleRef().getApiGroup());
    assertEquals(roleName, binding.getRoleRef().getName());
    List<Subject> subjects = binding.getSubjects();
    assertEquals(1, subjects.size());
    assertEquals("ServiceAccount", subjects.get(0).getKind());
    assertEquals("state-probe", subjects.get(0).getName());
    assertEquals("state-probe", subjects.get(0).getNamespace());
  }
}
