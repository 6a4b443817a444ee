package dev.stateprobe.fleet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.fleet.BrakeState.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BrakeStateTest {
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private static final Duration MAX_AGE = Duration.ofSeconds(60);

  private static BrakeObject brake(String state, Instant renew) {
    return new BrakeObject(
        Optional.of("coordinator-0"),
        Optional.ofNullable(renew),
        state == null
            ? Map.of()
            : Map.of(BrakeObject.STATE, state, BrakeObject.REASON, "storm: 12 of 100"));
  }

  private static BrakeState judge(BrakeObject b) {
    return BrakeState.judge(Optional.ofNullable(b), NOW, MAX_AGE);
  }

  @Test
  void offWithAFreshHeartbeatIsTheOnlyReadingThatLetsRepairsStart() {
    BrakeState off = judge(brake("off", NOW.minusSeconds(60)));
    assertThat(off.reason()).isEqualTo(Reason.OFF);
    assertThat(off.holds()).isFalse();
  }

  @Test
  void onHolds() {
    BrakeState on = judge(brake("on", NOW.minusSeconds(5)));
    assertThat(on.reason()).isEqualTo(Reason.ON);
    assertThat(on.holds()).isTrue();
    assertThat(on.detail()).isEqualTo("fleet storm brake is on: storm: 12 of 100");
  }

  @Test
  void aStaleHeartbeatHoldsWhateverItSays() {
    BrakeState stale = judge(brake("off", NOW.minusSeconds(61)));
    assertThat(stale.reason()).isEqualTo(Reason.STALE);
    assertThat(stale.holds()).isTrue();
    assertThat(stale.detail()).contains("61s old").contains("FLEET_BRAKE_MAX_AGE 60s");
    assertThat(judge(brake("off", null)).reason()).isEqualTo(Reason.STALE);
  }

  @Test
  void noBrakeObjectHolds() {
    BrakeState missing = judge(null);
    assertThat(missing.reason()).isEqualTo(Reason.MISSING);
    assertThat(missing.holds()).isTrue();
    assertThat(missing.detail()).contains(BrakeObject.NAME);
  }

  @Test
  void anUnknownOrAbsentStateReadsAsOn() {
    assertThat(judge(brake("Off", NOW)).reason()).isEqualTo(Reason.ON);
    assertThat(judge(brake(null, NOW)).reason()).isEqualTo(Reason.ON);
  }

  @Test
  void aHeartbeatFromTheFutureIsFresh() {
    assertThat(judge(brake("off", NOW.plusSeconds(3))).reason()).isEqualTo(Reason.OFF);
  }

  @Test
  void disabledNeverHoldsAndEveryTagIsBoundedAndDistinct() {
    assertThat(BrakeState.DISABLED_STATE.holds()).isFalse();
    assertThat(java.util.Arrays.stream(Reason.values()).map(Reason::tag))
        .containsExactlyElementsOf(dev.stateprobe.metrics.Metrics.FLEET_BRAKE_REASONS);
  }

  private static final Duration SETTLE = Duration.ofSeconds(2);
  private static final Instant RECORD = NOW.minusSeconds(10);

  private static BrakeState start(BrakeObject b) {
    return BrakeState.judgeStart(Optional.ofNullable(b), NOW, MAX_AGE, RECORD, SETTLE);
  }

  @Test
  void aScriptStartsOnlyUnderAnOffDecidedAtLeastTheSettleAfterItsRecord() {
    assertThat(start(brake("off", RECORD.plus(SETTLE))).reason()).isEqualTo(Reason.OFF);
    assertThat(start(brake("off", NOW)).holds()).isFalse();

    BrakeState early = start(brake("off", RECORD.plus(SETTLE).minusMillis(1)));
    assertThat(early.reason()).isEqualTo(Reason.UNCOUNTED);
    assertThat(early.holds()).isTrue();
    assertThat(early.detail()).contains("FLEET_BRAKE_SETTLE 2000ms").contains(RECORD.toString());
    assertThat(start(brake("off", RECORD.minusSeconds(1))).reason()).isEqualTo(Reason.UNCOUNTED);
  }

  @Test
  void anyOtherHoldingReadingHoldsAStartForItsOwnReason() {
    assertThat(start(brake("on", NOW)).reason()).isEqualTo(Reason.ON);
    assertThat(start(brake("off", NOW.minusSeconds(61))).reason()).isEqualTo(Reason.STALE);
    assertThat(start(null).reason()).isEqualTo(Reason.MISSING);
  }
}
