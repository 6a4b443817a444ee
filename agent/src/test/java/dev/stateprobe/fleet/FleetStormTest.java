package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.testing.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The coordinator's decision, stepped on a fake clock as the coordinator steps it. */
class FleetStormTest {
  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  private static final StormSettings S =
      new StormSettings(10, 3, Duration.ofMinutes(5), Duration.ofMinutes(2));

  private final TestClock clock = new TestClock(T0);
  private final List<RecordSummary> records = new ArrayList<>();
  private StormState state = StormState.initial(T0);

  private void drift(int fromNode, int toNode) {
    for (int i = fromNode; i < toNode; i++) {
      records.add(new RecordSummary("node-" + i, clock.instant()));
    }
  }

  private StormState step(int nodes) {
    state = FleetStorm.decide(records, nodes, clock.instant(), state, S);
    return state;
  }

  @Test
  void onAboveTheShareOffAtOrUnderIt() {
    drift(0, 10);
    assertThat(step(100).on()).as("10 of 100 is not more than 10 %").isFalse();
    assertThat(state.drifting()).isEqualTo(10);
    drift(10, 11);
    StormState on = step(100);
    assertThat(on.on()).as("11 of 100").isTrue();
    assertThat(on.since()).isEqualTo(T0);
    assertThat(on.reason())
        .isEqualTo(
            "storm: 11 of 100 nodes have repair records in the last 300s (threshold: more than"
                + " 10 % and at least 3)");
  }

  @Test
  void aNodeCountsOnceHoweverManyRecordsItHas() {
    for (int i = 0; i < 50; i++) {
      records.add(new RecordSummary("node-1", clock.instant()));
      records.add(new RecordSummary("node-2", clock.instant()));
    }
    assertThat(step(10).drifting()).isEqualTo(2);
    assertThat(state.on()).as("2 nodes is under the minimum of 3").isFalse();
  }

  @Test
  void aSmallClusterNeedsTheMinimumOfNodesNotOnlyTheShare() {
    drift(0, 2);
    assertThat(step(5).on()).as("2 of 5 is 40 %, but under 3 nodes").isFalse();
    drift(2, 3);
    assertThat(step(5).on()).isTrue();
  }

  @Test
  void recordsOlderThanTheWindowDoNotCount() {
    drift(0, 20);
    assertThat(step(100).on()).isTrue();
    clock.advance(Duration.ofMinutes(5));
    assertThat(step(100).drifting()).as("exactly a window old is out").isZero();
    clock.advance(Duration.ofSeconds(-1));
    assertThat(FleetStorm.decide(records, 100, clock.instant(), state, S).drifting()).isEqualTo(20);
  }

  @Test
  void offOnlyAfterStayingCalmForTheWholeHold() {
    drift(0, 20);
    step(100);
    clock.advance(Duration.ofMinutes(5)); // the records leave the window
    StormState holding = step(100);
    assertThat(holding.on()).isTrue();
    assertThat(holding.calmSince()).contains(clock.instant());
    assertThat(holding.reason())
        .startsWith("holding: 0 of 100")
        .endsWith("calm for 0s of FLEET_STORM_HOLD 120s");
    clock.advance(Duration.ofSeconds(119));
    assertThat(step(100).on()).isTrue();
    clock.advance(Duration.ofSeconds(1));
    StormState off = step(100);
    assertThat(off.on()).isFalse();
    assertThat(off.since()).isEqualTo(clock.instant());
    assertThat(off.changedFrom(holding)).isTrue();
  }

  @Test
  void aNewStormDuringTheHoldStartsTheHoldAgain() {
    drift(0, 20);
    step(100);
    clock.advance(Duration.ofMinutes(5));
    step(100); // calm starts
    clock.advance(Duration.ofSeconds(90));
    drift(20, 40);
    StormState again = step(100);
    assertThat(again.on()).isTrue();
    assertThat(again.since()).as("still the same storm").isEqualTo(T0);
    assertThat(again.calmSince()).isEmpty();
    clock.advance(Duration.ofMinutes(5));
    step(100);
    clock.advance(Duration.ofSeconds(119));
    assertThat(step(100).on()).as("the hold counts from the second calm").isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(step(100).on()).isFalse();
  }

  @Test
  void noFlappingAtTheEdge() {
    int changes = 0;
    for (int i = 0; i < 60; i++) {
      records.clear();
      drift(0, i % 2 == 0 ? 11 : 9); // 11 %, 9 %, 11 %, ... every 10 s
      StormState before = state;
      step(100);
      if (state.changedFrom(before)) {
        changes++;
      }
      clock.advance(Duration.ofSeconds(10));
    }
    assertThat(changes).as("on once, never off while it keeps coming back").isEqualTo(1);
    assertThat(state.on()).isTrue();
  }

  @Test
  void recordsOfNodesTheListLacksStillCountAndNeverExceedAHundredPercent() {
    drift(0, 4);
    StormState s = step(0);
    assertThat(s.nodes()).isEqualTo(4);
    assertThat(s.on()).isTrue();
  }

  @Test
  void aRecordFromTheFutureClockSkewCounts() {
    records.add(new RecordSummary("a", T0.plusSeconds(30)));
    records.add(new RecordSummary("b", T0.plusSeconds(30)));
    records.add(new RecordSummary("c", T0.plusSeconds(30)));
    assertThat(step(10).drifting()).isEqualTo(3);
  }

  @Test
  void badSettingsAreRefusedByName() {
    assertThatThrownBy(() -> new StormSettings(101, 3, Duration.ofMinutes(5), Duration.ZERO))
        .hasMessageContaining("FLEET_STORM_PERCENT");
    assertThatThrownBy(() -> new StormSettings(10, 0, Duration.ofMinutes(5), Duration.ZERO))
        .hasMessageContaining("FLEET_STORM_MIN_NODES");
    assertThatThrownBy(() -> new StormSettings(10, 3, Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("FLEET_STORM_WINDOW");
    assertThatThrownBy(
            () -> new StormSettings(10, 3, Duration.ofMinutes(1), Duration.ofSeconds(-1)))
        .hasMessageContaining("FLEET_STORM_HOLD");
    assertThatThrownBy(() -> FleetStorm.decide(List.of(), -1, T0, state, S))
        .hasMessageContaining("node count");
  }
}
