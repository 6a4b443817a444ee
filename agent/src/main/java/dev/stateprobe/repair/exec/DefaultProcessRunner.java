package dev.stateprobe.repair.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts processes with {@link ProcessBuilder}, under {@code setsid --wait} (util-linux) so the
 * script leads a new session and process group: one signal target for its whole tree, which it
 * cannot escape by accident. {@code --wait} matters only if setsid has to fork (when the caller
 * leads a group): the child's exit code is then still the one reported.
 */
public final class DefaultProcessRunner implements ProcessRunner {
  private static final Logger LOG = LoggerFactory.getLogger(DefaultProcessRunner.class);
  private static final List<Path> SETSID =
      List.of(Path.of("/usr/bin/setsid"), Path.of("/bin/setsid"));

  private final Optional<Path> setsid;

  /**
   * @param setsid the setsid binary; empty to start scripts in the agent's own process group
   */
  public DefaultProcessRunner(Optional<Path> setsid) {
    this.setsid = setsid;
  }

  /** Uses setsid from /usr/bin or /bin; warns once when there is none. */
  public static DefaultProcessRunner create() {
    Optional<Path> found = SETSID.stream().filter(Files::isExecutable).findFirst();
    if (found.isEmpty()) {
      LOG.warn(
          "setsid not found in {}: scripts run in the agent's process group, and a timed-out"
              + " script's children are found only by walking its descendants",
          SETSID);
    }
    return new DefaultProcessRunner(found);
  }

  @Override
  public Process start(List<String> command, Path workingDirectory, Map<String, String> environment)
      throws IOException {
    List<String> argv = new ArrayList<>();
    setsid.ifPresent(s -> argv.addAll(List.of(s.toString(), "--wait", "--")));
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
