package dev.stateprobe.config;

import dev.stateprobe.drift.DriftKind;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The whole validated configuration of one agent. Built only by {@link ConfigLoader}, which applies
 * defaults and reports every problem at once; the canonical constructors check only invariants, so
 * tests can build values directly.
 *
 * @param nodeName {@code NODE_NAME}, required (downward API {@code spec.nodeName})
 * @param nodeIp {@code NODE_IP}, optional (downward API {@code status.hostIP})
 * @param httpPort {@code HTTP_PORT}, default 9808; 0 picks a free port (tests)
 * @param pollInterval {@code POLL_INTERVAL}, default 5s
 * @param clusterBudget the cluster repair budget's settings
 * @param fleetBrake whether this agent obeys the fleet storm brake
 */
public record AgentConfig(
    String nodeName,
    Optional<String> nodeIp,
    KubeletSettings kubelet,
    Duration pollInterval,
    int httpPort,
    Detection detection,
    Repair repair,
    ClusterBudget clusterBudget,
    FleetBrake fleetBrake) {

  public AgentConfig {
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(nodeIp, "nodeIp");
    Objects.requireNonNull(kubelet, "kubelet");
    Objects.requireNonNull(pollInterval, "pollInterval");
    Objects.requireNonNull(detection, "detection");
    Objects.requireNonNull(repair, "repair");
    Objects.requireNonNull(clusterBudget, "clusterBudget");
    Objects.requireNonNull(fleetBrake, "fleetBrake");
  }

  /**
   * The fleet storm brake, as this agent reads it (README, Fleet storm brake).
   *
   * @param obeyed {@code FLEET_BRAKE}, {@code on} or {@code off}, default {@code off}: whether new
   *     repairs wait while the brake is on, stale or missing. The manifests that deploy the
   *     coordinator set it {@code on}; an agent run alone (a lab, the demo, a cluster without the
   *     coordinator) has no brake to read and repairs as before.
   * @param maxAge {@code FLEET_BRAKE_MAX_AGE}, default 60s: a heartbeat older than this reads as on
   *     (four missed coordinator heartbeats, and longer than a leader failover)
   * @param namespace {@code FLEET_BRAKE_NAMESPACE}, default {@code state-probe}: where the brake
   *     Lease is (the DaemonSet sets it to its own namespace)
   * @param settle {@code FLEET_BRAKE_SETTLE}, default 2s: a script starts only under a brake
   *     decided at least this long after its repair's record appeared (so the decision counted it);
   *     it covers the coordinator informer's lag and the record's whole-second creation time
   */
  public record FleetBrake(boolean obeyed, Duration maxAge, String namespace, Duration settle) {
    public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(2);
    public static final FleetBrake NOT_OBEYED =
        new FleetBrake(false, Duration.ofSeconds(60), "state-probe");

    public FleetBrake {
      Objects.requireNonNull(maxAge, "maxAge");
      Objects.requireNonNull(namespace, "namespace");
      Objects.requireNonNull(settle, "settle");
    }

    public FleetBrake(boolean obeyed, Duration maxAge, String namespace) {
      this(obeyed, maxAge, namespace, DEFAULT_SETTLE);
    }
  }

  /** The durations derived from {@link #pollInterval}: read them from here only. */
  public PollTimings timings() {
    return new PollTimings(pollInterval);
  }

  /**
   * How to reach the kubelet.
   *
   * @param url {@code KUBELET_URL}, default {@code https://$NODE_IP:10250}; ignored when {@code
   *     viaApiProxy}; {@code http} only with {@code KUBELET_ALLOW_INSECURE_HTTP=true}
   * @param tokenFile {@code KUBELET_TOKEN_FILE}, default the service-account token; re-read when it
   *     changes
   * @param caFile {@code KUBELET_CA_FILE}; empty means the JVM's trust store
   * @param insecureSkipTlsVerify {@code KUBELET_INSECURE_SKIP_TLS_VERIFY}, default false
   * @param viaApiProxy {@code KUBELET_VIA_API_PROXY}, default false: read {@code /pods} through the
   *     API server's node proxy with the API credentials instead
   * @param connectTimeout {@code KUBELET_CONNECT_TIMEOUT}, default 5s: TCP and the TLS handshake,
   *     which a cold JVM's first connection was measured to need more than 2 s for
   * @param requestTimeout {@code KUBELET_REQUEST_TIMEOUT}, default 10s
   * @param maxBodyBytes {@code KUBELET_MAX_BODY_BYTES}, default an eighth of the maximum heap (at
   *     most that), enforced while reading
   * @param runtimeReprobeInterval {@code RUNTIME_REPROBE_INTERVAL}, default 5m: how often an
   *     unavailable {@code /runningpods/} is asked again
   */
  public record KubeletSettings(
      URI url,
      Path tokenFile,
      Optional<Path> caFile,
      boolean insecureSkipTlsVerify,
      boolean viaApiProxy,
      Duration connectTimeout,
      Duration requestTimeout,
      long maxBodyBytes,
      Duration runtimeReprobeInterval) {
    public KubeletSettings {
      Objects.requireNonNull(url, "url");
      Objects.requireNonNull(tokenFile, "tokenFile");
      Objects.requireNonNull(caFile, "caFile");
    }
  }

  /**
   * When a suspected drift becomes confirmed.
   *
   * @param minObservations {@code MIN_OBSERVATIONS}, default 3 trusted cycles in a row
   * @param quietPeriod {@code QUIET_PERIOD}, default 2 × poll interval after a re-list
   * @param windows {@code WINDOW_<KIND>}, defaults in {@link DriftKind#defaultWindow()}
   */
  public record Detection(
      int minObservations, Duration quietPeriod, Map<DriftKind, Duration> windows) {
    public Detection {
      Objects.requireNonNull(quietPeriod, "quietPeriod");
      EnumMap<DriftKind, Duration> copy = new EnumMap<>(DriftKind.class);
      copy.putAll(windows);
      for (DriftKind k : DriftKind.values()) {
        if (!copy.containsKey(k)) {
          throw new IllegalArgumentException("no window for " + k.wireName());
        }
      }
      windows = Map.copyOf(copy);
    }

    public Duration window(DriftKind kind) {
      return windows.get(kind);
    }
  }

  /**
   * Repair settings.
   *
   * @param mode {@code REPAIR_MODE}, default {@code dry-run}: a fresh install shows what it would
   *     do before it does anything
   * @param catalogFile {@code CATALOG_FILE}, default {@code
   *     /opt/state-probe/repair-scripts/catalog.yaml} (the image's shipped catalog)
   * @param maxConcurrent {@code MAX_CONCURRENT_REPAIRS}, default 1
   * @param maxPerHour {@code MAX_REPAIRS_PER_HOUR}, default 10
   * @param circuitMin {@code CIRCUIT_MIN}, default 3
   * @param circuitPercent {@code CIRCUIT_PERCENT}, default 30
   * @param circuitRecovery {@code CIRCUIT_RECOVERY}, default 60s
   * @param jobTtl {@code CRJ_TTL}, default 24h
   * @param maxJobsPerNode {@code CRJ_MAX_PER_NODE}, default 200
   * @param scriptTempDir {@code SCRIPT_TEMP_DIR}, default {@code java.io.tmpdir}
   */
  public record Repair(
      RepairMode mode,
      Path catalogFile,
      int maxConcurrent,
      int maxPerHour,
      int circuitMin,
      int circuitPercent,
      Duration circuitRecovery,
      Duration jobTtl,
      int maxJobsPerNode,
      Path scriptTempDir) {
    public Repair {
      Objects.requireNonNull(mode, "mode");
      Objects.requireNonNull(catalogFile, "catalogFile");
      Objects.requireNonNull(circuitRecovery, "circuitRecovery");
      Objects.requireNonNull(jobTtl, "jobTtl");
      Objects.requireNonNull(scriptTempDir, "scriptTempDir");
    }
  }

  /**
   * The cluster repair budget (README, Cluster repair budget).
   *
   * @param slots {@code CLUSTER_REPAIR_SLOTS}, default 5: scripts running at once in the cluster
   *     (Leases {@code state-probe-slot-0..N-1}); 0 turns the budget off (each node decides alone,
   *     no Lease is read or written)
   * @param maxPerHour {@code CLUSTER_MAX_REPAIRS_PER_HOUR}, default 100: repairs started in the
   *     cluster in a rolling hour, counted on the slot Leases; 0 means no cap
   * @param namespace {@code POD_NAMESPACE} (downward API {@code metadata.namespace}), where the
   *     Leases live; empty means the API client's namespace (the service account's)
   * @param retryMin {@code CLUSTER_BUDGET_RETRY_MIN}, default 1s: the first back-off when no slot
   *     is free
   * @param retryMax {@code CLUSTER_BUDGET_RETRY_MAX}, default 30s: the back-off's ceiling
   * @param margin {@code CLUSTER_SLOT_MARGIN}, default 30s: added to a script's timeout for its
   *     slot Lease's duration
   */
  public record ClusterBudget(
      int slots,
      int maxPerHour,
      Optional<String> namespace,
      Duration retryMin,
      Duration retryMax,
      Duration margin) {
    /** The most slots: the Role names each slot Lease, and the names are bounded. */
    public static final int MAX_SLOTS = 100;

    /** The default timing. */
    public ClusterBudget(int slots, int maxPerHour, Optional<String> namespace) {
      this(
          slots,
          maxPerHour,
          namespace,
          Duration.ofSeconds(1),
          Duration.ofSeconds(30),
          Duration.ofSeconds(30));
    }

    public ClusterBudget {
      Objects.requireNonNull(retryMin, "retryMin");
      Objects.requireNonNull(retryMax, "retryMax");
      Objects.requireNonNull(margin, "margin");
      if (slots < 0 || slots > MAX_SLOTS) {
        throw new IllegalArgumentException("slots must be 0.." + MAX_SLOTS + ", was " + slots);
      }
      if (maxPerHour < 0) {
        throw new IllegalArgumentException("maxPerHour must be >= 0, was " + maxPerHour);
      }
      Objects.requireNonNull(namespace, "namespace");
    }

    public boolean enabled() {
      return slots > 0;
    }
  }
}
