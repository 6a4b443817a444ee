package dev.stateprobe.repair.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stateprobe.drift.DriftKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScriptInvocationTest {
  static ScriptInvocation with(
      int attempt, Duration timeout, String node, Map<String, String> env) {
    return new ScriptInvocation(
        "fix",
        Path.of("/scripts/fix.sh"),
        timeout,
        DriftKind.UID_MISMATCH,
        node,
        "default",
        "web-1",
        "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f",
        "crj-1",
        attempt,
        true,
        "{}",
        env);
  }

  @Test
  void extraEnvCannotReplaceWhatTheExecutorSets() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> with(1, Duration.ofSeconds(1), "n", Map.of("STATE_PROBE_DRY_RUN", "false")));
    assertEquals(
        "extraEnv: STATE_PROBE_DRY_RUN is set by the executor and cannot be replaced",
        e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> with(1, Duration.ofSeconds(1), "n", Map.of("PATH", "/tmp")));
  }

  @Test
  void extraEnvNamesMustBeVariableNames() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> with(1, Duration.ofSeconds(1), "n", Map.of("A=B", "x")));
    assertEquals("extraEnv: 'A=B' is not a variable name", e.getMessage());
  }

  @Test
  void attemptCountsFromOne() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> with(0, Duration.ofSeconds(1), "n", Map.of()));
    assertEquals("attempt counts from 1, got 0", e.getMessage());
  }

  @Test
  void timeoutMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> with(1, Duration.ZERO, "n", Map.of()));
  }

  @Test
  void nulCharactersCannotReachTheEnvironment() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> with(1, Duration.ofSeconds(1), "a\0b", Map.of()));
    assertEquals("node contains a NUL character", e.getMessage());
  }

  @Test
  void environmentHoldsTheMinimalBaseAndEveryInput() {
    Map<String, String> env =
        ScriptEnv.of(
            with(2, Duration.ofSeconds(1), "node-a", Map.of("STATE_PROBE_API_URL", "https://api")),
            Path.of("/tmp/run-1"),
            ScriptEnv.DEFAULT_PATH);
    assertEquals(
        Map.ofEntries(
            Map.entry("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            Map.entry("HOME", "/tmp/run-1"),
            Map.entry("TMPDIR", "/tmp/run-1"),
            Map.entry("LANG", "C.UTF-8"),
            Map.entry("STATE_PROBE_DRIFT_KIND", "UidMismatch"),
            Map.entry("STATE_PROBE_NODE_NAME", "node-a"),
            Map.entry("STATE_PROBE_POD_NAMESPACE", "default"),
            Map.entry("STATE_PROBE_POD_NAME", "web-1"),
            Map.entry("STATE_PROBE_POD_UID", "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f"),
            Map.entry("STATE_PROBE_JOB_NAME", "crj-1"),
            Map.entry("STATE_PROBE_ATTEMPT", "2"),
            Map.entry("STATE_PROBE_DRY_RUN", "true"),
            Map.entry("STATE_PROBE_DRIFT_FILE", "/tmp/run-1/drift.json"),
            Map.entry("STATE_PROBE_RUN_ID", "run-1"),
            Map.entry("STATE_PROBE_API_URL", "https://api")),
        env);
  }
}
