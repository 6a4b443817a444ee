package dev.stateprobe.repair.budget;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Whether a repair may take a cluster slot now, from the slot Leases as read. Pure: the same slots,
 * rules, time and identity give the same answer.
 *
 * <p>A slot is free when its Lease does not exist, has no holder, or its holder stopped renewing
 * more than its duration plus {@link Rules#skew} ago; also when its holder is this node but not
 * this process (the node runs one agent: the holding is a dead predecessor's, whose scripts were
 * ended when it stopped). A holding whose renewal lies in the future (the holder's clock runs
 * ahead) lasts until that renewal plus duration plus skew: skew never frees a slot early.
 *
 * <p>The hourly cap counts the starts of the last hour on every slot; it is checked before the free
 * slots, so a reached cap says {@link Reason#HOURLY_CAP} whatever the slots say.
 *
 * <p>Which free slot: the first free one from a place given by the identity, so that agents that
 * read the same free slots mostly try different ones (fewer 409s than all trying slot 0).
 */
public final class SlotDecision {
  private SlotDecision() {}

  /** Why a repair waits for the budget; {@link #tag()} is the metric's bounded tag. */
  public enum Reason {
    /** Every slot is held by a live holder. */
    NO_FREE_SLOT("no_free_slot"),
    /** {@code CLUSTER_MAX_REPAIRS_PER_HOUR} repairs started in the cluster in the last hour. */
    HOURLY_CAP("hourly_cap"),
    /** The Leases could not be read or written: fail safe, no slot. */
    API_ERROR("api_error");

    private final String tag;

    Reason(String tag) {
      this.tag = tag;
    }

    public String tag() {
      return tag;
    }
  }

  /**
   * @param slots {@code CLUSTER_REPAIR_SLOTS}, at least 1 here (0 turns the budget off before it)
   * @param hourlyCap {@code CLUSTER_MAX_REPAIRS_PER_HOUR}; 0 means no cap
   * @param skew tolerated clock difference between agents (and the API server's writers)
   */
  public record Rules(int slots, int hourlyCap, Duration skew) {
    public Rules {
      if (slots < 1) {
        throw new IllegalArgumentException("slots must be >= 1, was " + slots);
      }
      if (hourlyCap < 0) {
        throw new IllegalArgumentException("hourlyCap must be >= 0, was " + hourlyCap);
      }
      if (skew.isNegative()) {
        throw new IllegalArgumentException("skew must be >= 0, was " + skew);
      }
    }
  }

  /** The answer. */
  public sealed interface Verdict permits Take, Wait {}

  /**
   * Write {@code next} over {@code slot} (a create when it does not exist, else an update under its
   * resourceVersion): if the write succeeds the slot is held.
   */
  public record Take(SlotView slot, SlotView next) implements Verdict {}

  /**
   * No slot now.
   *
   * @param until when the answer can change by time alone (an expiry, the oldest start leaving the
   *     hour); a release can change it sooner
   */
  public record Wait(Reason reason, Instant until, int hourCount) implements Verdict {}

  /**
   * @param read the slot Leases as listed, any order, absent ones missing; others ignored
   * @param me this agent's identity (its node name), written as the holder
   * @param mine the slot indexes this process holds now
   * @param hold the Lease duration to write: the script's timeout plus a margin
   */
  public static Verdict decide(
      List<SlotView> read, Rules rules, Instant now, String me, Set<Integer> mine, Duration hold) {
    List<SlotView> slots = complete(read, rules.slots());
    List<Instant> hour = new ArrayList<>();
    for (SlotView s : slots) {
      hour.addAll(Starts.lastHour(s.starts(), now));
    }
    if (rules.hourlyCap() > 0 && hour.size() >= rules.hourlyCap()) {
      hour.sort(null);
      Instant oldest = hour.get(hour.size() - rules.hourlyCap());
      return new Wait(Reason.HOURLY_CAP, oldest.plus(Starts.WINDOW), hour.size());
    }
    int n = slots.size();
    int first = Math.floorMod(me.hashCode(), n);
    for (int i = 0; i < n; i++) {
      SlotView s = slots.get((first + i) % n);
      if (free(s, rules, now, me, mine)) {
        return new Take(s, taken(s, me, now, hold));
      }
    }
    Instant soonest =
        slots.stream()
            .map(s -> s.expiresAt(rules.skew()))
            .min(Comparator.naturalOrder())
            .orElse(now);
    return new Wait(Reason.NO_FREE_SLOT, soonest, hour.size());
  }

  /** Whether {@code s} may be taken by {@code me} now. */
  public static boolean free(SlotView s, Rules rules, Instant now, String me, Set<Integer> mine) {
    if (s.holder().isEmpty()) {
      return true;
    }
    if (s.holder().get().equals(me)) {
      return !mine.contains(s.index());
    }
    return now.isAfter(s.expiresAt(rules.skew()));
  }

  /** The slot as its taker writes it: holder, times, duration, and one more start. */
  public static SlotView taken(SlotView s, String me, Instant at, Duration hold) {
    Instant now = micros(at);
    return new SlotView(
        s.index(),
        s.resourceVersion(),
        Optional.of(me),
        Optional.of(now),
        Optional.of(now),
        hold,
        Starts.plus(s.starts(), now));
  }

  /** The slot renewed by its holder at {@code now}. */
  public static SlotView renewed(SlotView s, Instant at) {
    Instant now = micros(at);
    return new SlotView(
        s.index(),
        s.resourceVersion(),
        s.holder(),
        s.acquiredAt(),
        Optional.of(now),
        s.duration(),
        s.starts());
  }

  /** The slot given back: no holder; the starts stay, they are the hour's count. */
  public static SlotView released(SlotView s, Instant at) {
    Instant now = micros(at);
    return new SlotView(
        s.index(),
        s.resourceVersion(),
        Optional.empty(),
        s.acquiredAt(),
        Optional.of(now),
        s.duration(),
        s.starts());
  }

  /**
   * Whether {@code current} (as read again after a 409) is still the holding {@code mine} took:
   * same holder and same acquire time. Then the write is retried on the new resourceVersion;
   * otherwise the slot was lost.
   */
  public static boolean sameHolding(SlotView mine, SlotView current) {
    return current.holder().equals(mine.holder()) && current.acquiredAt().equals(mine.acquiredAt());
  }

  /** A Lease's times are MicroTime: what is written must compare equal to what is read back. */
  static Instant micros(Instant t) {
    return t.truncatedTo(ChronoUnit.MICROS);
  }

  /** The slots {@code 0 .. n-1}, each as read or absent. */
  static List<SlotView> complete(List<SlotView> read, int n) {
    Map<Integer, SlotView> byIndex = new HashMap<>();
    for (SlotView s : read) {
      if (s.index() < n) {
        byIndex.put(s.index(), s);
      }
    }
    List<SlotView> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(byIndex.getOrDefault(i, SlotView.absent(i)));
    }
    return out;
  }
}
