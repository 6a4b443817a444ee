package dev.stateprobe.repair.exec;

import static dev.stateprobe.repair.exec.ScriptExecutorIT.SCRIPTS;
import static dev.stateprobe.repair.exec.ScriptExecutorIT.invocation;
import static dev.stateprobe.repair.exec.ScriptExecutorIT.running;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.image.ImageUserland;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real executor with each userland it meets: Debian's util-linux (this machine, CI) and the
 * image's BusyBox applets ({@link ImageUserland}: setsid, sleep and the rest from BusyBox, bash
 * from the image's packages). Scripts must run, time out and leave nothing behind with both.
 */
class UserlandExecutorIT {
  @TempDir static Path shared;
  static ImageUserland image;

  @TempDir Path temp;
  private final List<Long> started = new CopyOnWriteArrayList<>();
  private final List<Long> daemons = new ArrayList<>();

  @BeforeAll
  static void userland() throws IOException {
    image = ImageUserland.create(shared.resolve("image"), "bash");
  }

  @AfterEach
  void noSurvivors() {
    // A failed assertion must not leave sleeps behind on a shared machine.
    for (long pid : daemons) {
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  /** The executor as the agent builds it, for {@code userland}: its PATH and the setsid on it. */
  private ScriptExecutor executor(String userland, Duration grace) throws IOException {
    String path = userland.equals("busybox") ? image.path() : ScriptEnv.DEFAULT_PATH;
    DefaultProcessRunner real = DefaultProcessRunner.onPath(path);
    ProcessRunner recording =
        (command, dir, env) -> {
          Process p = real.start(command, dir, env);
          started.add(p.pid());
          return p;
        };
    Path base = Files.createDirectories(temp.resolve("work"));
    return new ScriptExecutor(
        recording,
        Clock.systemUTC(),
        new ScriptExecutor.Settings(base, grace, path, Duration.ofMillis(200)));
  }

  @Test
  void theImagesSetsidIsBusyBoxAtUsrBinAndIsTheOneUsed() throws IOException {
    Path setsid = image.resolve("/usr/bin/setsid");
    assertEquals(image.busybox(), setsid.toRealPath());
    assertEquals(setsid, DefaultProcessRunner.onPath(image.path()).setsid().orElseThrow());
  }

  @ParameterizedTest(name = "{0}: exit codes pass through, the script leads its own session")
  @ValueSource(strings = {"util-linux", "busybox"})
  void scriptRunsInPlaceAsLeaderOfANewSession(String userland) throws IOException {
    for (int code : new int[] {0, 1, 2, 3}) {
      started.clear();
      ScriptResult r =
          executor(userland, Duration.ofMillis(500))
              .run(
                  invocation(
                      SCRIPTS.resolve("session.sh"),
                      Duration.ofSeconds(20),
                      Map.of("TEST_EXIT_CODE", Integer.toString(code))));
      assertEquals(ScriptOutcome.ofExitCode(code), r.outcome(), r.reason() + "\n" + r.output());
      assertEquals(code, r.exitCode());
      // setsid exec'd the script in place: the process Java started is the script itself, and it
      // leads a session and a group of its own.
      long pid = started.getFirst();
      assertEquals("pid=" + pid + " pgrp=" + pid + " sid=" + pid + "\n", r.output());
      assertEquals(0, r.processesEnded());
    }
  }

  @ParameterizedTest(name = "{0}: a timeout ends the whole tree")
  @ValueSource(strings = {"util-linux", "busybox"})
  void timeoutEndsTheWholeTree(String userland) throws Exception {
    Path pidFile = temp.resolve("pids");
    ScriptResult r =
        executor(userland, Duration.ofMillis(500))
            .run(
                invocation(
                    SCRIPTS.resolve("tree.sh"),
                    Duration.ofSeconds(3),
                    Map.of("TEST_PID_FILE", pidFile.toString())));
    List<Long> pids =
        Files.readAllLines(pidFile).stream().map(String::strip).map(Long::parseLong).toList();
    daemons.addAll(pids);
    assertEquals(ScriptOutcome.TIMED_OUT, r.outcome(), r.reason() + "\n" + r.output());
    assertNull(r.exitCode());
    assertEquals("tree: timed out after 3000ms; SIGKILL after 500ms grace", r.reason());
    assertEquals(9, pids.size(), "script, 4 children, 4 grandchildren: " + pids);
    assertTrue(r.processesEnded() >= 9, "ended " + r.processesEnded());
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), running(pids)));
  }

  @ParameterizedTest(name = "{0}: daemons of a script that exits at once are ended and counted")
  @ValueSource(strings = {"util-linux", "busybox"})
  void daemonsLeftByAQuickExitAreEndedAndRecorded(String userland) throws Exception {
    ScriptResult r =
        executor(userland, Duration.ofMillis(500))
            .run(invocation(SCRIPTS.resolve("daemonize.sh"), Duration.ofSeconds(20), Map.of()));
    Matcher m = Pattern.compile("daemon (\\d+)").matcher(r.output());
    while (m.find()) {
      daemons.add(Long.parseLong(m.group(1)));
    }
    assertEquals(3, daemons.size(), r.output());
    assertEquals(ScriptOutcome.SUCCEEDED, r.outcome(), r.reason());
    assertEquals(3, r.processesEnded(), r.reason());
    assertEquals("daemonize: exit 0 (repaired); ended 3 processes it left running", r.reason());
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertEquals(List.of(), running(daemons)));
  }
}
