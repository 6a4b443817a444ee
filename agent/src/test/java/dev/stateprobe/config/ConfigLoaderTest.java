package dev.stateprobe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.drift.DriftKind;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {

  private static AgentConfig load(Map<String, String> env, String... args) throws ConfigException {
    return ConfigLoader.load(env, List.of(args));
  }

  @Test
  void defaultsFollowTheDesign() throws Exception {
    AgentConfig c = load(Map.of("NODE_NAME", "n1", "NODE_IP", "10.0.0.7"));
    assertThat(c.nodeName()).isEqualTo("n1");
    assertThat(c.kubelet().url()).isEqualTo(URI.create("https://10.0.0.7:10250"));
    assertThat(c.kubelet().tokenFile()).isEqualTo(ConfigLoader.DEFAULT_TOKEN_FILE);
    assertThat(c.kubelet().caFile()).isEmpty();
    assertThat(c.kubelet().insecureSkipTlsVerify()).isFalse();
    assertThat(c.kubelet().maxBodyBytes())
        .isEqualTo(Runtime.getRuntime().maxMemory() / ConfigLoader.HEAP_PER_BODY_DIVISOR);
    assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.httpPort()).isEqualTo(9808);
    assertThat(c.detection().minObservations()).isEqualTo(3);
    assertThat(c.detection().quietPeriod()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.detection().window(DriftKind.ORPHANED_POD)).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.detection().window(DriftKind.UID_MISMATCH)).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.detection().window(DriftKind.STUCK_TERMINATING)).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.repair().mode()).isEqualTo(RepairMode.DRY_RUN);
    assertThat(c.repair().maxConcurrent()).isEqualTo(1);
    assertThat(c.repair().maxPerHour()).isEqualTo(10);
    assertThat(c.repair().circuitMin()).isEqualTo(3);
    assertThat(c.repair().circuitPercent()).isEqualTo(30);
    assertThat(c.repair().jobTtl()).isEqualTo(Duration.ofHours(24));
    assertThat(c.repair().maxJobsPerNode()).isEqualTo(200);
  }

  @Test
  void quietPeriodFollowsThePollIntervalUnlessSet() throws Exception {
    assertThat(
            load(Map.of("NODE_NAME", "n1", "NODE_IP", "1.2.3.4", "POLL_INTERVAL", "500ms"))
                .detection()
                .quietPeriod())
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(
            load(Map.of("NODE_NAME", "n1", "NODE_IP", "1.2.3.4", "QUIET_PERIOD", "1m"))
                .detection()
                .quietPeriod())
        .isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void aFlagWinsOverItsVariable() throws Exception {
    AgentConfig c =
        load(
            Map.of("NODE_NAME", "n1", "NODE_IP", "1.2.3.4", "POLL_INTERVAL", "5s"),
            "--poll-interval=2s",
            "--window-orphaned-pod",
            "90s",
            "--kubelet-insecure-skip-tls-verify");
    assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.detection().window(DriftKind.ORPHANED_POD)).isEqualTo(Duration.ofSeconds(90));
    assertThat(c.kubelet().insecureSkipTlsVerify()).isTrue();
  }

  @Test
  void anIpv6NodeIpIsBracketed() throws Exception {
    assertThat(load(Map.of("NODE_NAME", "n1", "NODE_IP", "fd00::7")).kubelet().url())
        .isEqualTo(URI.create("https://[fd00::7]:10250"));
  }

  @Test
  void everyProblemIsListedAtOnceNamingItsVariable() {
    assertThatThrownBy(
            () ->
                load(
                    Map.of(
                        "POLL_INTERVAL", "often",
                        "HTTP_PORT", "70000",
                        "MIN_OBSERVATIONS", "zero",
                        "REPAIR_MODE", "yes",
                        "WINDOW_UID_MISMATCH", "-1s",
                        "KUBELET_INSECURE_SKIP_TLS_VERIFY", "maybe"),
                    "--no-such-flag=1"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactlyInAnyOrder(
                        "unknown flag --no-such-flag",
                        "NODE_NAME is required (set it from the downward API: spec.nodeName)",
                        "KUBELET_INSECURE_SKIP_TLS_VERIFY must be true or false, got 'maybe'",
                        "KUBELET_URL or NODE_IP is required (or set KUBELET_VIA_API_PROXY=true)",
                        "POLL_INTERVAL: 'often' is not a duration (use e.g. 500ms, 5s, 2m, 1h)",
                        "HTTP_PORT must be between 0 and 65535, got 70000",
                        "MIN_OBSERVATIONS must be a whole number, got 'zero'",
                        "WINDOW_UID_MISMATCH: '-1s' is not a duration (use e.g. 500ms, 5s, 2m, 1h)",
                        "REPAIR_MODE must be one of on, dry-run, off, got 'yes'"));
  }

  @Test
  void caFileAndSkipVerifyExcludeEachOther() {
    assertThatThrownBy(
            () ->
                load(
                    Map.of(
                        "NODE_NAME", "n1",
                        "KUBELET_URL", "https://127.0.0.1:10250",
                        "KUBELET_CA_FILE", "/ca.crt",
                        "KUBELET_INSECURE_SKIP_TLS_VERIFY", "true")))
        .hasMessageContaining(
            "KUBELET_CA_FILE and KUBELET_INSECURE_SKIP_TLS_VERIFY=true exclude each other");
  }

  @Test
  void aKubeletUrlMustBeHttp() {
    assertThatThrownBy(() -> load(Map.of("NODE_NAME", "n1", "KUBELET_URL", "ftp://x")))
        .hasMessageContaining("KUBELET_URL 'ftp://x' must be an http(s) URL with a host");
  }

  @Test
  void theApiProxyNeedsNoKubeletAddress() throws Exception {
    AgentConfig c = load(Map.of("NODE_NAME", "n1", "KUBELET_VIA_API_PROXY", "true"));
    assertThat(c.kubelet().viaApiProxy()).isTrue();
  }

  @Test
  void repairSettingsAreRead() throws Exception {
    AgentConfig c =
        load(
            Map.of(
                "NODE_NAME", "n1",
                "NODE_IP", "1.2.3.4",
                "REPAIR_MODE", "on",
                "CATALOG_FILE", "/etc/cat.yaml",
                "MAX_CONCURRENT_REPAIRS", "2",
                "CIRCUIT_RECOVERY", "2m",
                "CRJ_TTL", "1h"));
    assertThat(c.repair().mode()).isEqualTo(RepairMode.ON);
    assertThat(c.repair().catalogFile()).isEqualTo(Path.of("/etc/cat.yaml"));
    assertThat(c.repair().maxConcurrent()).isEqualTo(2);
    assertThat(c.repair().circuitRecovery()).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.repair().jobTtl()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void theClusterBudgetDefaultsToFiveSlotsAndAHundredAnHourAndZeroTurnsItOff() throws Exception {
    Map<String, String> base = Map.of("NODE_NAME", "n1", "NODE_IP", "1.2.3.4");
    AgentConfig.ClusterBudget d = load(base).clusterBudget();
    assertThat(d.slots()).isEqualTo(5);
    assertThat(d.maxPerHour()).isEqualTo(100);
    assertThat(d.namespace()).isEmpty();
    assertThat(d.enabled()).isTrue();
    AgentConfig.ClusterBudget set =
        load(
                base,
                "--cluster-repair-slots=0",
                "--cluster-max-repairs-per-hour=0",
                "--pod-namespace=ops")
            .clusterBudget();
    assertThat(set.enabled()).isFalse();
    assertThat(set.maxPerHour()).isZero();
    assertThat(set.namespace()).contains("ops");
  }

  @Test
  void badClusterBudgetSettingsAreRefusedNamingTheVariable() {
    assertThatThrownBy(
            () ->
                load(
                    Map.of(
                        "NODE_NAME", "n1",
                        "NODE_IP", "1.2.3.4",
                        "CLUSTER_REPAIR_SLOTS", "101",
                        "CLUSTER_MAX_REPAIRS_PER_HOUR", "-1",
                        "POD_NAMESPACE", "Not_A_Namespace")))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactlyInAnyOrder(
                        "CLUSTER_REPAIR_SLOTS must be between 0 and 100, got 101",
                        "CLUSTER_MAX_REPAIRS_PER_HOUR must be between 0 and 1000, got -1",
                        "POD_NAMESPACE 'Not_A_Namespace' is not a namespace name (set it from the"
                            + " downward API: metadata.namespace)"));
  }

  @Test
  void theBudgetsTimingDefaultsToTheDocumentedValuesAndCanBeShortened() throws Exception {
    Map<String, String> base = Map.of("NODE_NAME", "n1", "NODE_IP", "1.2.3.4");
    AgentConfig.ClusterBudget d = load(base).clusterBudget();
    assertThat(d.retryMin()).isEqualTo(java.time.Duration.ofSeconds(1));
    assertThat(d.retryMax()).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(d.margin()).isEqualTo(java.time.Duration.ofSeconds(30));
    Map<String, String> shortened = new java.util.HashMap<>(base);
    shortened.put("CLUSTER_BUDGET_RETRY_MIN", "200ms");
    shortened.put("CLUSTER_BUDGET_RETRY_MAX", "2s");
    shortened.put("CLUSTER_SLOT_MARGIN", "2s");
    AgentConfig.ClusterBudget s = load(shortened).clusterBudget();
    assertThat(s.retryMin()).isEqualTo(java.time.Duration.ofMillis(200));
    assertThat(s.retryMax()).isEqualTo(java.time.Duration.ofSeconds(2));
    assertThat(s.margin()).isEqualTo(java.time.Duration.ofSeconds(2));
    Map<String, String> upsideDown = new java.util.HashMap<>(base);
    upsideDown.put("CLUSTER_BUDGET_RETRY_MIN", "5s");
    upsideDown.put("CLUSTER_BUDGET_RETRY_MAX", "1s");
    assertThatThrownBy(() -> load(upsideDown))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("CLUSTER_BUDGET_RETRY_MAX (1s) must not be under")
        .hasMessageContaining("CLUSTER_BUDGET_RETRY_MIN (5s)");
  }

  private static final long HEAP_64M = 64L * 1024 * 1024;

  @Test
  void theBodyLimitIsAnEighthOfTheHeapUnlessSetAndNeverMoreThanTheHeapCanHold() throws Exception {
    Map<String, String> base = Map.of("NODE_NAME", "n1", "NODE_IP", "10.0.0.7");
    assertThat(ConfigLoader.load(base, List.of(), HEAP_64M).kubelet().maxBodyBytes())
        .isEqualTo(8L * 1024 * 1024);
    assertThat(
            ConfigLoader.load(base, List.of("--kubelet-max-body-bytes=4194304"), HEAP_64M)
                .kubelet()
                .maxBodyBytes())
        .isEqualTo(4L * 1024 * 1024);
    // The old default: the whole heap for one reply.
    assertThatThrownBy(
            () -> ConfigLoader.load(base, List.of("--kubelet-max-body-bytes=67108864"), HEAP_64M))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("KUBELET_MAX_BODY_BYTES 67108864 is more than this JVM's heap")
        .hasMessageContaining("at most 8388608");
  }

  @Test
  void aPlainHttpKubeletIsRefusedUnlessExplicitlyAllowed() throws Exception {
    Map<String, String> http = Map.of("NODE_NAME", "n1", "KUBELET_URL", "http://10.0.0.7:10255");
    assertThatThrownBy(() -> load(http))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("KUBELET_URL 'http://10.0.0.7:10255' is plain http")
        .hasMessageContaining("KUBELET_ALLOW_INSECURE_HTTP=true");
    assertThat(load(http, "--kubelet-allow-insecure-http=true").kubelet().url())
        .isEqualTo(URI.create("http://10.0.0.7:10255"));
    assertThatThrownBy(() -> load(http, "--kubelet-allow-insecure-http=maybe"))
        .hasMessageContaining("KUBELET_ALLOW_INSECURE_HTTP must be true or false");
    assertThat(
            load(Map.of("NODE_NAME", "n1", "KUBELET_URL", "https://10.0.0.7:10250"))
                .kubelet()
                .url())
        .isEqualTo(URI.create("https://10.0.0.7:10250"));
  }
}
