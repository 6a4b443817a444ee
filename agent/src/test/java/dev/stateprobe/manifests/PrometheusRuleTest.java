package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PrometheusRuleTest {
  private final RepoFiles repo = new RepoFiles();
  private final GenericKubernetesResource rule =
      repo.object(
          repo.manifests().resolve("base/prometheusrule.yaml"), GenericKubernetesResource.class);

  private Map<String, Map<String, Object>> alerts() {
    assertEquals("monitoring.coreos.com/v1", rule.getApiVersion());
    assertEquals("PrometheusRule", rule.getKind());
    List<Map<String, Object>> groups = rule.get("spec", "groups");
    assertEquals(1, groups.size());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rules = (List<Map<String, Object>>) groups.get(0).get("rules");
    Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
    for (Map<String, Object> r : rules) {
      byName.put((String) r.get("alert"), r);
    }
    assertEquals(rules.size(), byName.size(), "alert names are unique and every rule is an alert");
    return byName;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, String> map(Map<String, Object> alert, String field) {
    return (Map<String, String>) alert.get(field);
  }

  @Test
  void theFiveAlertsAreThere() {
    assertEquals(
        List.of(
            "StateProbeDriftConfirmed",
            "StateProbeRepairsFailing",
            "StateProbeCircuitOpen",
            "StateProbeKubeletUnreachable",
            "StateProbeAgentDown"),
        new ArrayList<>(alerts().keySet()));
  }

  @Test
  void everyAlertHasSeveritySummaryDescriptionAndRunbook() {
    for (var e : alerts().entrySet()) {
      Map<String, Object> alert = e.getValue();
      assertTrue(
          Set.of("warning", "critical").contains(map(alert, "labels").get("severity")),
          e.getKey() + " severity");
      Map<String, String> annotations = map(alert, "annotations");
      assertEquals(Set.of("summary", "description", "runbook"), annotations.keySet(), e.getKey());
      annotations.forEach((k, v) -> assertFalse(v.isBlank(), e.getKey() + " " + k));
      assertTrue(annotations.get("runbook").lines().count() >= 3, e.getKey() + " runbook is steps");
      assertTrue(alert.get("for") instanceof String, e.getKey() + " has a 'for'");
    }
  }

  @Test
  void driftAlertsAfterTenMinutesOfConfirmedDrift() {
    Map<String, Object> alert = alerts().get("StateProbeDriftConfirmed");
    assertEquals("10m", alert.get("for"));
    assertEquals("sum by (node, kind) (stateprobe_drifts_active) > 0", alert.get("expr"));
  }

  @Test
  void agentDownUsesTheJobLabelThePodMonitorSets() {
    String expr = (String) alerts().get("StateProbeAgentDown").get("expr");
    assertTrue(expr.contains("up{job=\"state-probe\"} == 0"), expr);
    assertTrue(expr.contains("absent(up{job=\"state-probe\"})"), expr);
  }

  @Test
  void everyMetricTheAlertsUseIsOneTheAgentExports() {
    Set<String> unknown = new TreeSet<>();
    Set<String> used = new TreeSet<>();
    for (Map<String, Object> alert : alerts().values()) {
      Set<String> names = PromQl.metricNames((String) alert.get("expr"));
      assertFalse(names.isEmpty(), "no metric found in " + alert.get("expr"));
      used.addAll(names);
      names.stream().filter(n -> !KnownMetrics.ALL.contains(n)).forEach(unknown::add);
    }
    assertEquals(Set.of(), unknown);
    assertEquals(
        Set.of(
            "stateprobe_drifts_active",
            "stateprobe_repairs_total",
            "stateprobe_circuit_open",
            "stateprobe_view_age_seconds",
            "stateprobe_kubelet_poll_failures_total",
            "up"),
        used);
  }

  @Test
  void repairsFailingCountsOnlyFailureOutcomes() {
    String expr = (String) alerts().get("StateProbeRepairsFailing").get("expr");
    assertTrue(expr.contains("outcome=~\"failed|timed_out|unresolved\""), expr);
  }
}
