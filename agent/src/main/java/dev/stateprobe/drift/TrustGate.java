package dev.stateprobe.drift;

import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimeView;
import dev.stateprobe.view.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides whether a cycle's views are fresh and complete enough to draw a verdict from. A view that
 * may be stale must not confirm or clear anything: a kubelet that is down is not "every pod is
 * missing", and an informer in the middle of a re-list is not "every pod is orphaned".
 */
public final class TrustGate {

  /** The informer has not completed its first list. */
  public static final String INFORMER_NOT_SYNCED = "informer_not_synced";

  /** The informer is re-listing (after a 410 Gone or a broken watch). */
  public static final String INFORMER_RELISTING = "informer_relisting";

  /** A re-list completed, or the watch (re)started, less than the quiet period ago. */
  public static final String QUIET_PERIOD = "quiet_period";

  /** No kubelet poll has ever succeeded. */
  public static final String NO_KUBELET_VIEW = "no_kubelet_view";

  /** The most recent kubelet poll failed (error, timeout, or not a well-formed PodList). */
  public static final String KUBELET_POLL_FAILED = "kubelet_poll_failed";

  /** The kubelet view is older than its maximum age (twice the poll interval). */
  public static final String KUBELET_VIEW_STALE = "kubelet_view_stale";

  /** The runtime view is served, but its last poll failed and no fresh one is left. */
  public static final String RUNTIME_POLL_FAILED = "runtime_poll_failed";

  /** Every reason, in the order {@link #evaluate} reports them: the whole metric tag set. */
  public static final List<String> REASONS =
      List.of(
          INFORMER_NOT_SYNCED,
          INFORMER_RELISTING,
          QUIET_PERIOD,
          NO_KUBELET_VIEW,
          KUBELET_POLL_FAILED,
          KUBELET_VIEW_STALE,
          RUNTIME_POLL_FAILED);

  private TrustGate() {}

  /**
   * The gate's limits. The caller derives them from its configuration; the gate reads none.
   *
   * @param quietPeriod how long after a re-list, or after the watch (re)started, the control-plane
   *     view is still not believed
   * @param kubeletViewMaxAge a kubelet view older than this is stale; exactly this old is fresh
   * @param runtimeViewMaxAge a runtime view whose poll failed stands in while at most this old
   */
  public record Rules(
      Duration quietPeriod, Duration kubeletViewMaxAge, Duration runtimeViewMaxAge) {
    public Rules {
      Objects.requireNonNull(quietPeriod, "quietPeriod");
      if (quietPeriod.isNegative()) {
        throw new IllegalArgumentException("quietPeriod must not be negative, got " + quietPeriod);
      }
      requirePositive(kubeletViewMaxAge, "kubeletViewMaxAge");
      requirePositive(runtimeViewMaxAge, "runtimeViewMaxAge");
    }

    /** When the quiet period that starts at {@code start} ends (it is over at exactly this). */
    public Instant quietUntil(Instant start) {
      return start.plus(quietPeriod);
    }
  }

  /**
   * What one cycle gathered, before the gate decides what of it may be believed.
   *
   * @param kubelet the last well-formed kubelet view, if any poll ever succeeded
   * @param kubeletPollOk whether this cycle's kubelet poll succeeded
   * @param runtime this cycle's runtime view when its poll succeeded (empty: the kubelet does not
   *     serve one), otherwise the last one held, if any
   * @param runtimePollOk whether this cycle's runtime poll succeeded
   * @param runtimeServed whether the kubelet serves the runtime view at all
   * @param lastWatchRestartAt when the watch was last seen (re)started, or {@code null}: a watch
   *     that has just (re)opened may not have delivered what it missed yet, and one answered 410
   *     Gone reads as open until the informer starts its re-list, so the quiet period of a re-list
   *     applies to it too
   */
  public record Facts(
      long cycle,
      Instant now,
      ControlPlaneView controlPlane,
      Optional<KubeletView> kubelet,
      boolean kubeletPollOk,
      Optional<RuntimeView> runtime,
      boolean runtimePollOk,
      boolean runtimeServed,
      Instant lastWatchRestartAt) {
    public Facts {
      Objects.requireNonNull(now, "now");
      Objects.requireNonNull(controlPlane, "controlPlane");
      Objects.requireNonNull(kubelet, "kubelet");
      Objects.requireNonNull(runtime, "runtime");
    }
  }

