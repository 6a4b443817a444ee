package dev.stateprobe.drift;

import static dev.stateprobe.view.PodRecordBuilder.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.view.ContainerState;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A pod held by a finalizer: deleted (deletionTimestamp set, grace period over), the kubelet done
 * with it (its copy finished, or gone from {@code /pods}), nothing running. The agent's three views
 * learn each step at their own pace (the informer, the kubelet poll and the runtime poll are
 * separate reads), so every order of the steps is played, through the detector and the tracker,
 * cycle by cycle with the default windows: no order may confirm a drift, and once every view has
 * caught up nothing is even suspected, however long the finalizer holds the pod.
 */
class FinalizerOrderingTest {

  static final Instant T0 = Instant.parse("2026-01-01T01:00:00Z");
  static final Duration CYCLE = Duration.ofSeconds(5);

  /** Request time + grace: over after the second cycle, so both sides of it are played. */
  static final Instant DELETION = T0.plusSeconds(7);

  /** Cycles the final state is held: longer than every default window. */
  static final int HELD = 30;

  /** What one view learns. */
  enum Step {
    /** The informer shows the deletionTimestamp (the finalizer keeps the object). */
    API_DELETED("API server shows the deletion"),
    /** The kubelet poll shows its copy finished (or gone, per the case). */
    KUBELET_DONE("kubelet is done with it"),
    /** The runtime poll no longer shows the containers. */
    RUNTIME_STOPPED("runtime stopped it"),
    /** The informer shows the finished status the kubelet posted. */
    API_TERMINAL("API server shows it finished");

    final String words;

    Step(String words) {
      this.words = words;
    }
  }

  record Ordering(List<Step> steps, boolean kubeletForgets) {
    @Override
    public String toString() {
      return steps.stream().map(s -> s.words).collect(Collectors.joining(", then "))
          + (steps.contains(Step.API_TERMINAL) ? "" : " (API never shows it finished)")
          + (kubeletForgets ? "; kubelet copy gone" : "; kubelet copy finished");
    }
  }

  static Stream<Ordering> orderings() {
    List<Ordering> out = new ArrayList<>();
    for (boolean forgets : new boolean[] {false, true}) {
      for (List<Step> p : permutations(List.of(Step.values()))) {
        out.add(new Ordering(p, forgets));
      }
      // The finished status may never reach the informer before the finalizer is removed.
      for (List<Step> p :
          permutations(List.of(Step.API_DELETED, Step.KUBELET_DONE, Step.RUNTIME_STOPPED))) {
        out.add(new Ordering(p, forgets));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("orderings")
  void aPodHeldByAFinalizerIsNeverTheNodesFault(Ordering o) {
    DriftTracker tracker = DriftTracker.initial(defaultWindows(), 3);
    DriftDetector detector = new DriftDetector();
    Set<Step> learned = EnumSet.noneOf(Step.class);
    int cycle = 0;
    List<Transition> confirmed = new ArrayList<>();
    // The pod as every view first sees it, then one step learned per cycle, then held.
    List<Set<Step>> states = new ArrayList<>();
    states.add(EnumSet.noneOf(Step.class));
    for (Step s : o.steps()) {
      learned.add(s);
      states.add(EnumSet.copyOf(learned));
    }
    for (int i = 0; i < HELD; i++) {
      states.add(EnumSet.copyOf(learned));
    }
    int finalFrom = 1 + o.steps().size();
    for (Set<Step> state : states) {
      Instant now = T0.plus(CYCLE.multipliedBy(cycle));
      List<Drift> drifts = detect(detector, state, o.kubeletForgets(), now);
      DriftTracker.Step step = tracker.step(true, drifts, now);
      tracker = step.next();
      step.transitions().stream()
          .filter(t -> t.type() == Transition.Type.CONFIRMED)
          .forEach(confirmed::add);
      if (cycle >= finalFrom) {
        assertEquals(List.of(), drifts, "cycle " + cycle + ", every view caught up");
      }
      cycle++;
    }
    assertEquals(List.of(), confirmed, "confirmed while the finalizer held the pod");
    assertTrue(tracker.current().isEmpty(), "still tracked: " + tracker.current());
  }

  static List<Drift> detect(
      DriftDetector detector, Set<Step> learned, boolean kubeletForgets, Instant now) {
    PodRecord running = pod("shop", "cart-0").running("app").build();
    PodRecord api = running;
    if (learned.contains(Step.API_DELETED)) {
      api = b(api).deleting(DELETION, 5).build();
    }
    if (learned.contains(Step.API_TERMINAL)) {
      api = finished(api);
    }
    PodRecord kubelet = null;
    if (!learned.contains(Step.KUBELET_DONE)) {
      kubelet = running;
    } else if (!kubeletForgets) {
      // The kubelet saw the deletion before it finished the pod.
      kubelet = finished(b(running).deleting(DELETION, 5).build());
    }
    Map<String, RuntimePod> runtime = new HashMap<>();
    if (!learned.contains(Step.RUNTIME_STOPPED)) {
      runtime.put(running.uid(), new RuntimePod(running.uid(), "shop", "cart-0", Set.of("app")));
    }
    Map<String, PodRecord> kubeletPods = new HashMap<>();
    if (kubelet != null) {
      kubeletPods.put(kubelet.uid(), kubelet);
    }
    return detector.detect(
        new ControlPlaneView(Map.of(api.uid(), api), now, true, false, null, "1", 0, 0),
        new KubeletView(kubeletPods, now),
        Optional.of(new RuntimeView(runtime, now)),
        now);
  }

  static PodRecord finished(PodRecord p) {
    return b(p).phase("Succeeded")
        .statusHash(45)
        .containers(List.of())
        .container("app", ContainerState.TERMINATED)
        .build();
  }

  static dev.stateprobe.view.PodRecordBuilder b(PodRecord p) {
    return dev.stateprobe.view.PodRecordBuilder.from(p);
  }

  static Map<DriftKind, Duration> defaultWindows() {
    Map<DriftKind, Duration> w = new EnumMap<>(DriftKind.class);
    for (DriftKind k : DriftKind.values()) {
      String d = k.defaultWindow();
      w.put(k, Duration.ofSeconds(Long.parseLong(d.substring(0, d.length() - 1))));
    }
    return w;
  }

  static <T> List<List<T>> permutations(List<T> items) {
    if (items.isEmpty()) {
      return List.of(List.of());
    }
    List<List<T>> out = new ArrayList<>();
    for (T first : items) {
      List<T> rest = new ArrayList<>(items);
      rest.remove(first);
      for (List<T> p : permutations(rest)) {
        List<T> one = new ArrayList<>();
        one.add(first);
        one.addAll(p);
        out.add(one);
      }
    }
    return out;
  }
}
