package dev.stateprobe.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimeView;
import dev.stateprobe.view.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TrustGateTest {

  static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");
  static final Duration POLL = Duration.ofSeconds(5);
  static final Duration QUIET = Duration.ofSeconds(10);
  static final Duration MAX_AGE = POLL.multipliedBy(2);
  static final TrustGate.Rules RULES = new TrustGate.Rules(QUIET, MAX_AGE, MAX_AGE);

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
    return TrustGate.evaluate(s, RULES, null);
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
            snapshot(api(true, false, NOW), kubeletAt(NOW), true),
            new TrustGate.Rules(Duration.ZERO, MAX_AGE, MAX_AGE),
            NOW);
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
    Instant observed = NOW.minus(MAX_AGE).minusNanos(1);
    Trust t = evaluate(snapshot(healthyApi(), kubeletAt(observed), true));
    assertEquals(new Trust(false, List.of("kubelet_view_stale")), t);
  }

  @Test
  void kubeletViewExactlyTwoPollIntervalsOldIsStillFresh() {
    Instant observed = NOW.minus(MAX_AGE);
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
  void badRulesAreRefusedByName() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new TrustGate.Rules(QUIET, Duration.ZERO, MAX_AGE));
    assertEquals("kubeletViewMaxAge must be positive, got PT0S", e.getMessage());
    IllegalArgumentException r =
        assertThrows(
            IllegalArgumentException.class,
            () -> new TrustGate.Rules(QUIET, MAX_AGE, Duration.ofSeconds(-1)));
    assertEquals("runtimeViewMaxAge must be positive, got PT-1S", r.getMessage());
    IllegalArgumentException q =
        assertThrows(
            IllegalArgumentException.class,
            () -> new TrustGate.Rules(Duration.ofSeconds(-1), MAX_AGE, MAX_AGE));
    assertEquals("quietPeriod must not be negative, got PT-1S", q.getMessage());
  }

  /** The quiet period after a re-list and after a watch (re)start, at their boundaries. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      nullValues = "-",
      value = {
        "nothing happened,                     -,           -,           true",
        "re-list just now,                     0,           -,           false",
        "re-list 1 ns before the end,          9999999999,  -,           false",
        "re-list exactly quiet period ago,     10000000000, -,           true",
        "re-list long ago,                     60000000000, -,           true",
        "watch restart just now,               -,           0,           false",
        "watch restart 1 ns before the end,    -,           9999999999,  false",
        "watch restart exactly quiet ago,      -,           10000000000, true",
        "re-list over but watch restart quiet, 10000000000, 9999999999,  false",
        "both over,                            10000000000, 10000000000, true",
        "watch restart in the future,          -,           -1000000000, false",
      })
  void quietPeriod(String name, Long relistNanosAgo, Long watchNanosAgo, boolean trusted) {
    Instant relist = relistNanosAgo == null ? null : NOW.minusNanos(relistNanosAgo);
    Instant watch = watchNanosAgo == null ? null : NOW.minusNanos(watchNanosAgo);
    Trust t =
        TrustGate.evaluate(snapshot(api(true, false, relist), kubeletAt(NOW), true), RULES, watch);
    assertEquals(trusted ? List.of() : List.of("quiet_period"), t.reasons(), name);
  }

  /**
   * Runtime freshness: a failed runtime poll keeps the last runtime view while it is at most the
   * runtime view's maximum age (10 s here) old.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      nullValues = "-",
      value = {
        "poll ok,                             true,  true,  0,           true,  true",
        "poll ok and none served,             true,  false, -,           false, true",
        "failed / view 1 s old,                false, true,  1000000000,  true,  true",
        "failed / view exactly max age old,    false, true,  10000000000, true,  true",
        "failed / view 1 ns past max age,      false, true,  10000000001, false, false",
        "failed / no view held,                false, true,  -,           false, false",
        "failed / stale view / not served,      false, false, 10000000001, false, true",
        "failed / no view / not served,         false, false, -,           false, true",
        "failed / fresh view / not served,      false, false, 1000000000,  true,  true",
      })
  void runtimeFreshness(
      String name,
      boolean pollOk,
      boolean served,
      Long viewNanosAgo,
      boolean viewKept,
      boolean trusted) {
    Optional<RuntimeView> view =
        viewNanosAgo == null
            ? Optional.empty()
            : Optional.of(new RuntimeView(Map.of(), NOW.minusNanos(viewNanosAgo)));
    TrustGate.Verdict v =
        TrustGate.judge(
            new TrustGate.Facts(
                7, NOW, healthyApi(), kubeletAt(NOW), true, view, pollOk, served, null),
            RULES);
    assertEquals(viewKept ? view : Optional.empty(), v.snapshot().runtime(), name);
    assertEquals(trusted, v.snapshot().runtimePollOk(), name);
    assertEquals(trusted ? List.of() : List.of("runtime_poll_failed"), v.trust().reasons(), name);
    assertEquals(7, v.snapshot().cycle());
    assertEquals(NOW, v.snapshot().now());
  }

  @Test
  void theVerdictCarriesTheFactsItJudgedAndEveryReason() {
    Instant relist = NOW.minusSeconds(1);
    TrustGate.Verdict v =
        TrustGate.judge(
            new TrustGate.Facts(
                3,
                NOW,
                api(true, false, relist),
                kubeletAt(NOW.minusSeconds(11)),
                false,
                Optional.empty(),
                false,
                true,
                NOW),
            RULES);
    assertEquals(api(true, false, relist), v.snapshot().controlPlane());
    assertEquals(kubeletAt(NOW.minusSeconds(11)), v.snapshot().kubelet());
    assertFalse(v.snapshot().lastKubeletPollOk());
    assertEquals(
        List.of("quiet_period", "kubelet_poll_failed", "kubelet_view_stale", "runtime_poll_failed"),
        v.trust().reasons());
  }
}
