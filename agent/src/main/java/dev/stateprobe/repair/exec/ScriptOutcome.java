package dev.stateprobe.repair.exec;

/** How a script run ended. {@link #tag()} is the bounded {@code outcome} metric tag. */
public enum ScriptOutcome {
  /** Exit 0: repaired. */
  SUCCEEDED("succeeded"),
  /** Exit 1: failed, may be retried. */
  RETRYABLE_FAILURE("retryable_failure"),
  /** Exit 2: the repair does not apply to this target; skip it. */
  NOT_APPLICABLE("not_applicable"),
  /** Exit 3: failed, do not retry. */
  PERMANENT_FAILURE("permanent_failure"),
  /** Any other exit code, or the process could not be started. */
  FAILED("failed"),
  /** Ran longer than its timeout and was killed with its whole process tree. */
  TIMED_OUT("timed_out"),
  /** The script exists but is not an executable regular file; nothing was started. */
  NOT_EXECUTABLE("not_executable"),
  /** The script does not exist; nothing was started. */
  MISSING("missing");

  private final String tag;

  ScriptOutcome(String tag) {
    this.tag = tag;
  }

  public String tag() {
    return tag;
  }

  /** The outcome a script chose by its exit code. */
  public static ScriptOutcome ofExitCode(int exitCode) {
    return switch (exitCode) {
      case 0 -> SUCCEEDED;
      case 1 -> RETRYABLE_FAILURE;
      case 2 -> NOT_APPLICABLE;
      case 3 -> PERMANENT_FAILURE;
      default -> FAILED;
    };
  }
}
