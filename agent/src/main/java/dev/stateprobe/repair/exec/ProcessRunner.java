package dev.stateprobe.repair.exec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Starts child processes; injected so tests can substitute it. */
@FunctionalInterface
public interface ProcessRunner {
  /**
   * Starts {@code command} directly, without a shell, in {@code workingDirectory}, with exactly
   * {@code environment} (nothing inherited from the agent), stdout and stderr merged into {@link
   * Process#getInputStream()}. The process should lead a new process group whose id is its PID, so
   * the caller can end the whole tree; a runner that cannot do that still works, and the caller
   * then relies on the descendants it sees.
   */
  Process start(List<String> command, Path workingDirectory, Map<String, String> environment)
      throws IOException;
}
