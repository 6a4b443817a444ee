package dev.stateprobe.drift;

import dev.stateprobe.policy.PodPolicies;
import dev.stateprobe.policy.PodPolicy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The confirmation state machine: which drifts are suspected, which are confirmed. Immutable:
 * {@link #step} returns the next tracker and leaves this one as it was, so a reader (the HTTP view,
 * the planner) can hold a tracker while the next cycle computes the following one.
 *
 * <p>A drift is suspected when a trusted cycle first shows it, confirmed once it has been shown for
 * at least its kind's window and in at least {@code minObservations} trusted cycles, and removed by
 * the first trusted cycle that no longer shows it. Untrusted cycles do nothing at all: they neither
 * count, nor confirm, nor clear.
 *
 * <p>Windows count from the first observation. StuckTerminating is only reported once the grace
 * period has ended, so its effective wait is grace + window.
 */
public final class DriftTracker {

  private final Map<DriftKind, Duration> windows;
  private final int minObservations;
  private final NavigableMap<DriftKey, TrackedDrift> tracked;

  /** The result of one cycle: the tracker to use next, and what changed, sorted by key. */
  public record Step(DriftTracker next, List<Transition> transitions) {
    public Step {
      Objects.requireNonNull(next, "next");
      transitions = List.copyOf(transitions);
    }
  }

  private DriftTracker(
      Map<DriftKind, Duration> windows,
      int minObservations,
      NavigableMap<DriftKey, TrackedDrift> tracked) {
    this.windows = windows;
    this.minObservations = minObservations;
    this.tracked = tracked;
  }

  /**
   * A tracker that tracks nothing yet.
   *
   * @param windows the confirmation window of every kind; none negative
   * @param minObservations trusted cycles a drift must be seen in before it is confirmed, ≥ 1
   */
  public static DriftTracker initial(Map<DriftKind, Duration> windows, int minObservations) {
    Objects.requireNonNull(windows, "windows");
    EnumMap<DriftKind, Duration> copy = new EnumMap<>(DriftKind.class);
    for (DriftKind k : DriftKind.values()) {
      Duration w = windows.get(k);
      if (w == null) {
        throw new IllegalArgumentException("no confirmation window for " + k.wireName());
      }
      if (w.isNegative()) {
        throw new IllegalArgumentException(
            "confirmation window for " + k.wireName() + " must not be negative, got " + w);
      }
      copy.put(k, w);
    }
    if (minObservations < 1) {
      throw new IllegalArgumentException("minObservations must be >= 1, got " + minObservations);
    }
    return new DriftTracker(
        Collections.unmodifiableMap(copy),
        minObservations,
        Collections.unmodifiableNavigableMap(new TreeMap<>()));
  }

  /**
   * Advances the state machine by one cycle.
   *
   * @param trusted the verdict of {@link TrustGate} for this cycle; when false, nothing changes
   * @param drifts what {@link DriftDetector} found this cycle; at most one per key
   * @param now the instant of the cycle
   */
  public Step step(boolean trusted, List<Drift> drifts, Instant now) {
    return step(trusted, drifts, now, PodPolicies.NONE);
  }

  /**
   * Advances the state machine by one cycle, each drift held to its pod's policy: the window and
   * observations of {@link PodPolicy#window} and {@link PodPolicy#minObservations} over this
   * tracker's own. A policy edited between cycles applies from the next one, to suspected drifts
   * only: a confirmed drift stays confirmed.
   *
   * @param policies the settings of every pod in {@code drifts}; a pod not in it is Strict
   */
  public Step step(boolean trusted, List<Drift> drifts, Instant now, PodPolicies policies) {
    Objects.requireNonNull(drifts, "drifts");
    Objects.requireNonNull(policies, "policies");
    Objects.requireNonNull(now, "now");
    if (!trusted) {
      return new Step(this, List.of());
    }
    Map<DriftKey, Drift> seen = new HashMap<>();
    for (Drift d : drifts) {
      Objects.requireNonNull(d, "drift in drifts");
      if (seen.putIfAbsent(d.key(), d) != null) {
        throw new IllegalArgumentException(
            "drifts holds two drifts with key " + d.kind().wireName() + " " + d.target());
      }
    }

    TreeSet<DriftKey> keys = new TreeSet<>(tracked.keySet());
    keys.addAll(seen.keySet());
    TreeMap<DriftKey, TrackedDrift> next = new TreeMap<>();
    List<Transition> transitions = new ArrayList<>();
    for (DriftKey key : keys) {
      TrackedDrift before = tracked.get(key);
      Drift d = seen.get(key);
      if (d == null) {
        Transition.Type type =
            before.confirmed() ? Transition.Type.CLEARED : Transition.Type.DISMISSED;
        transitions.add(new Transition(type, before, null));
        continue;
      }
      TrackedDrift after;
      if (before == null) {
        after = new TrackedDrift(d, now, null, 1);
        transitions.add(new Transition(Transition.Type.SUSPECTED, after, null));
      } else {
        after =
            new TrackedDrift(
                d, before.firstObservedAt(), before.confirmedAt(), before.observations() + 1);
      }
      if (!after.confirmed() && due(after, now, policies.of(key.target().uid()))) {
        after = new TrackedDrift(d, after.firstObservedAt(), now, after.observations());
        transitions.add(
            new Transition(
                Transition.Type.CONFIRMED, after, Duration.between(after.firstObservedAt(), now)));
      }
      next.put(key, after);
    }
    return new Step(
        new DriftTracker(windows, minObservations, Collections.unmodifiableNavigableMap(next)),
        transitions);
  }

  private boolean due(TrackedDrift t, Instant now, PodPolicy policy) {
    Duration held = Duration.between(t.firstObservedAt(), now);
    return held.compareTo(window(t.drift().kind(), policy)) >= 0
        && t.observations() >= policy.minObservations(minObservations);
  }

  /** The window a drift of {@code kind} on a pod with {@code policy} must hold for. */
  public Duration window(DriftKind kind, PodPolicy policy) {
    return policy.window(kind.wireName(), windows.get(kind));
  }

  /** Every tracked drift, suspected or confirmed, sorted by key. */
  public List<TrackedDrift> current() {
    return List.copyOf(tracked.values());
  }

  /** The tracked drift of {@code key}, if any. */
  public Optional<TrackedDrift> get(DriftKey key) {
    return Optional.ofNullable(tracked.get(key));
  }

  /** The confirmed drifts, sorted by key. */
  public List<TrackedDrift> confirmed() {
    return tracked.values().stream().filter(TrackedDrift::confirmed).toList();
  }

  /** The window a drift of {@code kind} must hold for before it is confirmed. */
  public Duration window(DriftKind kind) {
    return windows.get(kind);
  }

  public int minObservations() {
    return minObservations;
  }
}
