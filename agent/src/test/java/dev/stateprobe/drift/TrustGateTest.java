package dev.stateprobe.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TrustGateTest {

  static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");
  static final Duration POLL = Duration.ofSeconds(5);
  static final Duration QUIET = Duration.ofSeconds(10);

  static ControlPlaneView api(boolean synced, boolean relisting, Instant lastRelistAt) {
    return new ControlPlaneView(Map.of(), NOW, synced, relisting, lastRelistAt, "42", 0, 0);
  }

  static ControlPlaneView healthyApi() {
    return api(true, false, null);
  }

  static Optional<KubeletView> kubeletAt(Instant observedAt) {
    return Optional.of(new KubeletView(Map.of(), observedAt));
  }

  static Snapshot snapshot(ControlPlaneView api, Optional<KubeletView> kubelet, boolean pollOk) {
    return new Snapshot(1, NOW, api, kubelet, pollOk, Optional.empty(), true);
  }

  static Trust evaluate(Snapshot s) {
    return TrustGate.evaluate(s, POLL, QUIET);
  }

  @Test
  void freshSyncedViewsAreTrusted() {
    Trust t = evaluate(snapshot(healthyApi(), kubeletAt(NOW.minusSeconds(1)), true));
    assertEquals(new Trust(true, List.of()), t);
  }

  @Test
  void unsyncedInformerIsNotTrusted() {
    Trust t = evaluate(snapshot(api(false, false, null), kubeletAt(NOW), true));
    assertEquals(new Trust(false, List.of("informer_not_synced")), t);
  }

  @Test
  void relistingInformerIsNotTrusted() {
    Trust t = evaluate(snapshot(api(true, true, null), kubeletAt(NOW), true));
    assertEquals(new Trust(false, List.of("informer_relisting")), t);
  }

  @Test
  void justAfterARelistIsTheQuietPeriod() {
    Trust t = evaluate(snapshot(api(true, false, NOW.minusSeconds(3)), kubeletAt(NOW), true));
    assertEquals(new Trust(false, List.of("quiet_period")), t);
  }

  @Test
  void quietPeriodIsStillOnOneNanosecondBeforeItsEnd() {
    Instant relist = NOW.minus(QUIET).plusNanos(1);
    Trust t = evaluate(snapshot(api(true, false, relist), kubeletAt(NOW), true));
    assertEquals(List.of("quiet_period"), t.reasons());
  }

  @Test
  void quietPeriodIsOverAtExactlyItsEnd() {
    Instant relist = NOW.minus(QUIET);
    Trust t = evaluate(snapshot(api(true, false, relist), kubeletAt(NOW), true));
    assertEquals(new Trust(true, List.of()), t);
  }

  @Test
  void aZeroQuietPeriodNeverHoldsBack() {
    Trust t =
        TrustGate.evaluate(
            snapshot(api(true, false, NOW), kubeletAt(NOW), true), POLL, Duration.ZERO);
    assertTrue(t.trusted());
  }

  @Test
  void noKubeletViewYetIsNotTrusted() {
    Trust t = evaluate(snapshot(healthyApi(), Optional.empty(), true));
    assertEquals(new Trust(false, List.of("no_kubelet_view")), t);
  }

  @Test
  void kubeletDownIsNotEveryPodMissing() {
    // The last good view is kept, but the poll that just failed makes the cycle untrusted.
    Trust t = evaluate(snapshot(healthyApi(), kubeletAt(NOW.minusSeconds(1)), false));
    assertEquals(new Trust(false, List.of("kubelet_poll_failed")), t);
  }

  @Test
  void kubeletViewOlderThanTwoPollIntervalsIsStale() {
    Instant observed = NOW.minus(POLL.multipliedBy(2)).minusNanos(1);
    Trust t = evaluate(snapshot(healthyApi(), kubeletAt(observed), true));
    assertEquals(new Trust(false, List.of("kubelet_view_stale")), t);
  }

  @Test
  void kubeletViewExactlyTwoPollIntervalsOldIsStillFresh() {
    Instant observed = NOW.minus(POLL.multipliedBy(2));
    Trust t = evaluate(snapshot(healthyApi(), kubeletAt(observed), true));
    assertEquals(new Trust(true, List.of()), t);
  }

  @Test
  void kubeletViewFromTheFutureIsNotStale() {
    Trust t = evaluate(snapshot(healthyApi(), kubeletAt(NOW.plusSeconds(1)), true));
    assertTrue(t.trusted());
  }

  @Test
  void everyReasonIsReportedInFixedOrder() {
    Trust t =
        evaluate(
            snapshot(
                api(false, true, NOW.minusSeconds(1)),
                kubeletAt(NOW.minus(Duration.ofMinutes(1))),
                false));
    assertEquals(
        List.of(
            "informer_not_synced",
            "informer_relisting",
            "quiet_period",
            "kubelet_poll_failed",
            "kubelet_view_stale"),
        t.reasons());
    Trust none = evaluate(snapshot(api(false, true, NOW.minusSeconds(1)), Optional.empty(), false));
    assertEquals(
        List.of(
            "informer_not_synced",
            "informer_relisting",
            "quiet_period",
            "no_kubelet_view",
            "kubelet_poll_failed"),
        none.reasons());
  }

  @Test
  void aFailedRuntimePollWithNoFreshRuntimeViewIsUntrusted() {
    Snapshot s =
        new Snapshot(
            1, NOW, healthyApi(), kubeletAt(NOW.minusSeconds(1)), true, Optional.empty(), false);
    Trust t = evaluate(s);
    assertFalse(t.trusted());
    assertEquals(List.of("runtime_poll_failed"), t.reasons());
  }

  @Test
  void reasonsAreBoundedSnakeCaseTags() {
    assertEquals(7, TrustGate.REASONS.size());
    for (String r : TrustGate.REASONS) {
      assertTrue(r.matches("[a-z]+(_[a-z]+)*"), r);
    }
  }

  @Test
  void trustIsConsistentWithItsReasons() {
    assertThrows(IllegalArgumentException.class, () -> new Trust(true, List.of("quiet_period")));
    assertThrows(IllegalArgumentException.class, () -> new Trust(false, List.of()));
    assertThrows(IllegalArgumentException.class, () -> new Trust(false, List.of("made_up")));
    assertFalse(Trust.of(List.of("quiet_period")).trusted());
  }

  @Test
  void nonPositivePollIntervalIsRefusedByName() {
    Snapshot s = snapshot(healthyApi(), kubeletAt(NOW), true);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> TrustGate.evaluate(s, Duration.ZERO, QUIET));
    assertEquals("pollInterval must be positive, got PT0S", e.getMessage());
    IllegalArgumentException q =
        assertThrows(
            IllegalArgumentException.class,
            () -> TrustGate.evaluate(s, POLL, Duration.ofSeconds(-1)));
    assertEquals("quietPeriod must not be negative, got PT-1S", q.getMessage());
  }
}
