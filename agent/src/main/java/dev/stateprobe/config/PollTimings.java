package dev.stateprobe.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Every duration the agent derives from the poll interval, derived here and nowhere else, so that a
 * change of {@code POLL_INTERVAL} moves them together and each has a name to be read by.
 *
 * @param pollInterval {@code POLL_INTERVAL}
 */
public record PollTimings(Duration pollInterval) {

  /** The longest wait before a person's approval or lifted pause is noticed. */
  public static final Duration MAX_REPAIR_REFRESH = Duration.ofSeconds(30);

  /** {@code /healthz} never fails sooner than this without a finished cycle. */
  public static final Duration MIN_STALL = Duration.ofSeconds(60);

  public PollTimings {
    Objects.requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive, got " + pollInterval);
    }
  }

  /**
   * {@code QUIET_PERIOD} when it is not set: 2 × the poll interval, so a re-listed or re-opened
   * view gets two polls to deliver what it missed before it is believed again.
   */
  public Duration defaultQuietPeriod() {
    return pollInterval.multipliedBy(2);
  }

  /** A kubelet view older than this (2 × the poll interval) is stale: one poll may be late. */
  public Duration kubeletViewMaxAge() {
    return pollInterval.multipliedBy(2);
  }

  /**
   * A runtime view whose poll failed is still used while it is at most this old (2 × the poll
   * interval), as the kubelet view is.
   */
  public Duration runtimeViewMaxAge() {
    return pollInterval.multipliedBy(2);
  }

  /**
   * How long {@code /healthz} tolerates no finished cycle before it fails: max(60s, 10 × the poll
   * interval). A kubelet request may not take this long (ConfigLoader refuses such a timeout), or
   * one hung kubelet would get the agent restarted.
   */
  public Duration stallAfter() {
    Duration tenPolls = pollInterval.multipliedBy(10);
    return tenPolls.compareTo(MIN_STALL) > 0 ? tenPolls : MIN_STALL;
  }

  /**
   * How often a person's change is read back while the repair side waits for it (an approval, the
   * end of a pause): six poll intervals, at most {@link #MAX_REPAIR_REFRESH}, at least one poll
   * interval.
   */
  public Duration repairRefresh() {
    Duration six = pollInterval.multipliedBy(6);
    Duration capped = six.compareTo(MAX_REPAIR_REFRESH) > 0 ? MAX_REPAIR_REFRESH : six;
    return pollInterval.compareTo(capped) > 0 ? pollInterval : capped;
  }
}
