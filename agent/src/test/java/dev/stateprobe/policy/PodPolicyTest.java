package dev.stateprobe.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What each level and override does to a pod's settings. */
class PodPolicyTest {
  private static final Duration POLL = Duration.ofSeconds(5);
  private static final Duration SIXTY = Duration.ofSeconds(60);

  static PodPolicy of(ConsistencyLevel level, ConsistencyPolicy.Overrides overrides) {
    return PodPolicy.of(
        Optional.of(
            new ConsistencyPolicy(
                "p", "1", Set.of(), Optional.empty(), level, overrides, "pool-a")),
        POLL);
  }

  static ConsistencyPolicy.Overrides overrides(
      Map<String, Duration> windows, Integer minObs, RepairModeOverride mode, Set<String> scripts) {
    return new ConsistencyPolicy.Overrides(
        windows,
        minObs == null ? OptionalInt.empty() : OptionalInt.of(minObs),
        Optional.ofNullable(mode),
        Optional.ofNullable(scripts),
        OptionalInt.empty());
  }

  @Test
  void aPodNoPolicySelectsIsStrictAsToday() {
    PodPolicy d = PodPolicy.of(Optional.empty(), POLL);
    assertSame(PodPolicy.DEFAULT, d);
    assertEquals(ConsistencyLevel.STRICT, d.level());
    assertEquals(SIXTY, d.window("OrphanedPod", SIXTY));
    assertEquals(1, d.minObservations(1));
    assertFalse(d.approvalOnly());
    assertFalse(d.repairOff());
    assertTrue(d.allows("anything"));
    assertEquals("", d.policyName());
    assertEquals(ConsistencyPolicy.DEFAULT_POOL, d.pool());
  }

  @Test
  void eventualDoublesWindowsAndOnlyEverAsksForApproval() {
    PodPolicy e = of(ConsistencyLevel.EVENTUAL, ConsistencyPolicy.Overrides.NONE);
    assertEquals(Duration.ofSeconds(120), e.window("OrphanedPod", SIXTY));
    assertEquals(1, e.minObservations(1));
    assertTrue(e.approvalOnly());
    assertEquals(0, e.priority());
    assertEquals("p", e.policyName());
    assertEquals("pool-a", e.pool());
  }

  @Test
  void criticalHalvesWindowsNeverUnderTwoPollsAndNeedsTwoObservations() {
    PodPolicy c = of(ConsistencyLevel.CRITICAL, ConsistencyPolicy.Overrides.NONE);
    assertEquals(Duration.ofSeconds(30), c.window("OrphanedPod", SIXTY));
    assertEquals(Duration.ofSeconds(10), c.window("UidMismatch", Duration.ofSeconds(12)));
    // A base already under two polls is not lengthened by a level meant to shorten it.
    assertEquals(Duration.ofSeconds(4), c.window("UidMismatch", Duration.ofSeconds(4)));
    assertEquals(2, c.minObservations(1));
    assertEquals(3, c.minObservations(3));
    assertFalse(c.approvalOnly());
    assertTrue(c.priority() > PodPolicy.DEFAULT.priority());
    assertTrue(
        PodPolicy.DEFAULT.priority()
            > of(ConsistencyLevel.EVENTUAL, ConsistencyPolicy.Overrides.NONE).priority());
  }

  @Test
  void overridesApplyOnTopOfTheLevel() {
    PodPolicy c =
        of(
            ConsistencyLevel.CRITICAL,
            overrides(
                Map.of("OrphanedPod", Duration.ofSeconds(7)),
                4,
                RepairModeOverride.APPROVAL,
                Set.of("a")));
    assertEquals(Duration.ofSeconds(7), c.window("OrphanedPod", SIXTY));
    assertEquals(Duration.ofSeconds(30), c.window("UnknownToKubelet", SIXTY));
    assertEquals(4, c.minObservations(1));
    assertTrue(c.approvalOnly());
    assertTrue(c.allows("a"));
    assertFalse(c.allows("b"));
    PodPolicy off =
        of(ConsistencyLevel.STRICT, overrides(Map.of(), null, RepairModeOverride.OFF, null));
    assertTrue(off.repairOff());
  }

  @Test
  void podPoliciesResolveEachPodOnceAndDefaultTheRest() {
    ConsistencyPolicy web =
        new ConsistencyPolicy(
            "web",
            "1",
            Set.of(),
            Optional.of(new LabelSelector(Map.of("app", "web"), List.of())),
            ConsistencyLevel.CRITICAL,
            ConsistencyPolicy.Overrides.NONE,
            "cluster");
    PodPolicies pods =
        PodPolicies.builder(new PolicySet(List.of(web), List.of()), POLL)
            .pod("u1", "shop", Map.of("app", "web"))
            .pod("u2", "shop", Map.of("app", "api"))
            .build();
    assertEquals(ConsistencyLevel.CRITICAL, pods.of("u1").level());
    assertEquals("web", pods.of("u1").policyName());
    assertSame(PodPolicy.DEFAULT, pods.of("u2"));
    assertSame(PodPolicy.DEFAULT, pods.of("never-added"));
    assertSame(
        PodPolicies.NONE,
        PodPolicies.builder(PolicySet.EMPTY, POLL).pod("u1", "shop", Map.of()).build());
  }
}
