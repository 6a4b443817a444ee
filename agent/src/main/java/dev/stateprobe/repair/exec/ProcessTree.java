package dev.stateprobe.repair.exec;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The processes of one script run: the script, every descendant seen while it ran (also those that
 * later left its process group, or were orphaned), every member of the process group and the
 * session the script leads, and every process that carries the run's marker in its environment
 * (found however it was reparented: a daemon started with {@code setsid prog &} by a script that
 * exits at once is in none of the others). Used by the one thread that runs the script; not
 * thread-safe.
 */
final class ProcessTree {
  private static final Duration KILL_PATIENCE = Duration.ofSeconds(5);
  private static final long POLL_MILLIS = 20;

  private final ProcessHandle root;
  private final String marker;
  private final Set<ProcessHandle> seen = new LinkedHashSet<>();

  /** How ending the tree went: processes that were running, and how many needed SIGKILL. */
  record Ending(int processes, int killed) {
    boolean nothingLeft() {
      return processes == 0;
    }
  }

  private ProcessTree(ProcessHandle root, String marker) {
    this.root = root;
    this.marker = marker;
  }

  /**
   * The tree of {@code process}; an empty one when the process has no handle (a substitute {@link
   * Process} in tests), since then there is nothing to walk or signal.
   *
   * @param marker an environment entry ({@code NAME=value}) unique to this run, which every process
   *     of the run inherits; empty for none
   */
  static ProcessTree of(Process process, String marker) {
    try {
      return new ProcessTree(process.toHandle(), marker);
    } catch (UnsupportedOperationException e) {
      return new ProcessTree(null, marker);
    }
  }

  /** Remembers the current descendants, so they can be found after their parents die. */
  void capture() {
    if (root == null) {
      return;
    }
    root.descendants().forEach(seen::add);
  }

  /** Every process of the tree that still runs, never this JVM. */
  List<ProcessHandle> running() {
    if (root == null) {
      return List.of();
    }
    Set<ProcessHandle> all = new LinkedHashSet<>();
    all.add(root);
    root.descendants().forEach(all::add);
    seen.addAll(all);
    all.addAll(seen);
    // A script started under setsid leads a session and a group whose id is its PID; no other
    // session or group has it.
    all.addAll(ProcFs.members(root.pid(), marker));
    long self = ProcessHandle.current().pid();
    List<ProcessHandle> out = new ArrayList<>();
    for (ProcessHandle h : all) {
      if (h.pid() != self && h.pid() > 1 && ProcFs.running(h)) {
        out.add(h);
      }
    }
    return out;
  }

  /**
   * SIGTERM to every process of the tree (also ones that appear meanwhile), then SIGKILL to those
   * still running after {@code grace}. Returns at once when nothing runs.
   *
   * @throws InterruptedException the tree has then been sent SIGKILL already
   */
  Ending end(Duration grace) throws InterruptedException {
    Set<ProcessHandle> termed = new HashSet<>();
    List<ProcessHandle> left = running();
    long deadline = System.nanoTime() + grace.toNanos();
    try {
      while (!left.isEmpty() && System.nanoTime() < deadline) {
        for (ProcessHandle h : left) {
          if (termed.add(h)) {
            h.destroy();
          }
        }
        TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        left = running();
      }
    } catch (InterruptedException e) {
      kill();
      throw e;
    }
    Set<ProcessHandle> killed = left.isEmpty() ? Set.of() : kill();
    Set<ProcessHandle> all = new HashSet<>(termed);
    all.addAll(killed);
    return new Ending(all.size(), killed.size());
  }

  /**
   * SIGKILL until nothing runs (bounded: a fork loop faster than this is not worth waiting for).
   */
  private Set<ProcessHandle> kill() {
    Set<ProcessHandle> killed = new HashSet<>();
    long deadline = System.nanoTime() + KILL_PATIENCE.toNanos();
    List<ProcessHandle> left = running();
    while (!left.isEmpty() && System.nanoTime() < deadline) {
      for (ProcessHandle h : left) {
        killed.add(h);
        h.destroyForcibly();
      }
      try {
        TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      left = running();
    }
    return killed;
  }
}
