package dev.stateprobe.repair.planner;

import static dev.stateprobe.policy.ConsistencyLevel.CRITICAL;
import static dev.stateprobe.policy.ConsistencyLevel.EVENTUAL;
import static dev.stateprobe.policy.ConsistencyLevel.STRICT;
import static dev.stateprobe.repair.planner.Plans.NOW;
import static dev.stateprobe.repair.planner.Plans.auto;
import static dev.stateprobe.repair.planner.Plans.input;
import static dev.stateprobe.repair.planner.Plans.key;
import static dev.stateprobe.repair.planner.Plans.option;
import static dev.stateprobe.repair.planner.Plans.orphan;
import static dev.stateprobe.repair.planner.Plans.stale;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.policy.ConsistencyPolicy;
import dev.stateprobe.policy.RepairModeOverride;
import dev.stateprobe.repair.planner.RepairOption.Mode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RepairPlannerTest {

  private static final TrackedDrift A = orphan("a");
  private static final TrackedDrift B = orphan("b");
  private static final TrackedDrift C = orphan("c");

  private static final ConsistencyPolicy.Overrides NONE = ConsistencyPolicy.Overrides.NONE;

  private static ConsistencyPolicy.Overrides overrides(RepairModeOverride mode) {
    return new ConsistencyPolicy.Overrides(
        Map.of(), OptionalInt.empty(), Optional.of(mode), Optional.empty(), OptionalInt.empty());
  }

  private static ConsistencyPolicy.Overrides scripts(String... names) {
    return new ConsistencyPolicy.Overrides(
        Map.of(),
        OptionalInt.empty(),
        Optional.empty(),
        Optional.of(Set.of(names)),
        OptionalInt.empty());
  }

  private static ConsistencyPolicy.Overrides maxAttempts(int n) {
    return new ConsistencyPolicy.Overrides(
        Map.of(), OptionalInt.empty(), Optional.empty(), Optional.empty(), OptionalInt.of(n));
  }

  @Test
  void aDecisionCarriesItsPodsPolicyForTheRecordAndTheBudget() {
    List<Decision> ds =
        RepairPlanner.plan(
            input().drift(A, auto("x")).drift(B, auto("x")).policy(A, CRITICAL, NONE).build());
    assertEquals("policy-a", ds.get(0).policy().policyName());
    assertEquals(CRITICAL, ds.get(0).policy().level());
    assertEquals(2, ds.get(0).priority());
    assertEquals(STRICT, ds.get(1).policy().level());
    assertEquals(1, ds.get(1).priority());
  }

  private static Arguments row(String name, Supplier<Plans.Builder> in, String... expected) {
    return Arguments.of(Named.of(name, in), List.of(expected));
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // ---- modes ----
        row("an auto entry starts attempt 1", () -> input().drift(A, auto("x")), "a: START x#1"),
        row(
            "mode off decides nothing that creates anything",
            () ->
                input()
                    .mode(PlanMode.OFF)
                    .drift(A, auto("x"))
                    .drift(B, option("m", Mode.MANUAL, 1, 0)),
            "a: NONE mode_off",
            "b: NONE mode_off"),
        row(
            "dry-run mode starts with dryRun",
            () -> input().mode(PlanMode.DRY_RUN).drift(A, auto("x")),
            "a: START x#1 dry"),
        row(
            "a dry-run entry is always a dry run, even with mode on",
            () -> input().drift(A, option("x", Mode.DRY_RUN, 1, 0)),
            "a: START x#1 dry"),
        row(
            "a drift without a catalog entry has no script",
            () -> input().drift(A),
            "a: NONE no_script"),
        // ---- consistency policies ----
        row(
            "a policy's repair.mode off repairs nothing",
            () -> input().drift(A, auto("x")).policy(A, STRICT, overrides(RepairModeOverride.OFF)),
            "a: NONE policy_off"),
        row(
            "before the policies are read nothing starts, not even for a Strict-looking pod",
            () -> input().drift(A, auto("x")).policiesUnsynced(),
            "a: WAIT policies_unsynced"),
        row(
            "an Eventual pod's auto entry only creates a record awaiting approval",
            () -> input().drift(A, auto("x")).policy(A, EVENTUAL, NONE),
            "a: CREATE_PENDING_APPROVAL x#1 awaiting_approval"),
        row(
            "an Eventual pod's record waits while unapproved",
            () ->
                input()
                    .drift(A, auto("x"))
                    .policy(A, EVENTUAL, NONE)
                    .approval(key(A, "x"), Approval.PENDING),
            "a: WAIT x#1 awaiting_approval"),
        row(
            "an Eventual pod's record runs once a person approves it",
            () ->
                input()
                    .drift(A, auto("x"))
                    .policy(A, EVENTUAL, NONE)
                    .approval(key(A, "x"), Approval.APPROVED),
            "a: START x#1"),
        row(
            "an Eventual pod's dry-run entry waits for approval too",
            () -> input().drift(A, option("x", Mode.DRY_RUN, 1, 0)).policy(A, EVENTUAL, NONE),
            "a: CREATE_PENDING_APPROVAL x#1 awaiting_approval dry"),
        row(
            "repair.mode approval makes a Strict pod's auto entry wait for a person",
            () ->
                input()
                    .drift(A, auto("x"))
                    .policy(A, STRICT, overrides(RepairModeOverride.APPROVAL)),
            "a: CREATE_PENDING_APPROVAL x#1 awaiting_approval"),
        row(
            "repair.scripts skips the entries it does not name",
            () -> input().drift(A, auto("x"), auto("y")).policy(A, STRICT, scripts("y")),
            "a: START y#1"),
        row(
            "repair.scripts naming none of the matching entries leaves no script",
            () -> input().drift(A, auto("x")).policy(A, STRICT, scripts("z")),
            "a: NONE no_script"),
        row(
            "repair.maxAttemptsPerDrift replaces the entry's attempts",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 5, 0))
                    .policy(A, STRICT, maxAttempts(1))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(600), Outcome.FAILED)),
            "a: NONE max_attempts"),
        row(
            "a Critical pod is planned first and takes the only slot",
            () ->
                input()
                    .limits(1, 100)
                    .drift(A, auto("x"))
                    .drift(C, auto("x"))
                    .policy(C, CRITICAL, NONE),
            "c: START x#1",
            "a: WAIT x#1 concurrency"),
        row(
            "an Eventual pod is planned after a Strict one",
            () ->
                input()
                    .limits(1, 100)
                    .drift(A, auto("x"))
                    .drift(B, auto("x"))
                    .policy(A, EVENTUAL, NONE)
                    .approval(key(A, "x"), Approval.APPROVED),
            "b: START x#1",
            "a: WAIT x#1 concurrency"),
        // ---- pause and circuit ----
        row(
            "a paused node starts nothing",
            () -> input().paused().drift(A, auto("x")),
            "a: WAIT x#1 paused"),
        row(
            "a paused node creates no pending-approval record",
            () -> input().paused().drift(A, option("m", Mode.MANUAL, 1, 0)),
            "a: WAIT m#1 paused"),
        row(
            "an open circuit starts nothing",
            () -> input().circuitOpen().drift(A, auto("x")).drift(B, auto("y")),
            "a: WAIT x#1 circuit_open",
            "b: WAIT y#1 circuit_open"),
        row(
            "an open circuit creates no pending-approval record",
            () -> input().circuitOpen().drift(A, option("m", Mode.MANUAL, 1, 0)),
            "a: WAIT m#1 circuit_open"),
        // ---- manual entries ----
        row(
            "a manual entry without a record creates one pending approval",
            () -> input().drift(A, option("m", Mode.MANUAL, 2, 0)),
            "a: CREATE_PENDING_APPROVAL m#1 awaiting_approval"),
        row(
            "a manual entry whose record is not approved waits",
            () ->
                input()
                    .drift(A, option("m", Mode.MANUAL, 2, 0))
                    .approval(key(A, "m"), Approval.PENDING),
            "a: WAIT m#1 awaiting_approval"),
        row(
            "an approved manual entry starts",
            () ->
                input()
                    .drift(A, option("m", Mode.MANUAL, 2, 0))
                    .approval(key(A, "m"), Approval.APPROVED),
            "a: START m#1"),
        row(
            "an approved manual entry in dry-run mode starts as a dry run",
            () ->
                input()
                    .mode(PlanMode.DRY_RUN)
                    .drift(A, option("m", Mode.MANUAL, 2, 0))
                    .approval(key(A, "m"), Approval.APPROVED),
            "a: START m#1 dry"),
        row(
            "an approved manual entry still obeys the concurrency limit",
            () ->
                input()
                    .limits(1, 100)
                    .running(1)
                    .drift(A, option("m", Mode.MANUAL, 2, 0))
                    .approval(key(A, "m"), Approval.APPROVED),
            "a: WAIT m#1 concurrency"),
        row(
            "a pending-approval record is created even when the concurrency limit is reached",
            () -> input().limits(1, 100).running(1).drift(A, option("m", Mode.MANUAL, 2, 0)),
            "a: CREATE_PENDING_APPROVAL m#1 awaiting_approval"),
        row(
            "a manual entry after a failed auto entry asks for approval",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 1, 60), option("m", Mode.MANUAL, 1, 60))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.FAILED)),
            "a: CREATE_PENDING_APPROVAL m#1 awaiting_approval"),
        // ---- escalation ----
        row(
            "the first option with attempts left is chosen",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 2, 60), auto("y"))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(2, NOW.minusSeconds(1), Outcome.FAILED)),
            "a: START y#1"),
        row(
            "an unresolved option with attempts used up escalates at once",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 1, 600), auto("y"))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.UNRESOLVED)),
            "a: START y#1"),
        row(
            "an unresolved option with attempts left backs off before its next attempt",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 600), auto("y"))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.UNRESOLVED)),
            "a: WAIT x#2 backoff"),
        row(
            "exit 3 (do not retry) escalates though attempts are left",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 600), auto("y"))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.GAVE_UP)),
            "a: START y#1"),
        row(
            "exit 3 of the only matching option ends its repairs: no retry, however long ago",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 600))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(86_400), Outcome.GAVE_UP)),
            "a: NONE max_attempts"),
        row(
            "exit 2 (not applicable) escalates though attempts are left",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 600), auto("y"))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.NOT_APPLICABLE)),
            "a: START y#1"),
        row(
            "when every option is used up nothing happens",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 1, 0), option("y", Mode.AUTO, 2, 0))
                    .history(
                        key(A, "x"), ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.FAILED))
                    .history(
                        key(A, "y"),
                        ScriptHistory.finished(2, NOW.minusSeconds(1), Outcome.UNRESOLVED)),
            "a: NONE max_attempts"),
        row(
            "a skipped attempt (drift gone before repair) needs no back-off",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 600))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.SKIPPED)),
            "a: START x#2"),
        row(
            "history of another drift's script does not count",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 1, 0))
                    .history(
                        key(B, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(1), Outcome.FAILED)),
            "a: START x#1"),
        // ---- cooldown and target ----
        row(
            "a success cools the target down",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 600))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(599), Outcome.SUCCEEDED)),
            "a: WAIT x#2 cooldown"),
        row(
            "after the cooldown the same script may run again",
            () ->
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 600))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(600), Outcome.SUCCEEDED)),
            "a: START x#2"),
        row(
            "a success on one drift of a pod cools down the pod's other drifts",
            () ->
                input()
                    .drift(stale("a"), option("y", Mode.AUTO, 3, 600))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(10), Outcome.SUCCEEDED)),
            "a: WAIT y#1 cooldown"),
        row(
            "a script running for a pod holds back its other drifts",
            () ->
                input()
                    .drift(stale("a"), auto("y"))
                    .history(key(A, "x"), ScriptHistory.running(1, NOW.minusSeconds(10))),
            "a: WAIT y#1 target_busy"),
        row(
            "two drifts of one pod in one step: one starts, the other waits",
            () -> input().drift(stale("a"), auto("y")).drift(A, auto("x")),
            "a: START x#1",
            "a: WAIT y#1 target_busy"),
        // ---- node limits ----
        row(
            "at most maxConcurrent run: the rest wait in key order",
            () ->
                input()
                    .limits(2, 100)
                    .running(1)
                    .drift(C, auto("x"))
                    .drift(A, auto("x"))
                    .drift(B, auto("x")),
            "a: START x#1",
            "b: WAIT x#1 concurrency",
            "c: WAIT x#1 concurrency"),
        row(
            "maxConcurrent 0 starts nothing",
            () -> input().limits(0, 100).drift(A, auto("x")),
            "a: WAIT x#1 concurrency"),
        row(
            "at most maxPerHour start in the rolling hour",
            () ->
                input()
                    .limits(10, 3)
                    .started(NOW.minusSeconds(3599), NOW.minusSeconds(60))
                    .drift(A, auto("x"))
                    .drift(B, auto("x")),
            "a: START x#1",
            "b: WAIT x#1 hourly"),
        row(
            "a start exactly an hour ago is out of the rolling hour",
            () -> input().limits(10, 1).started(NOW.minusSeconds(3600)).drift(A, auto("x")),
            "a: START x#1"),
        row(
            "a start a second less than an hour ago is in the rolling hour",
            () -> input().limits(10, 1).started(NOW.minusSeconds(3599)).drift(A, auto("x")),
            "a: WAIT x#1 hourly"),
        row(
            "dry runs count against the limits too",
            () ->
                input()
                    .mode(PlanMode.DRY_RUN)
                    .limits(1, 100)
                    .drift(A, auto("x"))
                    .drift(B, auto("x")),
            "a: START x#1 dry",
            "b: WAIT x#1 concurrency dry"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void decides(Supplier<Plans.Builder> in, List<String> expected) {
    assertEquals(expected, in.get().plan());
  }

  static Stream<Arguments> backoff() {
    // cooldown 60 s: after attempt n failed, attempt n+1 waits 60 × 2^(n−1) s.
    return Stream.of(
        Arguments.of(1, 60), Arguments.of(2, 120), Arguments.of(3, 240), Arguments.of(4, 480));
  }

  @ParameterizedTest(name = "after {0} failed attempts the next waits {1} s")
  @MethodSource("backoff")
  void backOffDoublesWithEachFailedAttempt(int failed, int waitSeconds) {
    Instant failedAt = NOW.minusSeconds(waitSeconds);
    Supplier<Plans.Builder> at =
        () ->
            input()
                .drift(A, option("x", Mode.AUTO, 10, 60))
                .history(key(A, "x"), ScriptHistory.finished(failed, failedAt, Outcome.FAILED));
    assertEquals(List.of("a: START x#" + (failed + 1)), at.get().plan());
    assertEquals(
        List.of("a: WAIT x#" + (failed + 1) + " backoff"),
        at.get().now(NOW.minusSeconds(1)).plan());
  }

  @Test
  void backOffSaturatesInsteadOfOverflowing() {
    assertEquals(
        Duration.ofSeconds(60L << RepairPlanner.MAX_DOUBLINGS),
        RepairPlanner.backoff(Duration.ofSeconds(60), 1000));
    assertEquals(
        Duration.ofSeconds(Long.MAX_VALUE),
        RepairPlanner.backoff(Duration.ofSeconds(Long.MAX_VALUE / 2), 3));
    List<String> out =
        input()
            .drift(A, option("x", Mode.AUTO, 2000, 86_400 * 365))
            .history(key(A, "x"), ScriptHistory.finished(1000, NOW.minusSeconds(1), Outcome.FAILED))
            .plan();
    assertEquals(List.of("a: WAIT x#1001 backoff"), out);
  }

  @Test
  void decisionsComeInDriftKeyOrderWhateverTheInputOrder() {
    List<TrackedDrift> drifts = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      drifts.add(orphan("p" + (char) ('a' + i)));
      drifts.add(stale("p" + (char) ('a' + i)));
    }
    List<String> first = null;
    Random random = new Random(7);
    for (int round = 0; round < 5; round++) {
      Collections.shuffle(drifts, random);
      Plans.Builder b = input().limits(3, 5);
      drifts.forEach(d -> b.drift(d, auto("x")));
      List<String> out = b.plan();
      if (first == null) {
        first = out;
      }
      assertEquals(first, out);
    }
    // ContainerNotRunning < OrphanedPod < StaleKubeletView by wire name; then by pod.
    assertEquals("pa: START x#1", first.get(0));
    assertEquals("pb: START x#1", first.get(1));
    assertEquals("pc: START x#1", first.get(2));
    assertEquals("pd: WAIT x#1 concurrency", first.get(3));
    assertEquals("pa: WAIT x#1 target_busy", first.get(20));
  }

  @Test
  void everyThrottleReasonIsReachable() {
    Set<Throttle> seen = EnumSet.noneOf(Throttle.class);
    cases()
        .forEach(
            a -> {
              @SuppressWarnings("unchecked")
              Supplier<Plans.Builder> in =
                  (Supplier<Plans.Builder>) ((Named<?>) a.get()[0]).getPayload();
              RepairPlanner.plan(in.get().build()).forEach(d -> d.throttle().ifPresent(seen::add));
              // The fleet brake is applied to the plan (FleetBrakeGate), not inside it.
              FleetBrakeGate.apply(RepairPlanner.plan(in.get().build()), true, "brake on")
                  .forEach(d -> d.throttle().ifPresent(seen::add));
            });
    seen.add(Throttle.BACKOFF); // reached in backOffDoublesWithEachFailedAttempt as well
    // Not the planner's: the cluster budget holds a planned repair (RepairLifecycleIT).
    seen.add(Throttle.CLUSTER_BUDGET);
    assertEquals(EnumSet.allOf(Throttle.class), seen);
  }

  @Test
  void startCarriesTheDriftTheOptionAndAHumanReason() {
    RepairOption x = option("x", Mode.AUTO, 3, 60);
    Decision d =
        RepairPlanner.plan(
                input()
                    .drift(A, x)
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(1, NOW.minusSeconds(61), Outcome.FAILED))
                    .build())
            .get(0);
    assertEquals(Decision.Action.START, d.action());
    assertEquals(A, d.drift());
    assertEquals(x, d.option().orElseThrow());
    assertEquals(2, d.attempt());
    assertEquals("attempt 2 of 3 of x", d.reason());
  }

  @Test
  void heldBackDecisionsSayWhenTheyMayGo() {
    Decision d =
        RepairPlanner.plan(
                input()
                    .drift(A, option("x", Mode.AUTO, 3, 60))
                    .history(
                        key(A, "x"),
                        ScriptHistory.finished(2, NOW.minusSeconds(60), Outcome.FAILED))
                    .build())
            .get(0);
    assertEquals(
        "attempt 2 of x ended failed; attempt 3 of 3 of x waits until 2026-11-20T12:01:00Z",
        d.reason());
    Decision p =
        RepairPlanner.plan(input().drift(A, option("m", Mode.MANUAL, 1, 0)).build()).get(0);
    assertEquals("awaiting approval", p.reason());
  }

  @Test
  void aSuspectedDriftIsRefusedByName() {
    TrackedDrift suspected = new TrackedDrift(A.drift(), NOW, null, 1);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> input().drift(suspected, auto("x")).build());
    assertTrue(e.getMessage().contains("default/a (uid-a)"), e.getMessage());
    assertTrue(e.getMessage().contains("not confirmed"), e.getMessage());
  }

  @Test
  void aScriptListedTwiceForOneDriftIsRefused() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> input().drift(A, auto("x"), auto("x")).build());
    assertTrue(e.getMessage().contains("script x is given twice"), e.getMessage());
  }

  @Test
  void historyThatCountsFewerRunningThanItMarksIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new RepairHistory(Map.of(key(A, "x"), ScriptHistory.running(1, NOW)), List.of(), 0));
  }

  @Test
  void invalidOptionsAreRefusedNamingTheScript() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> option("fix-it", Mode.AUTO, 0, 1));
    assertEquals("repair option fix-it: maxAttempts must be >= 1, was 0", e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> new RepairOption("y", Mode.AUTO, 1, Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> new Limits(-1, 1));
  }

  @Test
  void planIsIdempotentForTheSameInput() {
    PlanInput in =
        input().limits(1, 10).drift(A, auto("x")).drift(B, option("m", Mode.MANUAL, 1, 0)).build();
    assertEquals(RepairPlanner.plan(in), RepairPlanner.plan(in));
    assertEquals(
        List.of("a: START x#1", "b: CREATE_PENDING_APPROVAL m#1 awaiting_approval"),
        Plans.render(RepairPlanner.plan(in)));
    assertEquals(
        2, RepairPlanner.plan(in).stream().map(Decision::key).collect(Collectors.toSet()).size());
  }
}
