package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ManifestLayoutTest {
  private final RepoFiles repo = new RepoFiles();
  private final Kustomizations kustomize = new Kustomizations(repo);

  /**
   * The Helm chart: no kustomization reads it; its templates read the kustomize files
   * (HelmChartTest renders it).
   */
  static final String HELM = "helm/";

  /** Read by overlays only: the top level names the CRD file itself. */
  private static final Set<String> OVERLAY_ONLY = Set.of("crds/kustomization.yaml");

  private static final Set<String> REPAIR_FILES =
      RepoFiles.REPAIR_FILES.stream()
          .map(f -> f.substring("repair-scripts/".length()))
          .collect(java.util.stream.Collectors.toSet());

  @Test
  void theInstallCommandReachesEveryFileOutsideOverlaysAndComponents() {
    Set<String> reached = relativeToManifests(kustomize.reachedFrom(repo.manifests()));
    Set<String> expected = new TreeSet<>();
    for (String f : repo.filesUnder(repo.manifests())) {
      if (!f.startsWith("overlays/")
          && !f.startsWith("components/")
          && !f.startsWith(HELM)
          && !f.endsWith("README.md")
          && !OVERLAY_ONLY.contains(f)) {
        expected.add(f);
      }
    }
    expected.add(RepoFiles.CRD); // listed even before the file lands
    assertEquals(expected, new TreeSet<>(reached));
  }

  @Test
  void everyFileUnderManifestsIsReadBySomeKustomization() {
    Set<String> reached = new HashSet<>();
    for (String f : repo.filesUnder(repo.manifests())) {
      if (f.endsWith("/kustomization.yaml") || f.equals("kustomization.yaml")) {
        Path dir = repo.manifests().resolve(f).getParent();
        reached.addAll(relativeToManifests(kustomize.reachedFrom(dir)));
      }
    }
    List<String> unread = new ArrayList<>();
    for (String f : repo.filesUnder(repo.manifests())) {
      if (!f.endsWith("README.md") && !f.startsWith(HELM) && !reached.contains(f)) {
        unread.add(f);
      }
    }
    assertEquals(List.of(), unread, "files no kustomization reads");
  }

  @Test
  void theInstallCommandDoesNotIncludeTheNodesProxyGrant() {
    Set<String> reached = relativeToManifests(kustomize.reachedFrom(repo.manifests()));
    assertFalse(reached.stream().anyMatch(f -> f.startsWith("components/")), reached.toString());
  }

  @Test
  void theNodesProxyOverlayAddsOnlyTheComponent() {
    JsonNode k = repo.yamlTree(repo.manifests().resolve("overlays/nodes-proxy/kustomization.yaml"));
    assertEquals(List.of("../../base", "../../crds"), strings(k.path("resources")));
    assertEquals(List.of("../../components/nodes-proxy"), strings(k.path("components")));
    assertTrue(k.path("patches").isMissingNode());
  }

  @Test
  void theRepairConfigMapCarriesTheCatalogAndTheShippedScripts() {
    JsonNode k = repo.yamlTree(repo.resolve("repair-scripts/kustomization.yaml"));
    assertEquals(1, k.path("configMapGenerator").size());
    JsonNode generator = k.path("configMapGenerator").get(0);
    assertEquals("state-probe-repair-scripts", generator.path("name").asString());
    assertEquals(REPAIR_FILES, Set.copyOf(strings(generator.path("files"))));
    assertTrue(k.path("resources").isMissingNode(), "the scripts folder holds no objects");
  }

  @Test
  void everyScriptInRepairScriptsIsInTheConfigMap() {
    Set<String> listed =
        Set.copyOf(
            strings(
                repo.yamlTree(repo.resolve("repair-scripts/kustomization.yaml"))
                    .path("configMapGenerator")
                    .get(0)
                    .path("files")));
    for (String f : repo.filesUnder(repo.resolve("repair-scripts"))) {
      if (f.endsWith(".sh") || f.equals("catalog.yaml")) {
        assertTrue(listed.contains(f), f + " is in repair-scripts/ but not in the ConfigMap");
      }
    }
  }

  @Test
  void everyListedRepairFileExists() {
    for (String f : REPAIR_FILES) {
      assertTrue(
          Files.isRegularFile(repo.resolve("repair-scripts/" + f)), "missing repair-scripts/" + f);
    }
  }

  @Test
  void theReadmeDescribesEveryFile() {
    String readme = repo.read(repo.manifests().resolve("README.md"));
    List<String> undocumented = new ArrayList<>();
    for (String f : repo.filesUnder(repo.manifests())) {
      if (!f.equals("README.md") && !readme.contains("`" + f + "`")) {
        undocumented.add(f);
      }
    }
    if (!readme.contains("`" + RepoFiles.CRD + "`")) {
      undocumented.add(RepoFiles.CRD);
    }
    assertEquals(
        List.of(), undocumented, "files manifests/README.md does not name (in backquotes)");
  }

  private Set<String> relativeToManifests(Set<Path> files) {
    Set<String> out = new TreeSet<>();
    for (Path p : files) {
      if (p.startsWith(repo.manifests())) {
        out.add(repo.manifests().relativize(p).toString().replace('\\', '/'));
      }
    }
    return out;
  }

  static List<String> strings(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asString).toList();
  }
}
