package dev.stateprobe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.vertx.core.net.SelfSignedCertificate;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every duration is range-checked with its setting named, files the agent needs are checked at
 * start-up, and all problems come in one list: never an uncaught exception.
 */
class ConfigBoundsTest {
  @TempDir Path dir;

  private Map<String, String> env(String... pairs) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("NODE_NAME", "n1");
    env.put("NODE_IP", "10.0.0.7");
    env.put("SCRIPT_TEMP_DIR", dir.toString());
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  private List<String> problems(Map<String, String> env) {
    return assertThrows(ConfigException.class, () -> ConfigLoader.load(env, List.of())).problems();
  }

  @Test
  void overflowingDurationsAreProblemsNamingTheSettingAllListedAtOnce() {
    assertThat(
            problems(
                env(
                    "POLL_INTERVAL", "9223372036854775807s",
                    "WINDOW_ORPHANED_POD", "999999999999999999h",
                    "CRJ_TTL", "99999999999999999999999h",
                    "KUBELET_REQUEST_TIMEOUT", "2562047788015215h")))
        .containsExactly(
            "KUBELET_REQUEST_TIMEOUT: '2562047788015215h' is longer than 87600h, the longest"
                + " duration accepted",
            "POLL_INTERVAL: '9223372036854775807s' is longer than 87600h, the longest duration"
                + " accepted",
            "WINDOW_ORPHANED_POD: '999999999999999999h' is longer than 87600h, the longest"
                + " duration accepted",
            "CRJ_TTL: '99999999999999999999999h' is longer than 87600h, the longest duration"
                + " accepted");
  }

  @Test
  void eachDurationHasItsOwnRange() {
    assertThat(
            problems(
                env(
                    "KUBELET_CONNECT_TIMEOUT", "1h",
                    "KUBELET_REQUEST_TIMEOUT", "6m",
                    "RUNTIME_REPROBE_INTERVAL", "0s",
                    "POLL_INTERVAL", "50ms",
                    "QUIET_PERIOD", "48h",
                    "WINDOW_UID_MISMATCH", "721h",
                    "CIRCUIT_RECOVERY", "25h",
                    "CRJ_TTL", "9000h")))
        .containsExactly(
            "KUBELET_CONNECT_TIMEOUT must be from 1ms to 5m, got 1h",
            "KUBELET_REQUEST_TIMEOUT must be from 1ms to 5m, got 6m",
            "RUNTIME_REPROBE_INTERVAL must be from 1ms to 24h, got 0s",
            "POLL_INTERVAL must be from 100ms to 1h, got 50ms",
            "QUIET_PERIOD must be from 0s to 24h, got 48h",
            "WINDOW_UID_MISMATCH must be from 0s to 720h, got 721h",
            "CIRCUIT_RECOVERY must be from 1ms to 24h, got 25h",
            "CRJ_TTL must be from 1ms to 8760h, got 9000h");
  }

  @Test
  void aKubeletRequestMayNotOutlastWhatHealthzAllows() throws Exception {
    assertThat(problems(env("KUBELET_REQUEST_TIMEOUT", "60s")))
        .containsExactly(
            "KUBELET_REQUEST_TIMEOUT (1m) must be shorter than 1m, the time /healthz allows without"
                + " a finished cycle (max(60s, 10 × POLL_INTERVAL)): a kubelet that hangs would get"
                + " the agent restarted");
    AgentConfig c =
        ConfigLoader.load(env("KUBELET_REQUEST_TIMEOUT", "2m", "POLL_INTERVAL", "15s"), List.of());
    assertThat(c.kubelet().requestTimeout()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void theBoundsThemselvesAreAccepted() throws Exception {
    AgentConfig c =
        ConfigLoader.load(
            env(
                "KUBELET_REQUEST_TIMEOUT", "5m",
                "POLL_INTERVAL", "1h",
                "WINDOW_ORPHANED_POD", "720h",
                "CRJ_TTL", "8760h"),
            List.of());
    assertThat(c.kubelet().requestTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(c.pollInterval()).isEqualTo(Duration.ofHours(1));
    assertThat(c.repair().jobTtl()).isEqualTo(Duration.ofDays(365));
  }

  @Test
  void scriptTempDirMustBeAWritableDirectory() throws IOException {
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertThat(problems(env("SCRIPT_TEMP_DIR", "/nonexistent")))
        .containsExactly(
            "SCRIPT_TEMP_DIR /nonexistent does not exist (scripts' working directories go there)");
    assertThat(problems(env("SCRIPT_TEMP_DIR", file.toString())))
        .containsExactly("SCRIPT_TEMP_DIR " + file + " is not a directory");
  }

  @Test
  void caFileMustExistAndHoldPemCertificatesReportedWithTheOtherProblems() throws IOException {
    Path missing = dir.resolve("missing.crt");
    Path notPem = Files.writeString(dir.resolve("not.crt"), "hello\n");
    Path broken =
        Files.writeString(
            dir.resolve("broken.crt"),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    assertThat(problems(env("KUBELET_CA_FILE", missing.toString(), "POLL_INTERVAL", "1x")))
        .containsExactly(
            "POLL_INTERVAL: '1x' is not a duration (use e.g. 500ms, 5s, 2m, 1h)",
            "KUBELET_CA_FILE " + missing + " does not exist");
    assertThat(problems(env("KUBELET_CA_FILE", notPem.toString())))
        .containsExactly(
            "KUBELET_CA_FILE "
                + notPem
                + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    assertThat(problems(env("KUBELET_CA_FILE", broken.toString())))
        .singleElement()
        .asString()
        .startsWith("KUBELET_CA_FILE " + broken + " is not a valid PEM certificate file: ");
  }

  @Test
  void aRealCaFileIsAccepted() throws Exception {
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    try {
      AgentConfig c = ConfigLoader.load(env("KUBELET_CA_FILE", cert.certificatePath()), List.of());
      assertThat(c.kubelet().caFile()).contains(Path.of(cert.certificatePath()));
    } finally {
      cert.delete();
    }
  }
}
