package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQlTest {

  @Test
  void aggregationWithGroupingIsNotAMetric() {
    assertEquals(
        Set.of("stateprobe_drifts_active"),
        PromQl.metricNames("sum by (node, kind) (stateprobe_drifts_active) > 0"));
  }

  @Test
  void labelMatchersRangesAndStringsAreNotMetrics() {
    assertEquals(
        Set.of("stateprobe_repairs_total"),
        PromQl.metricNames(
            "sum by (node, script)"
                + " (increase(stateprobe_repairs_total{outcome=~\"failed|timed_out\"}[1h])) >= 3"));
  }

  @Test
  void bothSidesOfABinaryOperatorAreFound() {
    assertEquals(
        Set.of("stateprobe_view_age_seconds", "stateprobe_kubelet_poll_failures_total"),
        PromQl.metricNames(
            "(max by (node) (stateprobe_view_age_seconds{view=\"kubelet\"}) > 60) or"
                + " (sum by (node) (rate(stateprobe_kubelet_poll_failures_total[5m])) > 0"
                + " unless on (node) (max by (node) (stateprobe_view_age_seconds) <= 60))"));
  }

  @Test
  void functionsNumbersAndGrafanaVariablesAreNotMetrics() {
    assertEquals(
        Set.of("stateprobe_kubelet_poll_duration_seconds_bucket", "up"),
        PromQl.metricNames(
            "histogram_quantile(0.99, sum by (le, endpoint) (rate("
                + "stateprobe_kubelet_poll_duration_seconds_bucket{node=~\"$node\"}[$__rate_interval])))"
                + " * 1e3 + sum without (pod) (up) or vector(0)"));
  }

  @Test
  void anUnknownNameIsReported() {
    assertEquals(
        Set.of("stateprobe_drift_active"), PromQl.metricNames("stateprobe_drift_active offset 5m"));
  }
}
