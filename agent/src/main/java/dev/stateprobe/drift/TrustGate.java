package dev.stateprobe.drift;

import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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

  /** A re-list completed less than the quiet period ago. */
  public static final String QUIET_PERIOD = "quiet_period";

  /** No kubelet poll has ever succeeded. */
  public static final String NO_KUBELET_VIEW = "no_kubelet_view";

  /** The most recent kubelet poll failed (error, timeout, or not a well-formed PodList). */
  public static final String KUBELET_POLL_FAILED = "kubelet_poll_failed";

  /** The kubelet view is older than twice the poll interval. */
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
   * Every reason not to trust {@code s}, judged at {@code s.now()}. Boundaries: the quiet period
   * has passed at exactly {@code lastRelistAt + quietPeriod}; a kubelet view exactly {@code 2 ×
   * pollInterval} old is still fresh.
   *
   * @param pollInterval the kubelet poll interval
   * @param quietPeriod how long after a re-list the control-plane view is still not believed
   */
  public static Trust evaluate(Snapshot s, Duration pollInterval, Duration quietPeriod) {
    Objects.requireNonNull(s, "snapshot");
    requirePositive(pollInterval, "pollInterval");
    Objects.requireNonNull(quietPeriod, "quietPeriod");
    if (quietPeriod.isNegative()) {
      throw new IllegalArgumentException("quietPeriod must not be negative, got " + quietPeriod);
    }
    Instant now = s.now();
    ControlPlaneView cp = s.controlPlane();
    List<String> reasons = new ArrayList<>(REASONS.size());
    if (!cp.synced()) {
      reasons.add(INFORMER_NOT_SYNCED);
    }
    if (cp.relisting()) {
      reasons.add(INFORMER_RELISTING);
    }
    if (cp.lastRelistAt() != null && now.isBefore(cp.lastRelistAt().plus(quietPeriod))) {
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
      if (now.isAfter(k.observedAt().plus(pollInterval.multipliedBy(2)))) {
        reasons.add(KUBELET_VIEW_STALE);
      }
    }
    if (!s.runtimePollOk()) {
      reasons.add(RUNTIME_POLL_FAILED);
    }
    return Trust.of(reasons);
  }

  private static void requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }
}
