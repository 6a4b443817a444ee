package dev.stateprobe.repair.budget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.repair.budget.SlotDecision.Reason;
import dev.stateprobe.repair.budget.SlotDecision.Rules;
import dev.stateprobe.repair.budget.SlotDecision.Take;
import dev.stateprobe.repair.budget.SlotDecision.Verdict;
import dev.stateprobe.repair.budget.SlotDecision.Wait;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The pure decision: which slot, or why none, from the Leases as read. */
class SlotDecisionTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private static final Duration SKEW = Duration.ofSeconds(10);
  private static final Duration HOLD = Duration.ofSeconds(150);
  private static final Rules THREE = new Rules(3, 0, SKEW);

  private static SlotView held(int i, String holder, Instant renewed, Duration d) {
    return new SlotView(
        i,
        Optional.of("rv" + i),
        Optional.of(holder),
        Optional.of(renewed.minusSeconds(5)),
        Optional.of(renewed),
        d,
        List.of());
  }

  private static SlotView freeLease(int i, List<Instant> starts) {
    return new SlotView(
        i,
        Optional.of("rv" + i),
        Optional.empty(),
        Optional.of(NOW.minusSeconds(600)),
        Optional.of(NOW.minusSeconds(500)),
        Duration.ofSeconds(60),
        starts);
  }

  private static List<SlotView> allHeld(Instant renewed) {
    return List.of(
        held(0, "node-a", renewed, Duration.ofSeconds(60)),
        held(1, "node-b", renewed, Duration.ofSeconds(60)),
        held(2, "node-c", renewed, Duration.ofSeconds(60)));
  }

  @Test
  void noLeaseYetIsTakenByACreateWithTheHolderAndOneStart() {
    Verdict v = SlotDecision.decide(List.of(), THREE, NOW, "node-x", Set.of(), HOLD);
    Take t = (Take) v;
    assertThat(t.slot().exists()).isFalse();
    assertThat(t.next().holder()).contains("node-x");
    assertThat(t.next().acquiredAt()).contains(NOW);
    assertThat(t.next().renewedAt()).contains(NOW);
    assertThat(t.next().duration()).isEqualTo(HOLD);
    assertThat(t.next().starts()).containsExactly(NOW);
    assertThat(t.next().resourceVersion()).isEmpty();
  }

  @Test
  void aReleasedLeaseIsTakenByAnUpdateOnItsResourceVersion() {
    List<SlotView> read =
        List.of(
            held(0, "node-a", NOW, Duration.ofSeconds(60)),
            freeLease(1, List.of()),
            held(2, "node-c", NOW, Duration.ofSeconds(60)));
    Take t = (Take) SlotDecision.decide(read, THREE, NOW, "node-x", Set.of(), HOLD);
    assertThat(t.slot().index()).isEqualTo(1);
    assertThat(t.next().resourceVersion()).contains("rv1");
    assertThat(t.next().holder()).contains("node-x");
  }

  @Test
  void everySlotHeldWaitsUntilTheSoonestExpiryPlusSkew() {
    List<SlotView> read =
        List.of(
            held(0, "node-a", NOW.minusSeconds(10), Duration.ofSeconds(60)),
            held(1, "node-b", NOW.minusSeconds(50), Duration.ofSeconds(60)),
            held(2, "node-c", NOW, Duration.ofSeconds(60)));
    Wait w = (Wait) SlotDecision.decide(read, THREE, NOW, "node-x", Set.of(), HOLD);
    assertThat(w.reason()).isEqualTo(Reason.NO_FREE_SLOT);
    assertThat(w.until()).isEqualTo(NOW.plusSeconds(10 + 10));
  }

  @Test
  void anExpiredHoldingIsFreeOnlyAfterItsDurationPlusTheSkew() {
    SlotView stale = held(1, "node-b", NOW.minusSeconds(65), Duration.ofSeconds(60));
    List<SlotView> read =
        List.of(
            held(0, "node-a", NOW, Duration.ofSeconds(60)),
            stale,
            held(2, "node-c", NOW, Duration.ofSeconds(60)));
    // 65 s after the last renewal of a 60 s lease: within the 10 s skew, still held.
    assertThat(SlotDecision.decide(read, THREE, NOW, "node-x", Set.of(), HOLD))
        .isInstanceOf(Wait.class);
    Verdict later = SlotDecision.decide(read, THREE, NOW.plusSeconds(6), "node-x", Set.of(), HOLD);
    assertThat(((Take) later).slot().index()).isEqualTo(1);
    assertThat(((Take) later).next().resourceVersion()).contains("rv1");
  }

  @Test
  void aHolderWhoseClockRunsAheadKeepsItsSlotUntilItsOwnRenewalPlusDuration() {
    // The holder wrote a renewal 30 s in our future: it is not free early, whatever our clock says.
    List<SlotView> read = allHeld(NOW.plusSeconds(30));
    Wait w = (Wait) SlotDecision.decide(read, THREE, NOW.plusSeconds(80), "node-x", Set.of(), HOLD);
    assertThat(w.reason()).isEqualTo(Reason.NO_FREE_SLOT);
    assertThat(SlotDecision.decide(read, THREE, NOW.plusSeconds(101), "node-x", Set.of(), HOLD))
        .isInstanceOf(Take.class);
  }

  @Test
  void aSlotThisNodeHoldsInThisProcessIsNotTakenTwiceButAPredecessorsIs() {
    List<SlotView> read =
        List.of(
            held(0, "node-x", NOW, Duration.ofSeconds(60)),
            held(1, "node-b", NOW, Duration.ofSeconds(60)),
            held(2, "node-c", NOW, Duration.ofSeconds(60)));
    assertThat(SlotDecision.decide(read, THREE, NOW, "node-x", Set.of(0), HOLD))
        .isInstanceOf(Wait.class);
    Take t = (Take) SlotDecision.decide(read, THREE, NOW, "node-x", Set.of(), HOLD);
    assertThat(t.slot().index()).isZero();
  }

  @Test
  void theHourlyCapCountsEverySlotsStartsAndWaitsUntilTheOldestLeavesTheHour() {
    Rules capped = new Rules(3, 4, SKEW);
    List<SlotView> read =
        List.of(
            freeLease(0, List.of(NOW.minusSeconds(3000), NOW.minusSeconds(100))),
            freeLease(1, List.of(NOW.minusSeconds(3500), NOW.minusSeconds(4000))),
            freeLease(2, List.of(NOW.minusSeconds(10))));
    Wait w = (Wait) SlotDecision.decide(read, capped, NOW, "node-x", Set.of(), HOLD);
    assertThat(w.reason()).isEqualTo(Reason.HOURLY_CAP);
    assertThat(w.hourCount()).isEqualTo(4);
    // The start 3500 s ago leaves the hour 100 s from now, and then one more may start.
    assertThat(w.until()).isEqualTo(NOW.plusSeconds(100));
    assertThat(SlotDecision.decide(read, capped, NOW.plusSeconds(101), "node-x", Set.of(), HOLD))
        .isInstanceOf(Take.class);
  }

  @Test
  void theCapIsCheckedBeforeTheSlotsAndZeroMeansNoCap() {
    List<SlotView> read = new ArrayList<>(allHeld(NOW));
    Rules capOne = new Rules(3, 1, SKEW);
    List<SlotView> oneStart =
        List.of(freeLease(0, List.of(NOW.minusSeconds(5))), read.get(1), read.get(2));
    assertThat(((Wait) SlotDecision.decide(oneStart, capOne, NOW, "x", Set.of(), HOLD)).reason())
        .isEqualTo(Reason.HOURLY_CAP);
    assertThat(SlotDecision.decide(oneStart, THREE, NOW, "x", Set.of(), HOLD))
        .isInstanceOf(Take.class);
  }

  @Test
  void slotsBeyondTheConfiguredCountAreIgnored() {
    List<SlotView> read =
        List.of(
            held(0, "node-a", NOW, Duration.ofSeconds(60)),
            freeLease(7, List.of(NOW.minusSeconds(1), NOW.minusSeconds(2))));
    Wait w = (Wait) SlotDecision.decide(read, new Rules(1, 2, SKEW), NOW, "x", Set.of(), HOLD);
    // Slot 7 is neither free for a slot count of 1 nor counted in the hour.
    assertThat(w.reason()).isEqualTo(Reason.NO_FREE_SLOT);
    assertThat(w.hourCount()).isZero();
  }

  @Test
  void agentsStartFromDifferentSlotsSoThatTheyCollideLess() {
    Set<Integer> chosen = new java.util.HashSet<>();
    for (int n = 0; n < 20; n++) {
      Take t =
          (Take)
              SlotDecision.decide(
                  List.of(), new Rules(5, 0, SKEW), NOW, "node-" + n, Set.of(), HOLD);
      chosen.add(t.slot().index());
    }
    assertThat(chosen).hasSizeGreaterThan(2);
  }

  @Test
  void afterA409TheReReadDecidesAgainAndTheRetryKeepsOnlyTheSameHolding() {
    // Two agents read slot 1 free; node-y's write won. node-x re-reads: slot 1 is node-y's now.
    SlotView before = freeLease(1, List.of());
    Take mine =
        (Take)
            SlotDecision.decide(
                List.of(held(0, "a", NOW, HOLD), before, held(2, "c", NOW, HOLD)),
                THREE,
                NOW,
                "node-x",
                Set.of(),
                HOLD);
    assertThat(mine.slot().index()).isEqualTo(1);
    SlotView theirs = SlotDecision.taken(before, "node-y", NOW, HOLD);
    List<SlotView> reread = List.of(held(0, "a", NOW, HOLD), theirs, held(2, "c", NOW, HOLD));
    assertThat(SlotDecision.decide(reread, THREE, NOW, "node-x", Set.of(), HOLD))
        .isInstanceOf(Wait.class);
    // A renewal that met a 409: retried only while the holding is still the same one.
    assertThat(SlotDecision.sameHolding(mine.next(), mine.next())).isTrue();
    assertThat(SlotDecision.sameHolding(mine.next(), theirs)).isFalse();
    SlotView mineAgainLater = SlotDecision.taken(mine.next(), "node-x", NOW.plusSeconds(1), HOLD);
    assertThat(SlotDecision.sameHolding(mine.next(), mineAgainLater)).isFalse();
  }

  @Test
  void releaseClearsTheHolderAndKeepsTheHoursStarts() {
    SlotView taken =
        SlotDecision.taken(freeLease(0, List.of(NOW.minusSeconds(60))), "n", NOW, HOLD);
    SlotView released = SlotDecision.released(taken, NOW.plusSeconds(30));
    assertThat(released.holder()).isEmpty();
    assertThat(released.starts()).containsExactly(NOW.minusSeconds(60), NOW);
    SlotView renewed = SlotDecision.renewed(taken, NOW.plusSeconds(20));
    assertThat(renewed.renewedAt()).contains(NOW.plusSeconds(20));
    assertThat(renewed.acquiredAt()).contains(NOW);
  }

  @Test
  void startsAreParsedLeniantlyFormattedAscendingAndBounded() {
    assertThat(Starts.parse("1765060123, 1765060000,junk,,-5,99999999999999"))
        .containsExactly(Instant.ofEpochSecond(1765060000L), Instant.ofEpochSecond(1765060123L));
    assertThat(Starts.format(List.of(Instant.ofEpochSecond(1), Instant.ofEpochSecond(22))))
        .isEqualTo("1,22");
    List<Instant> many = new ArrayList<>();
    for (int i = 0; i < Starts.MAX_PER_SLOT + 50; i++) {
      many.add(NOW.minusSeconds(3000).plusSeconds(i));
    }
    List<Instant> kept = Starts.plus(many, NOW);
    assertThat(kept).hasSize(Starts.MAX_PER_SLOT).endsWith(NOW);
    assertThat(Starts.format(kept).length()).isLessThan(12 * 1024);
    assertThat(Starts.plus(List.of(NOW.minusSeconds(3601), NOW.minusSeconds(3599)), NOW))
        .containsExactly(NOW.minusSeconds(3599), NOW);
  }

  @Test
  void slotNamesAreExactlyThePrefixAndACanonicalNumber() {
    assertThat(SlotView.indexOf("state-probe-slot-0")).isZero();
    assertThat(SlotView.indexOf("state-probe-slot-12")).isEqualTo(12);
    assertThat(SlotView.indexOf("state-probe-slot-012")).isEqualTo(-1);
    assertThat(SlotView.indexOf("state-probe-slot-")).isEqualTo(-1);
    assertThat(SlotView.indexOf("state-probe-slot-1a")).isEqualTo(-1);
    assertThat(SlotView.indexOf("other")).isEqualTo(-1);
  }

  @Test
  void badRulesAreRefusedNamingTheValue() {
    assertThatThrownBy(() -> new Rules(0, 0, SKEW)).hasMessageContaining("slots must be >= 1");
    assertThatThrownBy(() -> new Rules(1, -1, SKEW)).hasMessageContaining("hourlyCap");
  }
}
