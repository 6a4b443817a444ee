package dev.stateprobe.repair.exec;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.DriftKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Real processes against the fixture scripts in src/test/resources/repair/scripts. */
class ScriptExecutorIT {
  static final Path SCRIPTS = Path.of("src/test/resources/repair/scripts").toAbsolutePath();
  static final String DRIFT_JSON =
      "{\"kind\":\"OrphanedPod\",\"namespace\":\"default\",\"name\":\"web-1\","
          + "\"uid\":\"0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f\",\"detail\":\"kubelet lists it; API"
          + " server has no pod with this UID\",\"node\":\"node-a\",\"job\":\"crj-1\"}";

  @TempDir Path temp;
  private Path base;
  private final AtomicInteger starts = new AtomicInteger();
  private ScriptExecutor executor;

  @BeforeEach
  void executor() throws IOException {
    base = Files.createDirectory(temp.resolve("work"));
    ProcessRunner real = DefaultProcessRunner.create();
    ProcessRunner counting =
        (command, dir, env) -> {
          starts.incrementAndGet();
          return real.start(command, dir, env);
        };
    executor =
        new ScriptExecutor(
            counting,
            Clock.systemUTC(),
            ScriptExecutor.Settings.defaults(base).withKillGrace(Duration.ofMillis(500)));
  }

  static ScriptInvocation invocation(Path script, Duration timeout, Map<String, String> extra) {
    return new ScriptInvocation(
        script.getFileName().toString().replace(".sh", ""),
        script,
        timeout,
        DriftKind.ORPHANED_POD,
        "node-a",
        "default",
        "web-1",
        "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f",
        "crj-1",
        1,
        false,
        DRIFT_JSON,
        extra);
  }

  static Stream<Arguments> exitCodes() {
    return Stream.of(
        Arguments.of(0, ScriptOutcome.SUCCEEDED, "exit-code: exit 0 (repaired)"),
        Arguments.of(1, ScriptOutcome.RETRYABLE_FAILURE, "exit-code: exit 1 (failed, may retry)"),
        Arguments.of(2, ScriptOutcome.NOT_APPLICABLE, "exit-code: exit 2 (not applicable)"),
        Arguments.of(
            3, ScriptOutcome.PERMANENT_FAILURE, "exit-code: exit 3 (failed, do not retry)"),
        Arguments.of(42, ScriptOutcome.FAILED, "exit-code: exit 42 (unexpected exit code)"),
        Arguments.of(
            137,
            ScriptOutcome.FAILED,
            "exit-code: exit 137 (unexpected exit code; likely killed by signal 9)"));
  }

  @ParameterizedTest(name = "exit {0} is {1}")
  @MethodSource("exitCodes")
  void exitCodeDecidesTheOutcome(int code, ScriptOutcome outcome, String reason) {
    ScriptResult r =
        executor.run(
            invocation(
                SCRIPTS.resolve("exit-code.sh"),
                Duration.ofSeconds(20),
                Map.of("TEST_EXIT_CODE", Integer.toString(code))));
    assertEquals(outcome, r.outcome());
    assertEquals(code, r.exitCode());
    assertEquals("out: attempt 1\nerr: kind OrphanedPod\n", r.output());
    assertEquals(reason, r.reason());
    assertFalse(r.finishedAt().isBefore(r.startedAt()));
  }

