package dev.stateprobe.repair.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Process facts Java does not expose, read from Linux {@code /proc}: process groups, sessions, a
 * process's environment, and whether a process is a zombie. A zombie counts as gone: it runs
 * nothing, and {@link ProcessHandle#isAlive()} reports it alive until its parent reaps it (which
 * may be never when the agent runs as PID 1 or under a parent that does not reap).
 */
final class ProcFs {
  private static final Path PROC = Path.of("/proc");

  /** Fields of {@code /proc/PID/stat} that matter here. */
  record Stat(long pid, char state, long ppid, long pgrp, long session) {
    boolean running() {
      return state != 'Z' && state != 'X' && state != 'x';
    }
  }

  private ProcFs() {}

  static Optional<Stat> stat(long pid) {
    try {
      String s =
          Files.readString(
              PROC.resolve(Long.toString(pid)).resolve("stat"), StandardCharsets.UTF_8);
      // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses, so cut at the last ')'.
      int close = s.lastIndexOf(')');
      String[] rest = s.substring(close + 2).split(" ");
      return Optional.of(
          new Stat(
              pid,
              rest[0].charAt(0),
              Long.parseLong(rest[1]),
              Long.parseLong(rest[2]),
              Long.parseLong(rest[3])));
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // gone, or not Linux
    }
  }

  /** Whether the process still runs: present and not a zombie. */
  static boolean running(ProcessHandle handle) {
    return handle.isAlive() && stat(handle.pid()).map(Stat::running).orElse(false);
  }

  /**
   * The running (non-zombie) processes that are in process group {@code id}, in session {@code id},
   * or (when {@code marker} is not empty) carry {@code marker} as one entry of their environment.
   * The environment is inherited through fork, setsid and exec alike, so it still finds a process
   * that left the session and was reparented away from the tree; only a process that replaced its
   * environment on purpose escapes it. Environments of other users' processes cannot be read and
   * are skipped.
   */
  static List<ProcessHandle> members(long id, String marker) {
    byte[] needle = marker.getBytes(StandardCharsets.UTF_8);
    List<ProcessHandle> members = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, ProcFs::isPidDir)) {
      for (Path dir : dirs) {
        long pid = Long.parseLong(dir.getFileName().toString());
        stat(pid)
            .filter(Stat::running)
            .filter(
                st ->
                    st.pgrp() == id
                        || st.session() == id
                        || (needle.length > 0 && hasEnvEntry(dir, needle)))
            .flatMap(st -> ProcessHandle.of(pid))
            .ifPresent(members::add);
      }
    } catch (IOException e) {
      // No /proc: only the descendants walk is left.
    }
    return members;
  }

  /** Whether the NUL-separated {@code environ} of the process in {@code dir} has {@code entry}. */
  private static boolean hasEnvEntry(Path dir, byte[] entry) {
    byte[] env;
    try {
      env = Files.readAllBytes(dir.resolve("environ"));
    } catch (IOException | RuntimeException e) {
      return false; // gone, or another user's
    }
    int start = 0;
    for (int i = 0; i <= env.length; i++) {
      if (i == env.length || env[i] == 0) {
        if (i - start == entry.length && Arrays.equals(env, start, i, entry, 0, entry.length)) {
          return true;
        }
        start = i + 1;
      }
    }
    return false;
  }

  private static boolean isPidDir(Path p) {
    String name = p.getFileName().toString();
    return !name.isEmpty() && name.chars().allMatch(Character::isDigit);
  }
}
