package dev.stateprobe.repair.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.stateprobe.drift.DriftKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The executor against a substituted runner: what it asks to start, and how it reads results. */
class ScriptExecutorTest {
  private static final Instant T0 = Instant.parse("2026-11-02T10:00:00Z");

  @TempDir Path temp;
  private Path script;
  private final Clock clock = Clock.fixed(T0, ZoneOffset.UTC);

  @BeforeEach
  void script() throws IOException {
    script = temp.resolve("fix.sh");
    Files.writeString(script, "#!/bin/sh\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
  }

  private ScriptInvocation invocation() {
    return new ScriptInvocation(
        "fix",
        script,
        Duration.ofSeconds(30),
        DriftKind.STUCK_TERMINATING,
        "node-a",
        "team-a",
        "job-7",
        "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f",
        "crj-9",
        3,
        false,
        "{\"kind\":\"StuckTerminating\"}",
        Map.of());
  }

  /** A process that has already exited with {@code code} after printing {@code output}. */
  static final class ExitedProcess extends Process {
    private final int code;
    private final byte[] output;
    final ByteArrayOutputStream stdin = new ByteArrayOutputStream();

    ExitedProcess(int code, String output) {
      this.code = code;
      this.output = output.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public OutputStream getOutputStream() {
      return stdin;
    }

    @Override
    public InputStream getInputStream() {
      return new ByteArrayInputStream(output);
    }

    @Override
    public InputStream getErrorStream() {
      return InputStream.nullInputStream();
    }

    @Override
    public int waitFor() {
      return code;
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) {
      return true;
    }

    @Override
    public int exitValue() {
      return code;
    }

    @Override
    public void destroy() {}
  }

  @Test
  void startsTheScriptPathAloneWithTheMinimalEnvironmentInAFreshDirectory() {
    record Call(List<String> command, Path dir, Map<String, String> env) {}
    Call[] seen = new Call[1];
    ExitedProcess process = new ExitedProcess(2, "nothing to do\n");
    ScriptExecutor executor =
        new ScriptExecutor(
            (command, dir, env) -> {
              seen[0] = new Call(command, dir, env);
              return process;
            },
            clock,
            ScriptExecutor.Settings.defaults(temp));

    ScriptResult r = executor.run(invocation());

    assertEquals(List.of(script.toString()), seen[0].command());
    assertEquals(temp, seen[0].dir().getParent());
    assertEquals(ScriptEnv.of(invocation(), seen[0].dir(), ScriptEnv.DEFAULT_PATH), seen[0].env());
    assertEquals(
        new ScriptResult(
            ScriptOutcome.NOT_APPLICABLE,
            2,
            "nothing to do\n",
            T0,
            T0,
            "fix: exit 2 (not applicable)"),
        r);
    assertEquals("{\"kind\":\"StuckTerminating\"}", process.stdin.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aRunnerThatCannotStartGivesFailedNamingTheScript() {
    ScriptExecutor executor =
        new ScriptExecutor(
            (command, dir, env) -> {
              throw new IOException("error=13, Permission denied");
            },
            clock,
            ScriptExecutor.Settings.defaults(temp));
    ScriptResult r = executor.run(invocation());
    assertEquals(ScriptOutcome.FAILED, r.outcome());
    assertNull(r.exitCode());
    assertEquals("cannot start " + script + ": error=13, Permission denied", r.reason());
  }

  @Test
  void aMissingTempBaseGivesFailedNamingIt() {
    Path none = temp.resolve("none");
    ScriptExecutor executor =
        new ScriptExecutor(
            (command, dir, env) -> {
              throw new AssertionError("must not start");
            },
            clock,
            ScriptExecutor.Settings.defaults(none));
    ScriptResult r = executor.run(invocation());
    assertEquals(ScriptOutcome.FAILED, r.outcome());
    assertEquals(
        "cannot create a working directory under " + none + ": it does not exist", r.reason());
  }

  @Test
  void everyOutcomeHasABoundedSnakeCaseTag() {
    assertEquals(
        List.of(
            "succeeded",
            "retryable_failure",
            "not_applicable",
            "permanent_failure",
            "failed",
            "timed_out",
            "not_executable",
            "missing"),
        Arrays.stream(ScriptOutcome.values()).map(ScriptOutcome::tag).toList());
  }
}