  @Test
  void timeoutEndsTheWholeTreeAlsoChildrenThatLeftTheGroupOrIgnoreSigterm() throws Exception {
    Path pidFile = temp.resolve("pids");
    executor =
        new ScriptExecutor(
            DefaultProcessRunner.create(),
            Clock.systemUTC(),
            new ScriptExecutor.Settings(
                base, Duration.ofMillis(500), ScriptEnv.DEFAULT_PATH, Duration.ofMillis(50)));
    long t0 = System.nanoTime();
    ScriptResult r =
        executor.run(
            invocation(
                SCRIPTS.resolve("tree.sh"),
                Duration.ofSeconds(3),
                Map.of("TEST_PID_FILE", pidFile.toString())));
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;

    assertEquals(ScriptOutcome.TIMED_OUT, r.outcome());
    assertNull(r.exitCode());
    assertEquals("tree ready\n", r.output());
    assertEquals("tree: timed out after 3000ms; SIGKILL after 500ms grace", r.reason());
    assertTrue(tookMillis < 3000 + 500 + 3000, "took " + tookMillis + "ms");

    List<Long> pids =
        Files.readAllLines(pidFile).stream().map(String::strip).map(Long::parseLong).toList();
    assertEquals(9, pids.size(), "script, 4 children, 4 grandchildren: " + pids);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), running(pids)));
  }

  @Test
  void timeoutThatSigtermEndsDoesNotWaitForTheGrace() {
    executor =
        new ScriptExecutor(
            DefaultProcessRunner.create(),
            Clock.systemUTC(),
            ScriptExecutor.Settings.defaults(base).withKillGrace(Duration.ofSeconds(20)));
    long t0 = System.nanoTime();
    ScriptResult r =
        executor.run(invocation(SCRIPTS.resolve("sleepy.sh"), Duration.ofSeconds(1), Map.of()));
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(ScriptOutcome.TIMED_OUT, r.outcome());
    assertEquals("sleepy: timed out after 1000ms; ended by SIGTERM", r.reason());
    assertEquals("sleeping\n", r.output());
    assertTrue(tookMillis < 10_000, "took " + tookMillis + "ms: waited for the 20 s grace");
  }

  @Test
  void interruptedRunKillsTheScriptAndKeepsTheInterrupt() throws Exception {
    Path pidFile = temp.resolve("pid");
    ScriptResult[] result = new ScriptResult[1];
    boolean[] interruptKept = new boolean[1];
    Thread runner =
        Thread.ofPlatform()
            .start(
                () -> {
                  result[0] =
                      executor.run(
                          invocation(
                              SCRIPTS.resolve("sleepy.sh"),
                              Duration.ofSeconds(60),
                              Map.of("TEST_PID_FILE", pidFile.toString())));
                  interruptKept[0] = Thread.currentThread().isInterrupted();
                });
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pidFile));
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    runner.interrupt();
    runner.join(Duration.ofSeconds(20));
    assertFalse(runner.isAlive());
    assertEquals(ScriptOutcome.FAILED, result[0].outcome());
    assertNull(result[0].exitCode());
    assertEquals(
        "sleepy: interrupted (agent shutting down); its processes were killed", result[0].reason());
    assertTrue(interruptKept[0]);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), running(List.of(pid))));
    try (Stream<Path> left = Files.list(base)) {
      assertEquals(List.of(), left.toList(), "working directory removed");
    }
  }

  @Test
  void processesLeftRunningAfterAnExitAreEnded() throws Exception {
    ScriptResult r =
        executor.run(invocation(SCRIPTS.resolve("leftover.sh"), Duration.ofSeconds(20), Map.of()));
    assertEquals(ScriptOutcome.SUCCEEDED, r.outcome());
    assertEquals(0, r.exitCode());
    assertEquals("leftover: exit 0 (repaired); ended 1 processes it left running", r.reason());
    long pid = Long.parseLong(r.output().strip().substring("leftover ".length()));
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), running(List.of(pid))));
  }

  /** PIDs that still run: present in /proc and not a zombie (zombies may never be reaped here). */
  static List<Long> running(List<Long> pids) throws IOException {
    List<Long> out = new ArrayList<>();
    for (long pid : pids) {
      Path stat = Path.of("/proc", Long.toString(pid), "stat");
      String s;
      try {
        s = Files.readString(stat);
      } catch (IOException gone) {
        continue;
      }
      char state = s.charAt(s.lastIndexOf(')') + 2);
      if (state != 'Z' && state != 'X') {
        out.add(pid);
      }
    }
    return out;
  }

  @Test
  void outputFloodKeepsExactlyTheLast16KiBAndDoesNotSlowTheScript() {
    long t0 = System.nanoTime();
    ScriptResult r =
        executor.run(invocation(SCRIPTS.resolve("flood.sh"), Duration.ofSeconds(60), Map.of()));
    long tookMillis = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(ScriptOutcome.SUCCEEDED, r.outcome());
    assertEquals(expectedTailOfSeq(6_000_000, ScriptExecutor.OUTPUT_LIMIT), r.output());
    assertEquals(16_384, r.output().getBytes(StandardCharsets.UTF_8).length);
    assertTrue(tookMillis < 15_000, "49 MB of output took " + tookMillis + "ms");
  }

  private static String expectedTailOfSeq(int last, int bytes) {
    StringBuilder reversed = new StringBuilder();
    for (int n = last; reversed.length() < bytes; n--) {
      reversed.insert(0, n + "\n");
    }
    return reversed.substring(reversed.length() - bytes);
  }

  @Test
  void nonExecutableScriptIsNotStarted() throws IOException {
    Path plain = temp.resolve("plain.sh");
    Files.writeString(plain, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-r--r--"));
    ScriptResult r = executor.run(invocation(plain, Duration.ofSeconds(5), Map.of()));
    assertEquals(ScriptOutcome.NOT_EXECUTABLE, r.outcome());
    assertNull(r.exitCode());
    assertEquals("", r.output());
    assertEquals("script " + plain + " is not an executable file", r.reason());
    assertEquals(0, starts.get());
  }

  @Test
  void folderIsNotExecutableEither() {
    ScriptResult r = executor.run(invocation(temp, Duration.ofSeconds(5), Map.of()));
    assertEquals(ScriptOutcome.NOT_EXECUTABLE, r.outcome());
    assertEquals("script " + temp + " is not an executable file", r.reason());
    assertEquals(0, starts.get());
  }

  @Test
  void missingScriptIsNotStarted() {
    Path missing = temp.resolve("nope.sh");
    ScriptResult r = executor.run(invocation(missing, Duration.ofSeconds(5), Map.of()));
    assertEquals(ScriptOutcome.MISSING, r.outcome());
    assertNull(r.exitCode());
    assertEquals("", r.output());
    assertEquals("script " + missing + " does not exist", r.reason());
    assertEquals(0, starts.get());
  }

  @Test
  void environmentIsExactlyTheMinimalOneAndNothingOfTheAgentsLeaks() throws IOException {
    ScriptResult r =
        executor.run(
            invocation(
                SCRIPTS.resolve("env.sh"),
                Duration.ofSeconds(20),
                Map.of("STATE_PROBE_API_URL", "https://10.0.0.1:443")));
    assertEquals(ScriptOutcome.SUCCEEDED, r.outcome(), r.output());
    Map<String, String> env = new LinkedHashMap<>();
    for (String line : r.output().split("\n")) {
      int eq = line.indexOf('=');
      env.put(line.substring(0, eq), line.substring(eq + 1));
    }
    String work = env.get("HOME");
    assertTrue(work.startsWith(base + "/state-probe-env-"), work);
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("HOME", work);
    expected.put("LANG", "C.UTF-8");
    expected.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    expected.put("STATE_PROBE_API_URL", "https://10.0.0.1:443");
    expected.put("STATE_PROBE_ATTEMPT", "1");
    expected.put("STATE_PROBE_DRIFT_FILE", work + "/drift.json");
    expected.put("STATE_PROBE_DRIFT_KIND", "OrphanedPod");
    expected.put("STATE_PROBE_DRY_RUN", "false");
    expected.put("STATE_PROBE_JOB_NAME", "crj-1");
    expected.put("STATE_PROBE_NODE_NAME", "node-a");
    expected.put("STATE_PROBE_POD_NAME", "web-1");
    expected.put("STATE_PROBE_POD_NAMESPACE", "default");
    expected.put("STATE_PROBE_POD_UID", "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f");
    expected.put("STATE_PROBE_RUN_ID", Path.of(work).getFileName().toString());
    expected.put("TMPDIR", work);
    assertEquals(expected, env);
    assertFalse(Files.exists(Path.of(work)), "working directory is removed afterwards");
  }

  @Test
  void stdinAndDriftFileCarryTheSameJsonAndTheWorkingDirectoryIsRemoved() {
    ScriptResult r =
        executor.run(invocation(SCRIPTS.resolve("stdin.sh"), Duration.ofSeconds(20), Map.of()));
    assertEquals(ScriptOutcome.SUCCEEDED, r.outcome(), r.output());
    String[] lines = r.output().split("\n");
    assertEquals("STDIN=" + DRIFT_JSON, lines[0]);
    assertEquals("FILE=" + DRIFT_JSON, lines[1]);
    Path pwd = Path.of(lines[2].substring("PWD=".length()));
    assertEquals(base, pwd.getParent());
    assertFalse(Files.exists(pwd), "working directory (with the file the script left) is removed");
    try (Stream<Path> left = Files.list(base)) {
      assertEquals(List.of(), left.toList());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
