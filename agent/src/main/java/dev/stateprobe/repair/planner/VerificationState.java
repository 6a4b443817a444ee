package dev.stateprobe.repair.planner;

import java.util.Objects;
import java.util.Optional;

/**
 * A success waiting for its verdict, and the rule that draws it. After a script exits 0, each
 * trusted cycle is one step: the drift absent from {@link #RESOLVE_AFTER} trusted cycles in a row
 * is {@link Verdict#RESOLVED}; {@link #GIVE_UP_AFTER} trusted cycles without that is {@link
 * Verdict#UNRESOLVED}, which the planner treats as a failed attempt. Untrusted cycles are no
 * evidence and are not stepped. A state that drew its verdict is done: it is not stepped again.
 *
 * @param key the repair being verified
 * @param clean trusted cycles in a row without the drift
 * @param seen trusted cycles looked at since the success
 */
public record VerificationState(ScriptKey key, int clean, int seen) {

  /** Trusted cycles in a row without the drift that make a success Resolved. */
  public static final int RESOLVE_AFTER = 2;

  /** After this many trusted cycles without {@link #RESOLVE_AFTER} clean ones, Unresolved. */
  public static final int GIVE_UP_AFTER = 6;

  /** How a verification ended. */
  public enum Verdict {
    /** The drift stayed away. */
    RESOLVED,
    /** The drift held after the script's success: counts as a failed attempt. */
    UNRESOLVED
  }

  public VerificationState {
    Objects.requireNonNull(key, "key");
    if (clean < 0 || seen < 0 || clean > seen) {
      throw new IllegalArgumentException(
          "verification counts out of range: clean=" + clean + " seen=" + seen);
    }
  }

  /** Right after the success, or when a restarted agent resumes a Pending verification. */
  public static VerificationState begin(ScriptKey key) {
    return new VerificationState(key, 0, 0);
  }

  /**
   * One trusted cycle.
   *
   * @param driftPresent whether the cycle shows the repaired drift (suspected or confirmed)
   */
  public Step step(boolean driftPresent) {
    VerificationState next = new VerificationState(key, driftPresent ? 0 : clean + 1, seen + 1);
    Verdict verdict =
        next.clean >= RESOLVE_AFTER
            ? Verdict.RESOLVED
            : next.seen >= GIVE_UP_AFTER ? Verdict.UNRESOLVED : null;
    return new Step(next, Optional.ofNullable(verdict));
  }

  /** The state after a cycle, and the verdict when that cycle drew one. */
  public record Step(VerificationState state, Optional<Verdict> verdict) {}
}