  /**
   * The gate's answer for one cycle.
   *
   * @param snapshot the views the cycle may look at: a runtime view too old to stand in for a
   *     failed poll is left out
   * @param trust whether they may be believed
   */
  public record Verdict(Snapshot snapshot, Trust trust) {
    public Verdict {
      Objects.requireNonNull(snapshot, "snapshot");
      Objects.requireNonNull(trust, "trust");
    }
  }

  /**
   * Judges one cycle's facts at {@code f.now()}. A failed runtime poll keeps the last runtime view
   * while it is at most {@code runtimeViewMaxAge} old; past that the cycle has none, and when the
   * kubelet serves one the cycle cannot vouch for runtime drifts (nor clear them).
   */
  public static Verdict judge(Facts f, Rules rules) {
    Objects.requireNonNull(f, "facts");
    Objects.requireNonNull(rules, "rules");
    Optional<RuntimeView> runtime = f.runtime();
    boolean runtimeOk = true;
    if (!f.runtimePollOk()
        && (runtime.isEmpty()
            || f.now().isAfter(runtime.get().observedAt().plus(rules.runtimeViewMaxAge())))) {
      runtime = Optional.empty();
      runtimeOk = !f.runtimeServed();
    }
    Snapshot s =
        new Snapshot(
            f.cycle(),
            f.now(),
            f.controlPlane(),
            f.kubelet(),
            f.kubeletPollOk(),
            runtime,
            runtimeOk);
    return new Verdict(s, evaluate(s, rules, f.lastWatchRestartAt()));
  }

  /**
   * Every reason not to trust {@code s}, judged at {@code s.now()}. Boundaries: the quiet period
   * has passed at exactly {@code lastRelistAt + quietPeriod} (and {@code lastWatchRestartAt +
   * quietPeriod}); a kubelet view exactly {@code kubeletViewMaxAge} old is still fresh.
   *
   * @param lastWatchRestartAt when the watch was last seen (re)started, or {@code null}
   */
  public static Trust evaluate(Snapshot s, Rules rules, Instant lastWatchRestartAt) {
    Objects.requireNonNull(s, "snapshot");
    Objects.requireNonNull(rules, "rules");
    Instant now = s.now();
    ControlPlaneView cp = s.controlPlane();
    List<String> reasons = new ArrayList<>(REASONS.size());
    if (!cp.synced()) {
      reasons.add(INFORMER_NOT_SYNCED);
    }
    if (cp.relisting()) {
      reasons.add(INFORMER_RELISTING);
    }
    if (quiet(now, cp.lastRelistAt(), rules) || quiet(now, lastWatchRestartAt, rules)) {
      reasons.add(QUIET_PERIOD);
    }
    if (s.kubelet().isEmpty()) {
      reasons.add(NO_KUBELET_VIEW);
    }
    if (!s.lastKubeletPollOk()) {
      reasons.add(KUBELET_POLL_FAILED);
    }
    if (s.kubelet().isPresent()) {
      KubeletView k = s.kubelet().get();
      if (now.isAfter(k.observedAt().plus(rules.kubeletViewMaxAge()))) {
        reasons.add(KUBELET_VIEW_STALE);
      }
    }
    if (!s.runtimePollOk()) {
      reasons.add(RUNTIME_POLL_FAILED);
    }
    return Trust.of(reasons);
  }

  private static boolean quiet(Instant now, Instant start, Rules rules) {
    return start != null && now.isBefore(rules.quietUntil(start));
  }

  private static void requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }
}
