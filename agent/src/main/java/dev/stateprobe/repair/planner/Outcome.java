package dev.stateprobe.repair.planner;

/** How the last attempt of a script for a drift ended, as far as the planner cares. */
public enum Outcome {
  /** Exit 0 (verification pending or Resolved): the target cools down before any new repair. */
  SUCCEEDED,
  /** Exit 1, another code, a timeout or an interrupted run: retry after back-off. */
  FAILED,
  /** Exit 0 but the drift held after two trusted cycles: counts as a failed attempt. */
  UNRESOLVED,
  /** Exit 3, "failed, do not retry": the planner escalates to the next option at once. */
  GAVE_UP,
  /** Exit 2, "not applicable": the planner escalates to the next option at once. */
  NOT_APPLICABLE,
  /** The drift was gone before the script ran; nothing ran, so no back-off. */
  SKIPPED;

  /** A failure that makes the next attempt of the same script wait for its back-off. */
  public boolean backsOff() {
    return this == FAILED || this == UNRESOLVED;
  }

  /** The script said it must not run again for this drift. */
  public boolean exhaustsOption() {
    return this == GAVE_UP || this == NOT_APPLICABLE;
  }
}
