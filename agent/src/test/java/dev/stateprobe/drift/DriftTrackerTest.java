package dev.stateprobe.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.Drift.OrphanedPod;
import dev.stateprobe.drift.Drift.Source;
import dev.stateprobe.drift.Drift.StaleKubeletView;
import dev.stateprobe.drift.Drift.StuckTerminating;
import dev.stateprobe.drift.Drift.UnknownToKubelet;
import dev.stateprobe.drift.Transition.Type;
import dev.stateprobe.view.PodRef;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DriftTrackerTest {

  static final Instant T0 = Instant.parse("2026-01-01T01:00:00Z");
  static final Duration CYCLE = Duration.ofSeconds(5);

  static final PodRef WEB = new PodRef("default", "web", "uid-web");
  static final PodRef DB = new PodRef("data", "db-0", "uid-db");
  static final Drift ORPHAN = new OrphanedPod(WEB, Source.KUBELET);
  static final Drift UNKNOWN = new UnknownToKubelet(DB);
  static final Drift STALE_STATUS = new StaleKubeletView(WEB, List.of("status"));
  static final Drift STALE_SPEC_STATUS = new StaleKubeletView(WEB, List.of("spec", "status"));

  /** Every kind 30 s, except OrphanedPod 60 s. */
  static Map<DriftKind, Duration> windows() {
    Map<DriftKind, Duration> w = new EnumMap<>(DriftKind.class);
    for (DriftKind k : DriftKind.values()) {
      w.put(k, Duration.ofSeconds(30));
    }
    w.put(DriftKind.ORPHANED_POD, Duration.ofSeconds(60));
    return w;
  }

  static Map<DriftKind, Duration> allWindows(Duration d) {
    Map<DriftKind, Duration> w = new EnumMap<>(DriftKind.class);
    for (DriftKind k : DriftKind.values()) {
      w.put(k, d);
    }
    return w;
  }

  static Instant at(int cycle) {
    return T0.plus(CYCLE.multipliedBy(cycle));
  }

  /** Runs trusted steps; returns the transitions of the last one. */
  static final class Run {
    DriftTracker tracker;
    List<Transition> last = List.of();

    Run(DriftTracker tracker) {
      this.tracker = tracker;
    }

    List<Transition> step(boolean trusted, Instant now, Drift... drifts) {
      DriftTracker.Step s = tracker.step(trusted, List.of(drifts), now);
      tracker = s.next();
      last = s.transitions();
      return last;
    }

    List<Transition> trusted(Instant now, Drift... drifts) {
      return step(true, now, drifts);
    }

    TrackedDrift only() {
      List<TrackedDrift> c = tracker.current();
      assertEquals(1, c.size(), "tracked: " + c);
      return c.get(0);
    }
  }

  static List<Type> types(List<Transition> ts) {
    return ts.stream().map(Transition::type).toList();
  }

  @Test
  void newDriftIsSuspectedWithOneObservation() {
    Run r = new Run(DriftTracker.initial(windows(), 3));
    List<Transition> ts = r.trusted(at(0), ORPHAN);
    TrackedDrift expected = new TrackedDrift(ORPHAN, at(0), null, 1);
    assertEquals(List.of(new Transition(Type.SUSPECTED, expected, null)), ts);
    assertEquals(List.of(expected), r.tracker.current());
    assertEquals(List.of(), r.tracker.confirmed());
    assertEquals(TrackedDrift.State.SUSPECTED, r.only().state());
  }

  @Test
  void driftIsConfirmedWhenItsWindowHasPassed() {
    Run r = new Run(DriftTracker.initial(windows(), 3));
    // OrphanedPod has a 60 s window: cycles 0..11 are 55 s, cycle 12 is exactly 60 s.
    for (int i = 0; i < 12; i++) {
      r.trusted(at(i), ORPHAN);
      if (i > 0) {
        assertEquals(List.of(), r.last, "cycle " + i);
      }
    }
    assertEquals(12, r.only().observations());
    assertEquals(List.of(), r.tracker.confirmed());

    List<Transition> ts = r.trusted(at(12), ORPHAN);
    TrackedDrift confirmed = new TrackedDrift(ORPHAN, at(0), at(12), 13);
    assertEquals(List.of(new Transition(Type.CONFIRMED, confirmed, Duration.ofSeconds(60))), ts);
    assertEquals(List.of(confirmed), r.tracker.confirmed());

    // Confirmation happens once; later cycles only count.
    assertEquals(List.of(), r.trusted(at(13), ORPHAN));
    assertEquals(new TrackedDrift(ORPHAN, at(0), at(12), 14), r.only());
  }

  @Test
  void windowsAreChosenByKind() {
    Run r = new Run(DriftTracker.initial(windows(), 1));
    r.trusted(at(0), ORPHAN, UNKNOWN);
    List<Transition> ts = r.trusted(at(6), ORPHAN, UNKNOWN);
    // 30 s have passed: UnknownToKubelet (30 s) is confirmed, OrphanedPod (60 s) not yet.
    assertEquals(List.of(Type.CONFIRMED), types(ts));
    assertEquals(UNKNOWN.key(), ts.get(0).key());
    assertEquals(Duration.ofSeconds(30), ts.get(0).latency());
  }

  @Test
  void windowAloneDoesNotConfirmWithoutEnoughObservations() {
    Run r = new Run(DriftTracker.initial(windows(), 3));
    r.trusted(at(0), UNKNOWN);
    assertEquals(List.of(), r.trusted(at(100), UNKNOWN), "2 observations, 500 s");
    List<Transition> ts = r.trusted(at(101), UNKNOWN);
    assertEquals(List.of(Type.CONFIRMED), types(ts));
    assertEquals(Duration.ofSeconds(505), ts.get(0).latency());
    assertEquals(3, ts.get(0).drift().observations());
  }

  @Test
  void observationsAloneDoNotConfirmBeforeTheWindow() {
    Run r = new Run(DriftTracker.initial(windows(), 3));
    Instant t = T0;
    for (int i = 0; i < 10; i++) {
      r.trusted(t.plusMillis(i), UNKNOWN);
    }
    assertEquals(10, r.only().observations());
    assertEquals(List.of(), r.tracker.confirmed());
    assertEquals(
        List.of(),
        r.trusted(T0.plus(Duration.ofSeconds(30)).minusNanos(1), UNKNOWN),
        "one nanosecond short of the window");
    assertEquals(List.of(Type.CONFIRMED), types(r.trusted(T0.plusSeconds(30), UNKNOWN)));
  }

  @Test
  void zeroWindowAndOneObservationConfirmAtOnce() {
    Run r = new Run(DriftTracker.initial(allWindows(Duration.ZERO), 1));
    List<Transition> ts = r.trusted(at(0), ORPHAN);
    TrackedDrift suspected = new TrackedDrift(ORPHAN, at(0), null, 1);
    TrackedDrift confirmed = new TrackedDrift(ORPHAN, at(0), at(0), 1);
    assertEquals(
        List.of(
            new Transition(Type.SUSPECTED, suspected, null),
            new Transition(Type.CONFIRMED, confirmed, Duration.ZERO)),
        ts);
    assertEquals(List.of(confirmed), r.tracker.confirmed());
  }

  @Test
  void untrustedCycleChangesNothing() {
    DriftTracker start = DriftTracker.initial(windows(), 1);
    DriftTracker.Step s0 = start.step(true, List.of(ORPHAN), at(0));
    DriftTracker.Step untrusted = s0.next().step(false, List.of(UNKNOWN), at(1));
    assertSame(s0.next(), untrusted.next());
    assertEquals(List.of(), untrusted.transitions());
    assertEquals(List.of(new TrackedDrift(ORPHAN, at(0), null, 1)), untrusted.next().current());
  }

  @Test
  void untrustedCyclesNeitherConfirmNorClearNorCount() {
    Run r = new Run(DriftTracker.initial(windows(), 3));
    r.trusted(at(0), UNKNOWN);
    r.trusted(at(1), UNKNOWN);
    // Long after the window, but untrusted: no confirmation, and the empty list clears nothing.
    assertEquals(List.of(), r.step(false, at(20), UNKNOWN));
    assertEquals(List.of(), r.step(false, at(21)));
    assertEquals(new TrackedDrift(UNKNOWN, at(0), null, 2), r.only());
    // The third trusted observation confirms.
    List<Transition> ts = r.trusted(at(22), UNKNOWN);
    assertEquals(List.of(Type.CONFIRMED), types(ts));
    assertEquals(new TrackedDrift(UNKNOWN, at(0), at(22), 3), ts.get(0).drift());
  }

  @Test
  void untrustedCycleDoesNotClearAConfirmedDrift() {
    Run r = new Run(DriftTracker.initial(allWindows(Duration.ZERO), 1));
    r.trusted(at(0), ORPHAN);
    assertEquals(List.of(), r.step(false, at(1)));
    assertEquals(1, r.tracker.confirmed().size());
  }

  @Test
  void suspectedDriftThatGoesAwayIsDismissed() {
    Run r = new Run(DriftTracker.initial(windows(), 3));
    r.trusted(at(0), ORPHAN);
    r.trusted(at(1), ORPHAN);
    List<Transition> ts = r.trusted(at(2));
    assertEquals(
        List.of(new Transition(Type.DISMISSED, new TrackedDrift(ORPHAN, at(0), null, 2), null)),
        ts);
    assertEquals(List.of(), r.tracker.current());
  }

  @Test
  void confirmedDriftThatGoesAwayIsCleared() {
    Run r = new Run(DriftTracker.initial(allWindows(Duration.ZERO), 1));
    r.trusted(at(0), ORPHAN);
    r.trusted(at(1), ORPHAN);
    List<Transition> ts = r.trusted(at(2));
    assertEquals(
        List.of(new Transition(Type.CLEARED, new TrackedDrift(ORPHAN, at(0), at(0), 2), null)), ts);
    assertEquals(List.of(), r.tracker.current());
    assertEquals(List.of(), r.tracker.confirmed());
  }

  @Test
  void driftThatReappearsAfterClearingStartsFresh() {
    Run r = new Run(DriftTracker.initial(windows(), 2));
    r.trusted(at(0), UNKNOWN);
    r.trusted(at(6), UNKNOWN);
    assertEquals(1, r.tracker.confirmed().size());
    assertEquals(List.of(Type.CLEARED), types(r.trusted(at(7))));

    List<Transition> ts = r.trusted(at(8), UNKNOWN);
    assertEquals(
        List.of(new Transition(Type.SUSPECTED, new TrackedDrift(UNKNOWN, at(8), null, 1), null)),
        ts);
    // The new window counts from cycle 8, not from cycle 0.
    assertEquals(List.of(), r.trusted(at(13), UNKNOWN));
    assertEquals(List.of(Type.CONFIRMED), types(r.trusted(at(14), UNKNOWN)));
    assertEquals(Duration.ofSeconds(30), r.last.get(0).latency());
  }

  @Test
  void changedDetailKeepsTheDriftAndTakesTheLatestValue() {
    Run r = new Run(DriftTracker.initial(windows(), 2));
    r.trusted(at(0), STALE_STATUS);
    assertEquals(List.of(), r.trusted(at(1), STALE_SPEC_STATUS));
    assertEquals(new TrackedDrift(STALE_SPEC_STATUS, at(0), null, 2), r.only());
    List<Transition> ts = r.trusted(at(6), STALE_STATUS);
    assertEquals(
        List.of(
            new Transition(
                Type.CONFIRMED,
                new TrackedDrift(STALE_STATUS, at(0), at(6), 3),
                Duration.ofSeconds(30))),
        ts);
    r.trusted(at(7), STALE_SPEC_STATUS);
    assertEquals(new TrackedDrift(STALE_SPEC_STATUS, at(0), at(6), 4), r.only());
    assertEquals(
        "kubelet's copy differs from the API server in spec, status", r.only().drift().detail());
  }

  @Test
  void stuckTerminatingWindowCountsFromItsFirstReport() {
    // Deleted at 01:00:00 with 30 s grace: deletionTimestamp 01:00:30. The detector first
    // reports it after that instant, so confirmation waits grace + window.
    Instant deletionTimestamp = T0.plusSeconds(30);
    Drift stuck = new StuckTerminating(WEB, deletionTimestamp, Source.KUBELET);
    Run r = new Run(DriftTracker.initial(allWindows(Duration.ofSeconds(60)), 1));
    Instant first = deletionTimestamp.plusSeconds(1);
    r.trusted(first, stuck);
    assertEquals(List.of(), r.trusted(first.plusSeconds(59), stuck));
    List<Transition> ts = r.trusted(first.plusSeconds(60), stuck);
    assertEquals(List.of(Type.CONFIRMED), types(ts));
    assertEquals(T0.plusSeconds(91), ts.get(0).drift().confirmedAt());
  }

  @Test
  void transitionsAndCurrentAreSortedByKey() {
    Run r = new Run(DriftTracker.initial(windows(), 3));
    Drift unknownWeb = new UnknownToKubelet(WEB);
    Drift orphanDb = new OrphanedPod(DB, Source.RUNTIME);
    List<Transition> ts = r.trusted(at(0), unknownWeb, ORPHAN, UNKNOWN, orphanDb);
    List<DriftKey> expected =
        List.of(orphanDb.key(), ORPHAN.key(), UNKNOWN.key(), unknownWeb.key());
    assertEquals(expected, ts.stream().map(Transition::key).toList());
    assertEquals(expected, r.tracker.current().stream().map(TrackedDrift::key).toList());

    // Mixed: one dismissed, one kept, one new — still in key order.
    Drift stale = STALE_STATUS;
    List<Transition> mixed = r.trusted(at(1), stale, unknownWeb, orphanDb);
    assertEquals(
        List.of(
            new Transition(Type.DISMISSED, new TrackedDrift(ORPHAN, at(0), null, 1), null),
            new Transition(Type.SUSPECTED, new TrackedDrift(stale, at(1), null, 1), null),
            new Transition(Type.DISMISSED, new TrackedDrift(UNKNOWN, at(0), null, 1), null)),
        mixed);
  }

  @Test
  void stepLeavesTheOldTrackerAsItWas() {
    DriftTracker t0 = DriftTracker.initial(windows(), 1);
    DriftTracker t1 = t0.step(true, List.of(ORPHAN), at(0)).next();
    t1.step(true, List.of(), at(1));
    assertEquals(List.of(), t0.current());
    assertEquals(1, t1.current().size());
    assertEquals(Optional.of(new TrackedDrift(ORPHAN, at(0), null, 1)), t1.get(ORPHAN.key()));
    assertEquals(Optional.empty(), t1.get(UNKNOWN.key()));
    assertThrows(UnsupportedOperationException.class, () -> t1.current().clear());
  }

  @Test
  void twoDriftsWithOneKeyAreRefused() {
    DriftTracker t = DriftTracker.initial(windows(), 1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> t.step(true, List.of(STALE_STATUS, STALE_SPEC_STATUS), at(0)));
    assertEquals(
        "drifts holds two drifts with key StaleKubeletView default/web (uid-web)", e.getMessage());
  }

  @Test
  void badSettingsAreRefusedByName() {
    Map<DriftKind, Duration> missing = windows();
    missing.remove(DriftKind.UID_MISMATCH);
    assertEquals(
        "no confirmation window for UidMismatch",
        assertThrows(IllegalArgumentException.class, () -> DriftTracker.initial(missing, 1))
            .getMessage());
    Map<DriftKind, Duration> negative = windows();
    negative.put(DriftKind.ORPHANED_POD, Duration.ofSeconds(-1));
    assertEquals(
        "confirmation window for OrphanedPod must not be negative, got PT-1S",
        assertThrows(IllegalArgumentException.class, () -> DriftTracker.initial(negative, 1))
            .getMessage());
    assertEquals(
        "minObservations must be >= 1, got 0",
        assertThrows(IllegalArgumentException.class, () -> DriftTracker.initial(windows(), 0))
            .getMessage());
  }

  @Test
  void settingsAreCopied() {
    Map<DriftKind, Duration> w = windows();
    DriftTracker t = DriftTracker.initial(w, 3);
    w.put(DriftKind.ORPHANED_POD, Duration.ZERO);
    assertEquals(Duration.ofSeconds(60), t.window(DriftKind.ORPHANED_POD));
    assertEquals(3, t.minObservations());
    assertTrue(t.current().isEmpty());
  }
}
