package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every place that tells a user which kubelet grant to install says the same thing: fine-grained
 * kubelet authorization (KubeletFineGrainedAuthz, KEP-2862: alpha 1.32, beta and on by default
 * 1.33, GA 1.36) checks {@code GET /pods} and {@code /runningpods/} as {@code nodes/pods} first, so
 * the base's {@code nodes/pods} is enough from 1.33; {@code nodes/proxy} is for 1.32 and older.
 */
class KubeletAuthzDocsTest {
  /** The last release whose kubelets authorize /pods only as nodes/proxy. */
  private static final String LAST_WITHOUT_FINE_GRAINED = "1.32";

  /** What the files said before: nodes/proxy for everything older than the GA release. */
  private static final Pattern WRONG_CUTOFF =
      Pattern.compile(
          "(older than|before|predate|<|≤)\\s*(Kubernetes\\s*)?1\\.3[3-6]|Kubernetes ≥ 1\\.36");

  private final RepoFiles repo = new RepoFiles();

  /** The files that tell which grant to use, and (for the alert) where the runbook says it. */
  private static final List<String> FILES =
      List.of(
          "README.md",
          "manifests/README.md",
          "manifests/base/clusterrole.yaml",
          "manifests/base/prometheusrule.yaml",
          "manifests/components/nodes-proxy/clusterrole.yaml",
          "manifests/overlays/nodes-proxy/kustomization.yaml",
          "manifests/helm/state-probe/values.yaml",
          "manifests/helm/state-probe/README.md");

  @Test
  void everyFileSaysNodesProxyIsFor132AndOlder() {
    List<String> wrong = new ArrayList<>();
    for (String f : FILES) {
      String text = repo.read(repo.resolve(f)).replaceAll("\\s+", " ");
      var m = WRONG_CUTOFF.matcher(text);
      while (m.find()) {
        wrong.add(f + ": '" + m.group() + "'");
      }
      if (!text.contains(LAST_WITHOUT_FINE_GRAINED)) {
        wrong.add(
            f + ": does not name " + LAST_WITHOUT_FINE_GRAINED + " as the nodes/proxy cutoff");
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void theAlertRunbookForHttp403PointsAtTheNodesProxyVariantFor132() {
    String runbook =
        repo.yamlTree(repo.manifests().resolve("base/prometheusrule.yaml"))
            .at("/spec/groups/0/rules")
            .valueStream()
            .filter(r -> r.path("alert").asString().equals("StateProbeKubeletUnreachable"))
            .findFirst()
            .orElseThrow()
            .at("/annotations/runbook")
            .asString()
            .replaceAll("\\s+", " ");
    assertTrue(runbook.contains("http_403"), runbook);
    assertTrue(runbook.contains("1.32 and older"), runbook);
    assertTrue(runbook.contains("manifests/components/nodes-proxy"), runbook);
  }

  @Test
  void theBaseGrantsNodesPodsAndTheVariantExactlyNodesProxy() {
    ClusterRole base =
        repo.object(repo.manifests().resolve("base/clusterrole.yaml"), ClusterRole.class);
    ClusterRole proxy =
        repo.object(
            repo.manifests().resolve("components/nodes-proxy/clusterrole.yaml"), ClusterRole.class);
    assertTrue(ClusterRoleGrants.of(base).contains("/nodes/pods:get"));
    assertTrue(ClusterRoleGrants.of(base).stream().noneMatch(g -> g.startsWith("/nodes/proxy")));
    assertEquals(Set.of("/nodes/proxy:get"), ClusterRoleGrants.of(proxy));
  }
}
