package dev.stateprobe.repair.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one catalog script under the script contract (repair-scripts/README.md):
 *
 * <ul>
 *   <li>the script path is executed directly, with no arguments and no shell;
 *   <li>in a fresh working directory under {@link Settings#tempBase()}, removed afterwards;
 *   <li>with exactly the environment of {@link ScriptEnv#of}: nothing of the agent's own leaks;
 *   <li>the drift JSON in {@code STATE_PROBE_DRIFT_FILE} and on stdin (then closed);
 *   <li>stdout and stderr merged and drained continuously; the last {@link #OUTPUT_LIMIT} bytes are
 *       kept;
 *   <li>after the timeout, SIGTERM to the whole process tree and SIGKILL {@link
 *       Settings#killGrace()} later;
 *   <li>when the script exits, whatever it left running in its process tree is ended the same way:
 *       a run leaves nothing behind.
 * </ul>
 *
 * <p>Thread-safe; each run uses its own threads for the output and stdin pipes. The {@link Clock}
 * stamps {@code startedAt}/{@code finishedAt}; the timeout itself is measured on the monotonic
 * clock, since only real time can end a real process.
 */
public final class ScriptExecutor {
  private static final Logger LOG = LoggerFactory.getLogger(ScriptExecutor.class);

  /** Bytes of output kept: 16 KiB. */
  public static final int OUTPUT_LIMIT = 16 * 1024;

  /** How long to wait for the output pipe to reach its end once the process tree is gone. */
  private static final Duration PIPE_DRAIN = Duration.ofSeconds(2);

  /** How long to wait for the script's own process to be reaped once its tree was ended. */
  private static final Duration KILL_REAP = Duration.ofSeconds(5);

  /**
   * @param tempBase where each run's working directory is created ({@code SCRIPT_TEMP_DIR})
   * @param killGrace between SIGTERM and SIGKILL; 5 s outside tests
   * @param path the scripts' {@code PATH}; {@link ScriptEnv#DEFAULT_PATH} outside tests
   * @param captureInterval how often the process tree is walked while a script runs, so that
   *     children are known even after their parent has died
   */
  public record Settings(Path tempBase, Duration killGrace, String path, Duration captureInterval) {
    public Settings {
      Objects.requireNonNull(tempBase, "tempBase");
      Objects.requireNonNull(killGrace, "killGrace");
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(captureInterval, "captureInterval");
      if (killGrace.isNegative()) {
        throw new IllegalArgumentException("killGrace must not be negative");
      }
      if (captureInterval.toMillis() < 1) {
        throw new IllegalArgumentException("captureInterval must be at least 1ms");
      }
    }

    /** 5 s grace, the fixed PATH, a tree walk every 200 ms. */
    public static Settings defaults(Path tempBase) {
      return new Settings(
          tempBase, Duration.ofSeconds(5), ScriptEnv.DEFAULT_PATH, Duration.ofMillis(200));
    }

    public Settings withKillGrace(Duration grace) {
      return new Settings(tempBase, grace, path, captureInterval);
    }

    /** For tests: {@code dir} first on the PATH (fake tools), then the fixed PATH. */
    public Settings withPathPrepended(Path dir) {
      return new Settings(tempBase, killGrace, dir + ":" + path, captureInterval);
    }
  }

  private final ProcessRunner runner;
  private final Clock clock;
  private final Settings settings;

  public ScriptExecutor(ProcessRunner runner, Clock clock, Settings settings) {
    this.runner = Objects.requireNonNull(runner, "runner");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  public Settings settings() {
    return settings;
  }

  /**
   * Runs the script to its end. Blocking for up to the timeout plus the kill grace: call on the
   * worker pool, never on the event loop. Never throws for anything the script does; every failure
   * is an outcome with a reason.
   */
  public ScriptResult run(ScriptInvocation invocation) {
    Instant startedAt = clock.instant();
    Path script = invocation.script();
    if (!Files.exists(script)) {
      return done(
          ScriptOutcome.MISSING, null, "", startedAt, "script " + script + " does not exist");
    }
    if (!Files.isRegularFile(script) || !Files.isExecutable(script)) {
      return done(
          ScriptOutcome.NOT_EXECUTABLE,
          null,
          "",
          startedAt,
          "script " + script + " is not an executable file");
    }
    Path workDir;
    try {
      workDir =
          Files.createTempDirectory(
              settings.tempBase(), "state-probe-" + invocation.entryName() + "-");
    } catch (IOException | IllegalArgumentException e) {
      String why = e instanceof NoSuchFileException ? "it does not exist" : e.toString();
      return done(
          ScriptOutcome.FAILED,
          null,
          "",
          startedAt,
          "cannot create a working directory under " + settings.tempBase() + ": " + why);
    }
    try {
      return runIn(invocation, workDir, startedAt);
    } finally {
      deleteTree(workDir);
    }
  }

  private ScriptResult runIn(ScriptInvocation inv, Path workDir, Instant startedAt) {
    byte[] drift = inv.driftJson().getBytes(StandardCharsets.UTF_8);
    try {
      Files.write(workDir.resolve(ScriptEnv.DRIFT_FILE_NAME), drift);
    } catch (IOException e) {
      return done(ScriptOutcome.FAILED, null, "", startedAt, "cannot write the drift file: " + e);
    }
    Map<String, String> env = ScriptEnv.of(inv, workDir, settings.path());
    Process process;
    try {
      process = runner.start(List.of(inv.script().toString()), workDir, env);
    } catch (IOException | RuntimeException e) {
      return done(
          ScriptOutcome.FAILED,
          null,
          "",
          startedAt,
          "cannot start " + inv.script() + ": " + e.getMessage());
    }

    OutputTail tail = new OutputTail(OUTPUT_LIMIT);
    Thread reader =
        Thread.ofPlatform()
            .daemon()
            .name("script-output-" + inv.entryName())
            .start(() -> tail.drain(process.getInputStream()));
    Thread writer =
        Thread.ofPlatform()
            .daemon()
            .name("script-stdin-" + inv.entryName())
            .start(() -> feed(process.getOutputStream(), drift));

    ProcessTree tree = ProcessTree.of(process, ScriptEnv.RUN_ID + "=" + env.get(ScriptEnv.RUN_ID));
    long timeoutNanos = inv.timeout().toNanos();
    long deadline = System.nanoTime() + timeoutNanos;
    boolean exited = false;
    ProcessTree.Ending ending;
    try {
      while (true) {
        tree.capture();
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        if (process.waitFor(
            Math.min(left, settings.captureInterval().toNanos()), TimeUnit.NANOSECONDS)) {
          exited = true;
          break;
        }
      }
      if (!exited && !process.isAlive()) {
        exited = true; // finished between the last look and the deadline
      }
      ending = tree.end(settings.killGrace());
      process.waitFor(KILL_REAP.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      // The interrupt flag is clear here, so the cleanup can wait; it is set again below.
      try {
        tree.end(Duration.ZERO);
      } catch (InterruptedException again) {
        // a second interrupt: the tree was sent SIGKILL already
      }
      String output = finish(reader, writer, tail);
      Thread.currentThread().interrupt();
      return done(
          ScriptOutcome.FAILED,
          null,
          output,
          startedAt,
          inv.entryName() + ": interrupted (agent shutting down); its processes were killed");
    }
    String output = finish(reader, writer, tail);
    String drained =
        reader.isAlive()
            ? "; output may be incomplete: a process outside the script's tree kept it open"
            : "";

    if (!exited) {
      String how =
          ending.killed() > 0
              ? "; SIGKILL after " + settings.killGrace().toMillis() + "ms grace"
              : "; ended by SIGTERM";
      return done(
          ScriptOutcome.TIMED_OUT,
          null,
          output,
          startedAt,
          inv.entryName() + ": timed out after " + inv.timeout().toMillis() + "ms" + how + drained,
          ending.processes());
    }
    int code = process.exitValue();
    ScriptOutcome outcome = ScriptOutcome.ofExitCode(code);
    String leftovers = "";
    if (!ending.nothingLeft()) {
      leftovers =
          "; ended "
              + ending.processes()
              + " processes it left running"
              + (ending.killed() > 0 ? " (" + ending.killed() + " needed SIGKILL)" : "");
      LOG.warn(
          "event=script_leftovers_ended script={} processes={} sigkill={}",
          inv.entryName(),
          ending.processes(),
          ending.killed());
    }
    return done(
        outcome,
        code,
        output,
        startedAt,
        inv.entryName()
            + ": exit "
            + code
            + " ("
            + meaning(outcome, code)
            + ")"
            + leftovers
            + drained,
        ending.processes());
  }

  private static String meaning(ScriptOutcome outcome, int code) {
    return switch (outcome) {
      case SUCCEEDED -> "repaired";
      case RETRYABLE_FAILURE -> "failed, may retry";
      case NOT_APPLICABLE -> "not applicable";
      case PERMANENT_FAILURE -> "failed, do not retry";
      case FAILED ->
          code > 128 && code < 160
              ? "unexpected exit code; likely killed by signal " + (code - 128)
              : "unexpected exit code";
      case TIMED_OUT, NOT_EXECUTABLE, MISSING -> throw new IllegalStateException(outcome.name());
    };
  }

  /** Waits a bounded time for the pipes' threads and returns the kept output. */
  private static String finish(Thread reader, Thread writer, OutputTail tail) {
    try {
      reader.join(PIPE_DRAIN);
      writer.join(PIPE_DRAIN);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return tail.text();
  }

  private static void feed(OutputStream stdin, byte[] drift) {
    try (stdin) {
      stdin.write(drift);
    } catch (IOException e) {
      // The script exited or closed stdin without reading it all: its choice.
    }
  }

  private ScriptResult done(
      ScriptOutcome outcome, Integer exitCode, String output, Instant startedAt, String reason) {
    return done(outcome, exitCode, output, startedAt, reason, 0);
  }

  private ScriptResult done(
      ScriptOutcome outcome,
      Integer exitCode,
      String output,
      Instant startedAt,
      String reason,
      int processesEnded) {
    return new ScriptResult(
        outcome, exitCode, output, startedAt, clock.instant(), reason, processesEnded);
  }

  private static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.delete(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.warn("could not remove the script working directory {}: {}", dir, e.toString());
    }
  }
}
