package dev.stateprobe.manifests;

import static dev.stateprobe.manifests.ManifestLayoutTest.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;

// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardTest {
  private final RepoFiles repo = new RepoFiles();
  private final JsonNode dashboard =
      repo.jsonTree(repo.manifests().resolve("base/grafana/state-probe-dashboard.json"));

  /** Panel title → its queries. */
  private Map<String, List<String>> panels() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (JsonNode panel : dashboard.path("panels")) {
      if (panel.path("type").asString().equals("row")) {
        continue;
      }
      List<String> exprs = new ArrayList<>();
      for (JsonNode target : panel.path("targets")) {
        exprs.add(target.path("expr").asString());
      }
      assertFalse(exprs.isEmpty(), panel.path("title").asString() + " has no query");
      out.put(panel.path("title").asString(), exprs);
    }
    return out;
  }

  private List<String> allQueries() {
    List<String> all = new ArrayList<>();
    panels().values().forEach(all::addAll);
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asString().equals("query")) {
        // label_values(<series selector>, <label>): only the selector is PromQL.
        String def = variable.path("definition").asString();
        assertTrue(def.startsWith("label_values(") && def.endsWith(")"), def);
        all.add(def.substring("label_values(".length(), def.lastIndexOf(',')));
      }
    }
    return all;
  }

  @Test
  void isShippedInAConfigMapTheGrafanaSidecarPicksUp() {
    JsonNode k = repo.yamlTree(repo.manifests().resolve("base/kustomization.yaml"));
    JsonNode generator = k.path("configMapGenerator").get(0);
    assertEquals("state-probe-grafana-dashboard", generator.path("name").asString());
    assertEquals(List.of("grafana/state-probe-dashboard.json"), strings(generator.path("files")));
    assertEquals(
        "1", generator.path("options").path("labels").path("grafana_dashboard").asString());
    assertTrue(generator.path("options").path("disableNameSuffixHash").asBoolean());
  }

  @Test
  void hasAStableUidAndUniquePanelIds() {
    assertEquals("state-probe", dashboard.path("uid").asString());
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : dashboard.path("panels")) {
      assertTrue(ids.add(panel.path("id").asInt()), "duplicate panel id " + panel.path("id"));
      JsonNode grid = panel.path("gridPos");
      assertTrue(
          grid.path("x").asInt() + grid.path("w").asInt() <= 24,
          panel.path("title") + " overflows");
    }
  }

  @Test
  void showsDriftByKindAndByNode() {
    assertTrue(
        panels()
            .get("Confirmed drifts by kind")
            .get(0)
            .startsWith("sum by (kind) (stateprobe_drifts_active"));
    assertTrue(
        panels()
            .get("Confirmed drifts by node")
            .get(0)
            .startsWith("sum by (node) (stateprobe_drifts_active"));
  }

  @Test
  void showsRepairsByOutcome() {
    assertTrue(
        panels()
            .get("Repairs by outcome")
            .get(0)
            .contains("sum by (outcome) (increase(stateprobe_repairs_total"));
  }

  @Test
  void showsKubeletPollLatencyP50AndP99FromTheHistogram() {
    List<String> q = panels().get("Kubelet poll latency (p50, p99)");
    assertEquals(2, q.size());
    assertTrue(
        q.get(0)
            .startsWith(
                "histogram_quantile(0.5, sum by (le, endpoint)"
                    + " (rate(stateprobe_kubelet_poll_duration_seconds_bucket"),
        q.get(0));
    assertTrue(
        q.get(1)
            .startsWith(
                "histogram_quantile(0.99, sum by (le, endpoint)"
                    + " (rate(stateprobe_kubelet_poll_duration_seconds_bucket"),
        q.get(1));
  }

  @Test
  void showsUntrustedCyclesAndTheAgentsFootprint() {
    assertTrue(
        panels().get("Untrusted cycles").get(0).contains("stateprobe_untrusted_cycles_total"));
    assertTrue(
        panels()
            .get("Heap used")
            .get(0)
            .contains(
                "jvm_memory_used_bytes{job=\"state-probe\", node=~\"$node\", area=\"heap\"}"));
    assertTrue(panels().get("CPU").get(0).contains("process_cpu_usage"));
  }

  @Test
  void everyQueryIsLimitedToTheStateProbeJob() {
    for (String q : allQueries()) {
      assertTrue(q.contains("job=\"state-probe\""), "other JVMs export the same names: " + q);
    }
  }

  @Test
  void everyMetricTheDashboardUsesIsOneTheAgentExports() {
    Set<String> used = new TreeSet<>();
    for (String q : allQueries()) {
      Set<String> names = PromQl.metricNames(q);
      assertFalse(names.isEmpty(), "no metric found in " + q);
      used.addAll(names);
    }
    Set<String> unknown = new TreeSet<>(used);
    unknown.removeAll(KnownMetrics.ALL);
    assertEquals(Set.of(), unknown);
    // and the other way round: every metric the agent exports has a place on the dashboard
    Set<String> unshown = new TreeSet<>(KnownMetrics.ALL);
    unshown.removeAll(used);
    assertEquals(Set.of(), unshown);
  }
}
