package dev.stateprobe.manifests;

import java.util.Set;

/**
 * Every metric name (Prometheus form) that the alerts and the dashboard may use: the agent's own
 * meters as {@code metrics/Metrics.java} registers them, the JVM meters Micrometer binds, and
 * Prometheus's {@code up}. Histograms appear only as their {@code _bucket} series, which is all the
 * manifests query.
 *
 * <p>One list on purpose: the metrics test that scrapes a running agent's {@code /metrics} compares
 * its names with this set, so a renamed meter breaks a test instead of an alert.
 */
public final class KnownMetrics {
  private KnownMetrics() {}

  /** Series the agent itself exports. */
  public static final Set<String> AGENT =
      Set.of(
          "stateprobe_drifts_active",
          "stateprobe_drifts_suspected",
          "stateprobe_drifts_detected_total",
          "stateprobe_drifts_cleared_total",
          "stateprobe_drift_confirmation_seconds_bucket",
          "stateprobe_kubelet_poll_duration_seconds_bucket",
          "stateprobe_kubelet_poll_failures_total",
          "stateprobe_view_pods",
          "stateprobe_view_age_seconds",
          "stateprobe_trusted",
          "stateprobe_untrusted_cycles_total",
          "stateprobe_repairs_total",
          "stateprobe_repair_duration_seconds_bucket",
          "stateprobe_repairs_throttled_total",
          "stateprobe_circuit_open",
          "stateprobe_paused",
          "stateprobe_repair_records",
          "stateprobe_informer_relists_total",
          "stateprobe_runtime_view_available",
          "stateprobe_build_info",
          "jvm_memory_used_bytes",
          "process_cpu_usage",
          "jvm_threads_live_threads");

  /** Series Prometheus adds for every target. */
  public static final Set<String> PROMETHEUS = Set.of("up");

  /** Everything a query in manifests/ may name. */
  public static final Set<String> ALL = union(AGENT, PROMETHEUS);

  private static Set<String> union(Set<String> a, Set<String> b) {
    java.util.Set<String> all = new java.util.HashSet<>(a);
    all.addAll(b);
    return Set.copyOf(all);
  }
}
