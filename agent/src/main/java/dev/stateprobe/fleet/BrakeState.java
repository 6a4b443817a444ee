package dev.stateprobe.fleet;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What one agent makes of the brake: whether new repairs are held back, and why.
 *
 * @param reason the bounded reason; {@link Reason#tag()} is the {@code reason} tag of {@code
 *     stateprobe_fleet_brake}
 * @param detail the words for the log and the planner's reason
 */
public record BrakeState(Reason reason, String detail) {

  /** Why the brake holds repairs back, or does not. */
  public enum Reason {
    /** The coordinator says on. */
    ON("on", true),
    /** The heartbeat is older than {@code FLEET_BRAKE_MAX_AGE} (or has none): fail safe. */
    STALE("stale", true),
    /** No brake object is known (none exists, or the agent has not read it yet): fail safe. */
    MISSING("missing", true),
    /**
     * The coordinator says off, but decided before it could have counted this repair's record: the
     * repair waits for a later decision (only the check just before a script answers this).
     */
    UNCOUNTED("uncounted", true),
    /** The coordinator says off, with a fresh heartbeat. */
    OFF("off", false),
    /** {@code FLEET_BRAKE=off}: this agent does not obey a brake. */
    DISABLED("disabled", false);

    private final String tag;
    private final boolean holds;

    Reason(String tag, boolean holds) {
      this.tag = tag;
      this.holds = holds;
    }

    public String tag() {
      return tag;
    }

    public boolean holds() {
      return holds;
    }
  }

  public static final BrakeState DISABLED_STATE =
      new BrakeState(Reason.DISABLED, "FLEET_BRAKE is off");

  public BrakeState {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(detail, "detail");
  }

  /** New repairs must not start. */
  public boolean holds() {
    return reason.holds();
  }

  /**
   * The agent's judgement: the brake object as last seen (empty when none is known), now, and how
   * old a heartbeat may be. A heartbeat from the future (clock skew) counts as fresh.
   */
  public static BrakeState judge(Optional<BrakeObject> brake, Instant now, Duration maxAge) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(maxAge, "maxAge");
    if (brake.isEmpty()) {
      return new BrakeState(
          Reason.MISSING,
          "no Lease " + BrakeObject.NAME + " seen: is the coordinator deployed? (fail safe)");
    }
    BrakeObject b = brake.get();
    if (b.renewTime().isEmpty()) {
      return new BrakeState(Reason.STALE, "brake has no heartbeat (fail safe)");
    }
    Duration age = Duration.between(b.renewTime().get(), now);
    if (age.compareTo(maxAge) > 0) {
      return new BrakeState(
          Reason.STALE,
          "brake heartbeat is "
              + age.toSeconds()
              + "s old (FLEET_BRAKE_MAX_AGE "
              + maxAge.toSeconds()
              + "s; fail safe)");
    }
    if (!b.saysOff()) {
      return new BrakeState(Reason.ON, "fleet storm brake is on: " + b.reason());
    }
    return new BrakeState(Reason.OFF, "fleet storm brake is off");
  }

  /**
   * Whether one repair's script may start now: the brake must let repairs start ({@link #judge})
   * and its decision must have counted this repair. The coordinator counts records; its heartbeat
   * ({@code spec.renewTime}) is when it decided. A decision made at least {@code settle} after the
   * record appeared had the record in its count, as long as {@code settle} covers the coordinator
   * informer's lag, the API server's whole-second {@code creationTimestamp} and the skew between
   * the coordinator's and the API server's clocks. So a storm's every record is counted before any
   * of its scripts starts, and the coordinator's "off" for it means "not a storm, with this node in
   * the count".
   *
   * @param recordAt when this repair became visible to the coordinator: its record's {@code
   *     creationTimestamp}, or its latest attempt's start if later (what the coordinator counts)
   * @param settle {@code FLEET_BRAKE_SETTLE}
   */
  public static BrakeState judgeStart(
      Optional<BrakeObject> brake,
      Instant now,
      Duration maxAge,
      Instant recordAt,
      Duration settle) {
    Objects.requireNonNull(recordAt, "recordAt");
    Objects.requireNonNull(settle, "settle");
    BrakeState b = judge(brake, now, maxAge);
    if (b.holds()) {
      return b;
    }
    Instant decided = brake.orElseThrow().renewTime().orElseThrow();
    Instant needed = recordAt.plus(settle);
    if (decided.isBefore(needed)) {
      return new BrakeState(
          Reason.UNCOUNTED,
          "fleet storm brake is off, but was decided at "
              + decided
              + ", before it could count this repair's record of "
              + recordAt
              + " (needs a decision at or after "
              + needed
              + ", FLEET_BRAKE_SETTLE "
              + settle.toMillis()
              + "ms)");
    }
    return b;
  }
}
