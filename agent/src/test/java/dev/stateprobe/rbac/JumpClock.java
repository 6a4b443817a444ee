package dev.stateprobe.rbac;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/**
 * The system clock plus an offset the test can move forward: time flows, so the agent's windows and
 * timers behave as in production, and hour-long intervals (record garbage collection, the approval
 * refresh) pass with one {@link #jump}.
 */
final class JumpClock extends Clock {
  private final Clock base = Clock.systemUTC();
  private volatile Duration offset = Duration.ZERO;

  void jump(Duration d) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("the clock only moves forward, not by " + d);
    }
    offset = offset.plus(d);
  }

  @Override
  public Instant instant() {
    return base.instant().plus(offset);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException();
  }
}
