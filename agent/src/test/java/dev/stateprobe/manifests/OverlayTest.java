package dev.stateprobe.manifests;

import static dev.stateprobe.manifests.ManifestLayoutTest.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

/**
 * The overlays change only what they say. A strategic-merge patch is compared field by field with
 * the list of changes its README states: a field added to a patch without updating this list (and
 * the README) fails here.
 */
// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverlayTest {
  private final RepoFiles repo = new RepoFiles();
  private final Path hostRepair = repo.manifests().resolve("overlays/host-repair");
  private final Path withoutOperator =
      repo.manifests().resolve("overlays/without-prometheus-operator");

  @Test
  void hostRepairBuildsOnTheBaseWithTwoPatches() {
    JsonNode k = repo.yamlTree(hostRepair.resolve("kustomization.yaml"));
    assertEquals(List.of("../../base", "../../crds"), strings(k.path("resources")));
    assertEquals(2, k.path("patches").size());
    assertEquals("daemonset-host-access.yaml", k.path("patches").get(0).path("path").asString());
    assertEquals("namespace-privileged.yaml", k.path("patches").get(1).path("path").asString());
    Set<String> fields = new TreeSet<>();
    k.propertyNames().forEach(fields::add);
    assertEquals(Set.of("apiVersion", "kind", "resources", "patches", "images"), fields);
  }

  @Test
  void hostRepairRunsTheHostRepairImageOfTheSameVersion() {
    // The default image has no crictl: with it the overlay's scripts could only exit 3.
    JsonNode base = repo.yamlTree(repo.manifests().resolve("base/kustomization.yaml"));
    JsonNode images = repo.yamlTree(hostRepair.resolve("kustomization.yaml")).path("images");
    assertEquals(1, images.size());
    assertEquals("state-probe", images.get(0).path("name").asString());
    assertEquals(
        base.path("images").get(0).path("newTag").asString() + "-host-repair",
        images.get(0).path("newTag").asString());
  }

  @Test
  void hostRepairPatchesTheDaemonSetOnlyForHostAccess() {
    assertEquals(
        Set.of(
            "apiVersion=apps/v1",
            "kind=DaemonSet",
            "metadata.name=state-probe",
            "metadata.namespace=state-probe",
            "spec.template.spec.hostPID=true",
            "spec.template.spec.shareProcessNamespace=false",
            "spec.template.spec.containers[agent].env[CONTAINER_RUNTIME_ENDPOINT].value="
                + "unix:///run/containerd/containerd.sock",
            "spec.template.spec.containers[agent].securityContext.privileged=true",
            "spec.template.spec.containers[agent].securityContext.allowPrivilegeEscalation=true",
            "spec.template.spec.containers[agent].securityContext.runAsNonRoot=false",
            "spec.template.spec.containers[agent].securityContext.runAsUser=0",
            "spec.template.spec.containers[agent].securityContext.runAsGroup=0",
            "spec.template.spec.containers[agent].securityContext.capabilities=null",
            "spec.template.spec.containers[agent].securityContext.seccompProfile.type=Unconfined",
            "spec.template.spec.containers[agent].volumeMounts[container-runtime-socket].mountPath="
                + "/run/containerd/containerd.sock",
            "spec.template.spec.volumes[container-runtime-socket].hostPath.path="
                + "/run/containerd/containerd.sock",
            "spec.template.spec.volumes[container-runtime-socket].hostPath.type=Socket"),
        flatten(repo.yamlTree(hostRepair.resolve("daemonset-host-access.yaml"))));
  }

  @Test
  void hostRepairLeavesTheRepairModeToTheUser() {
    for (String f : repo.filesUnder(hostRepair)) {
      if (f.endsWith(".yaml")) {
        // the parsed tree, so that comments explaining the choice do not count
        assertFalse(repo.yamlTree(hostRepair.resolve(f)).toString().contains("REPAIR_MODE"), f);
      }
    }
  }

  @Test
  void hostRepairPatchTargetsTheBaseContainerAndAddsANewVolume() {
    DaemonSet base = repo.object(repo.manifests().resolve("base/daemonset.yaml"), DaemonSet.class);
    DaemonSet patch =
        repo.object(hostRepair.resolve("daemonset-host-access.yaml"), DaemonSet.class);
    // A container name that missed the base's would add a second container instead of patching.
    assertEquals(
        base.getSpec().getTemplate().getSpec().getContainers().get(0).getName(),
        patch.getSpec().getTemplate().getSpec().getContainers().get(0).getName());
    assertEquals(base.getMetadata().getName(), patch.getMetadata().getName());
    PodSpec basePod = base.getSpec().getTemplate().getSpec();
    String added = patch.getSpec().getTemplate().getSpec().getVolumes().get(0).getName();
    assertTrue(basePod.getVolumes().stream().noneMatch(v -> v.getName().equals(added)));
  }

  @Test
  void hostRepairLowersPodSecurityForItsNamespaceOnly() {
    assertEquals(
        Set.of(
            "apiVersion=v1",
            "kind=Namespace",
            "metadata.name=state-probe",
            "metadata.labels.pod-security.kubernetes.io/enforce=privileged",
            "metadata.labels.pod-security.kubernetes.io/warn=privileged",
            "metadata.labels.pod-security.kubernetes.io/audit=privileged"),
        flatten(repo.yamlTree(hostRepair.resolve("namespace-privileged.yaml"))));
  }

  @Test
  void withoutPrometheusOperatorDeletesExactlyTheTwoOperatorObjects() {
    JsonNode k = repo.yamlTree(withoutOperator.resolve("kustomization.yaml"));
    assertEquals(List.of("../../base", "../../crds"), strings(k.path("resources")));
    Set<String> deleted = new TreeSet<>();
    for (JsonNode patch : k.path("patches")) {
      JsonNode body = repo.yamlTree(patch.path("patch").asString(), Path.of("inline patch"));
      if (!body.path("$patch").asString().equals("delete")) {
        continue;
      }
      assertEquals("monitoring.coreos.com/v1", body.path("apiVersion").asString());
      deleted.add(
          body.path("kind").asString()
              + "/"
              + body.path("metadata").path("namespace").asString()
              + "/"
              + body.path("metadata").path("name").asString());
    }
    assertEquals(
        Set.of("PodMonitor/state-probe/state-probe", "PrometheusRule/state-probe/state-probe"),
        deleted);
  }

  /** In their place: scrape annotations on the pods, nothing else on the DaemonSet. */
  @Test
  void withoutPrometheusOperatorAnnotatesThePodsForScraping() {
    JsonNode k = repo.yamlTree(withoutOperator.resolve("kustomization.yaml"));
    List<Set<String>> others = new java.util.ArrayList<>();
    for (JsonNode patch : k.path("patches")) {
      JsonNode body = repo.yamlTree(patch.path("patch").asString(), Path.of("inline patch"));
      if (!body.path("$patch").asString().equals("delete")) {
        others.add(flatten(body));
      }
    }
    DaemonSet base = repo.object(repo.manifests().resolve("base/daemonset.yaml"), DaemonSet.class);
    String port =
        String.valueOf(
            base.getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .get(0)
                .getPorts()
                .get(0)
                .getContainerPort());
    assertEquals(
        List.of(
            Set.of(
                "apiVersion=apps/v1",
                "kind=DaemonSet",
                "metadata.name=state-probe",
                "metadata.namespace=state-probe",
                "spec.template.metadata.annotations.prometheus.io/scrape=true",
                "spec.template.metadata.annotations.prometheus.io/port=" + port,
                "spec.template.metadata.annotations.prometheus.io/path=/metrics")),
        others);
  }

  /**
   * The plain rules file holds the PrometheusRule's groups, unchanged. When this fails after a
   * change to base/prometheusrule.yaml, regenerate the rules file with the command in its header.
   */
  @Test
  void withoutPrometheusOperatorShipsThePrometheusRulesGroupsAsARulesFile() {
    JsonNode rules = repo.yamlTree(withoutOperator.resolve("state-probe-rules.yaml"));
    JsonNode rule = repo.yamlTree(repo.manifests().resolve("base/prometheusrule.yaml"));
    assertEquals(Set.of("groups"), Set.copyOf(fieldNames(rules)));
    List<String> differing = new java.util.ArrayList<>();
    JsonNode want = rule.path("spec").path("groups");
    JsonNode got = rules.path("groups");
    for (int g = 0; g < Math.max(want.size(), got.size()); g++) {
      for (int r = 0;
          r < Math.max(want.path(g).path("rules").size(), got.path(g).path("rules").size());
          r++) {
        JsonNode a = want.path(g).path("rules").path(r);
        if (!a.equals(got.path(g).path("rules").path(r))) {
          differing.add(
              a.path("alert").asString(got.path(g).path("rules").path(r).path("alert").asString()));
        }
      }
    }
    assertEquals(
        List.of(),
        differing,
        "alerts of overlays/without-prometheus-operator/state-probe-rules.yaml that differ from"
            + " base/prometheusrule.yaml: regenerate it with the command in its header");
    assertEquals(want, got);
    assertTrue(rules.path("groups").size() > 0);
    JsonNode k = repo.yamlTree(withoutOperator.resolve("kustomization.yaml"));
    JsonNode generator = k.path("configMapGenerator").get(0);
    assertEquals("state-probe-prometheus-rules", generator.path("name").asString());
    assertEquals(List.of("state-probe-rules.yaml"), strings(generator.path("files")));
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> out = new java.util.ArrayList<>();
    node.propertyNames().forEach(out::add);
    return out;
  }

  /** A YAML tree as {@code path=value} lines; list items are keyed by their name. */
  static Set<String> flatten(JsonNode node) {
    Set<String> out = new TreeSet<>();
    flatten(node, "", out);
    return out;
  }

  private static void flatten(JsonNode node, String path, Set<String> out) {
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> e : node.properties()) {
        flatten(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), out);
      }
    } else if (node.isArray()) {
      int i = 0;
      for (JsonNode item : node) {
        String key = item.has("name") ? item.path("name").asString() : String.valueOf(i);
        JsonNode rest = item;
        if (item.isObject() && item.has("name")) {
          rest = item.deepCopy();
          ((tools.jackson.databind.node.ObjectNode) rest).remove("name");
        }
        flatten(rest, path + "[" + key + "]", out);
        i++;
      }
    } else {
      out.add(path + "=" + (node.isNull() ? "null" : node.asString()));
    }
  }
}
