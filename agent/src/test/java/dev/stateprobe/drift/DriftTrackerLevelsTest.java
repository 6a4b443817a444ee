package dev.stateprobe.drift;

import static dev.stateprobe.drift.DriftTrackerTest.CYCLE;
import static dev.stateprobe.drift.DriftTrackerTest.ORPHAN;
import static dev.stateprobe.drift.DriftTrackerTest.T0;
import static dev.stateprobe.drift.DriftTrackerTest.windows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.policy.ConsistencyLevel;
import dev.stateprobe.policy.ConsistencyPolicy;
import dev.stateprobe.policy.PodPolicies;
import dev.stateprobe.policy.PolicySet;
import dev.stateprobe.view.PodRef;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The tracker under consistency levels: one OrphanedPod (window 60 s, one observation by default)
 * on a 5 s cycle, the pod's policy resolved afresh each cycle as the agent does.
 */
class DriftTrackerLevelsTest {

  private static final PodRef WEB = ORPHAN.target();

  private static ConsistencyPolicy policy(
      ConsistencyLevel level, Map<String, Duration> windows, Integer minObs) {
    return new ConsistencyPolicy(
        "web",
        "1",
        Set.of(WEB.namespace()),
        Optional.empty(),
        level,
        new ConsistencyPolicy.Overrides(
            windows,
            minObs == null ? OptionalInt.empty() : OptionalInt.of(minObs),
            Optional.empty(),
            Optional.empty(),
            OptionalInt.empty()),
        "cluster");
  }

  private static PodPolicies resolve(PolicySet set) {
    return PodPolicies.builder(set, CYCLE).pod(WEB.uid(), WEB.namespace(), Map.of()).build();
  }

  /** The cycle (from 0) at which the orphan is confirmed, with {@code set} every cycle. */
  private static int confirmedAt(PolicySet set) {
    return confirmedAt(DriftTracker.initial(windows(), 1), set);
  }

  private static int confirmedAt(DriftTracker start, PolicySet set) {
    DriftTracker t = start;
    for (int cycle = 0; cycle < 100; cycle++) {
      Instant now = T0.plus(CYCLE.multipliedBy(cycle));
      t = t.step(true, List.of(ORPHAN), now, resolve(set)).next();
      if (t.confirmed().size() == 1) {
        return cycle;
      }
    }
    throw new AssertionError("never confirmed");
  }

  private static PolicySet set(ConsistencyPolicy p) {
    return new PolicySet(List.of(p), List.of());
  }

  @Test
  void eachLevelConfirmsAfterItsOwnWindow() {
    assertEquals(12, confirmedAt(PolicySet.EMPTY), "Strict: 60 s");
    assertEquals(24, confirmedAt(set(policy(ConsistencyLevel.EVENTUAL, Map.of(), null))), "2x");
    assertEquals(6, confirmedAt(set(policy(ConsistencyLevel.CRITICAL, Map.of(), null))), "1/2");
    assertEquals(
        12, confirmedAt(set(policy(ConsistencyLevel.STRICT, Map.of(), null))), "Strict policy");
  }

  @Test
  void criticalNeedsTwoObservationsWhereStrictNeedsOne() {
    // Windows of 0: only the observations count.
    DriftTracker zero = DriftTracker.initial(DriftTrackerTest.allWindows(Duration.ZERO), 1);
    assertEquals(0, confirmedAt(zero, PolicySet.EMPTY));
    assertEquals(1, confirmedAt(zero, set(policy(ConsistencyLevel.CRITICAL, Map.of(), null))));
    assertEquals(2, confirmedAt(zero, set(policy(ConsistencyLevel.CRITICAL, Map.of(), 3))));
    assertEquals(2, confirmedAt(zero, set(policy(ConsistencyLevel.EVENTUAL, Map.of(), 3))));
  }

  @Test
  void aWindowOverrideReplacesTheLevelsWindow() {
    ConsistencyPolicy eventualShort =
        policy(ConsistencyLevel.EVENTUAL, Map.of("OrphanedPod", Duration.ofSeconds(10)), null);
    assertEquals(2, confirmedAt(set(eventualShort)));
  }

  @Test
  void anEditAppliesFromTheNextCycleAndADeleteReturnsThePodToStrict() {
    DriftTracker t = DriftTracker.initial(windows(), 1);
    PolicySet eventual = set(policy(ConsistencyLevel.EVENTUAL, Map.of(), null));
    PolicySet critical = set(policy(ConsistencyLevel.CRITICAL, Map.of(), null));
    // Ten cycles (45 s held) as Eventual: not confirmed (120 s).
    for (int c = 0; c < 10; c++) {
      t = t.step(true, List.of(ORPHAN), at(c), resolve(eventual)).next();
    }
    assertTrue(t.confirmed().isEmpty());
    // Edited to Critical: the next cycle holds 50 s, over its 30 s window.
    t = t.step(true, List.of(ORPHAN), at(10), resolve(critical)).next();
    assertEquals(1, t.confirmed().size());
    assertEquals(at(10), t.confirmed().getFirst().confirmedAt());

    DriftTracker fresh = DriftTracker.initial(windows(), 1);
    for (int c = 0; c < 12; c++) {
      fresh = fresh.step(true, List.of(ORPHAN), at(c), resolve(eventual)).next();
    }
    assertFalse(fresh.confirmed().size() == 1, "Eventual at 55 s");
    // The policy is deleted: the pod is Strict again, and 60 s are held at cycle 12.
    fresh = fresh.step(true, List.of(ORPHAN), at(12), resolve(PolicySet.EMPTY)).next();
    assertEquals(1, fresh.confirmed().size());
  }

  @Test
  void theTrackerReportsThePolicysWindow() {
    DriftTracker t = DriftTracker.initial(windows(), 1);
    assertEquals(
        Duration.ofSeconds(30),
        t.window(
            DriftKind.ORPHANED_POD,
            resolve(set(policy(ConsistencyLevel.CRITICAL, Map.of(), null))).of(WEB.uid())));
  }

  private static Instant at(int cycle) {
    return T0.plus(CYCLE.multipliedBy(cycle));
  }
}
