package dev.stateprobe.repair.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts processes with {@link ProcessBuilder} under {@code setsid PROG}, so the script leads a new
 * session and process group: one signal target for its whole tree, which it cannot leave by
 * accident.
 *
 * <p>Only the form both setsids know is used: BusyBox's (the image is Alpine) knows no option but
 * {@code -c}, and exits 1 on util-linux's {@code --wait}. Neither needs it here: setsid forks only
 * when its caller already leads a process group, and a child of the JVM never does (it inherits the
 * JVM's group), so both call setsid(2) and exec the script in place; the process Java holds is the
 * script, and its exit code is the script's. The command must therefore not start with '-', where
 * setsid would read it as an option; scripts are absolute paths.
 */
public final class DefaultProcessRunner implements ProcessRunner {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultProcessRunner.class);

  private final Optional<Path> setsid;

  /**
   * @param setsid the setsid binary; empty to start scripts in the agent's own process group
   */
  public DefaultProcessRunner(Optional<Path> setsid) {
    this.setsid = setsid;
  }

  /** Uses the setsid found on the scripts' fixed {@link ScriptEnv#DEFAULT_PATH}. */
  public static DefaultProcessRunner create() {
    return onPath(ScriptEnv.DEFAULT_PATH);
  }

  /**
   * Uses the first executable {@code setsid} on {@code path} (colon-separated, as PATH), the way a
   * shell would find it: on Alpine it is BusyBox's /usr/bin/setsid, on Debian util-linux's. Warns
   * once when there is none.
   */
  public static DefaultProcessRunner onPath(String path) {
    Optional<Path> found = which("setsid", path);
    if (found.isEmpty()) {
      LOG.warn(
          "setsid not found on {}: scripts run in the agent's process group, and processes a"
              + " script leaves behind are found only through its descendants and its run marker",
          path);
    }
    return new DefaultProcessRunner(found);
  }

  static Optional<Path> which(String program, String path) {
    for (String dir : path.split(":")) {
      if (dir.isEmpty()) {
        continue;
      }
      try {
        Path candidate = Path.of(dir, program);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      } catch (InvalidPathException e) {
        // not a directory name: skipped, as a shell would
      }
    }
    return Optional.empty();
  }

  /** The setsid in use, if any. */
  public Optional<Path> setsid() {
    return setsid;
  }

  @Override
  public Process start(List<String> command, Path workingDirectory, Map<String, String> environment)
      throws IOException {
    if (command.isEmpty() || command.get(0).startsWith("-")) {
      throw new IllegalArgumentException("not a program to run: " + command);
    }
    List<String> argv = new ArrayList<>();
    setsid.ifPresent(s -> argv.add(s.toString()));
    argv.addAll(command);
    ProcessBuilder pb =
        new ProcessBuilder(argv).directory(workingDirectory.toFile()).redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().putAll(environment);
    return pb.start();
  }

  @Override
  public String toString() {
    return "DefaultProcessRunner[setsid=" + setsid.map(Path::toString).orElse("none") + "]";
  }
}
