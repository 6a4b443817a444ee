package dev.stateprobe.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.catalog.Catalog;
import dev.stateprobe.repair.catalog.CatalogEntry;
import dev.stateprobe.repair.catalog.CatalogLoader;
import dev.stateprobe.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The demo's files in the jar: the ones the build copies are their originals byte for byte, none of
 * them is committed a second time, and the catalog is one the agent accepts.
 */
class DemoResourcesTest {
  private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).resolve("..");
  private static final Path COMMITTED = ROOT.resolve("agent/src/main/resources/demo");

  /** Each resource the build copies into {@code /demo/}, with the file it is copied from. */
  private static final Map<String, Path> COPIED =
      Map.of(
          DemoResources.CRD,
          ROOT.resolve("manifests/crds/consistencyrepairjobs.stateprobe.dev.yaml"),
          DemoResources.CAPTURE,
          ROOT.resolve("agent/src/test/resources/fixtures/kubelet").resolve(DemoResources.CAPTURE),
          "scripts/pod-api.sh",
          ROOT.resolve("repair-scripts/pod-api.sh"));

  @Test
  void everyCopiedResourceIsItsOriginalByteForByte() throws Exception {
    for (Map.Entry<String, Path> e : COPIED.entrySet()) {
      assertThat(DemoResources.read(e.getKey()))
          .as("/demo/%s against %s", e.getKey(), e.getValue())
          .isEqualTo(Files.readAllBytes(e.getValue()));
    }
  }

  @Test
  void noCopiedResourceIsCommittedAgain() {
    // A committed copy would be packaged over the build's copy by process-resources.
    assertThat(COPIED.keySet())
        .allSatisfy(name -> assertThat(COMMITTED.resolve(name)).doesNotExist());
    assertThat(COMMITTED.resolve(DemoResources.CATALOG)).exists();
  }

  @Test
  void theCaptureIsTheOneTheTestsNameK8s135() {
    assertThat(DemoResources.read(DemoResources.CAPTURE))
        .isEqualTo(Fixtures.kubelet(Fixtures.K8S_1_35));
  }

  @Test
  void theScriptsSourceTheExtractedPrologueWhichIsTheShippedOne(@TempDir Path dir)
      throws Exception {
    DemoResources.extractCatalog(dir);

    assertThat(dir.resolve("scripts/pod-api.sh"))
        .hasBinaryContent(Files.readAllBytes(ROOT.resolve("repair-scripts/pod-api.sh")));
    assertThat(Files.readString(dir.resolve("scripts/recreate-controlled-pod.sh")))
        .contains("source \"$(dirname \"${BASH_SOURCE[0]}\")/pod-api.sh\"")
        .doesNotContain("UID_RE=");
  }

  @Test
  void theExtractedCatalogLoadsWithEveryScriptExecutable(@TempDir Path dir) throws Exception {
    Path file = DemoResources.extractCatalog(dir);

    Catalog catalog = CatalogLoader.load(file);

    assertThat(catalog.entries())
        .extracting(CatalogEntry::name)
        .containsExactly("stop-sandbox", "recreate-controlled-pod", "restart-kubelet");
    assertThat(catalog.entries())
        .allSatisfy(e -> assertThat(e.mode()).isEqualTo(CatalogEntry.Mode.AUTO))
        .allSatisfy(e -> assertThat(Files.isExecutable(e.script())).isTrue());
    Set<String> scripts =
        catalog.entries().stream()
            .map(e -> e.script().getFileName().toString())
            .collect(Collectors.toSet());
    assertThat(scripts).containsExactlyInAnyOrderElementsOf(DemoResources.SCRIPTS);
  }

  @Test
  void everyDriftKindButUidMismatchHasADemoScript(@TempDir Path dir) throws Exception {
    Catalog catalog = CatalogLoader.load(DemoResources.extractCatalog(dir));

    Set<DriftKind> covered = EnumSet.noneOf(DriftKind.class);
    catalog.entries().forEach(e -> covered.addAll(e.drifts()));

    assertThat(EnumSet.complementOf(EnumSet.copyOf(covered)))
        .containsExactly(DriftKind.UID_MISMATCH);
  }

  @Test
  void discoveryNamesTheResourcesTheSimulatedClusterHolds() {
    JsonNode docs =
        JsonMapper.builder().build().readTree(DemoResources.read(DemoResources.DISCOVERY));

    assertThat(docs.propertyNames())
        .containsExactlyInAnyOrder(
            "/api",
            "/apis",
            "/api/v1",
            "/apis/events.k8s.io/v1",
            "/apis/apiextensions.k8s.io/v1",
            "/apis/stateprobe.dev/v1alpha1");
    assertThat(names(docs.path("/api/v1"))).contains("pods", "nodes", "events");
    JsonNode crj = docs.path("/apis/stateprobe.dev/v1alpha1").path("resources").get(0);
    assertThat(crj.path("name").asString()).isEqualTo("consistencyrepairjobs");
    assertThat(crj.path("namespaced").asBoolean()).isFalse();
    assertThat(crj.path("shortNames").get(0).asString()).isEqualTo("crj");
  }

  private static List<String> names(JsonNode resourceList) {
    return resourceList
        .path("resources")
        .valueStream()
        .map(r -> r.path("name").asString())
        .toList();
  }
}
