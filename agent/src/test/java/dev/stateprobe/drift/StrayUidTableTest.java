package dev.stateprobe.drift;

import static dev.stateprobe.view.PodRecordBuilder.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stateprobe.drift.Drift.ContainerNotRunning;
import dev.stateprobe.drift.Drift.OrphanedPod;
import dev.stateprobe.drift.Drift.Source;
import dev.stateprobe.drift.Drift.StaleKubeletView;
import dev.stateprobe.drift.Drift.UidMismatch;
import dev.stateprobe.drift.Drift.UnknownToKubelet;
import dev.stateprobe.view.ContainerState;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The stray-UID rule of {@link DriftDetector}'s Javadoc, over every combination of the three views
 * for two UIDs of one namespace/name: per UID, the API server has it or not, the kubelet lists it
 * live, finished or not at all, the runtime runs its containers, only its sandbox, or nothing. Each
 * row's expected drifts come from {@link #expected}, which is the written rule and nothing else; a
 * second check counts, for every stray UID, the drifts that account for it.
 *
 * <p>Rows where the API server has both UIDs under one name cannot happen in a cluster; they stay
 * in the product because the detector is total and the rule still says what they are.
 */
class StrayUidTableTest {

  static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");
  static final String NS = "shop";
  static final String NAME = "web";

  /** The old UID sorts first, as "the first by UID" in the rule. */
  static final List<String> UIDS = List.of("uid-a", "uid-b");

  enum Kubelet {
    LIVE,
    FINISHED,
    ABSENT
  }

  enum Runtime {
    RUNS,
    SANDBOX_ONLY,
    NOTHING
  }

  /** What the three views hold of one UID. */
  record Views(boolean api, Kubelet kubelet, Runtime runtime) {
    @Override
    public String toString() {
      return (api ? "api" : "-")
          + "/kubelet:"
          + kubelet.name().toLowerCase()
          + "/runtime:"
          + runtime.name().toLowerCase();
    }
  }

  record Row(Views a, Views b) {
    Views of(String uid) {
      return uid.equals(UIDS.get(0)) ? a : b;
    }

    @Override
    public String toString() {
      return UIDS.get(0) + "=" + a + " " + UIDS.get(1) + "=" + b;
    }
  }

  static Stream<Row> rows() {
    List<Views> each = new ArrayList<>();
    for (boolean api : new boolean[] {true, false}) {
      for (Kubelet k : Kubelet.values()) {
        for (Runtime r : Runtime.values()) {
          each.add(new Views(api, k, r));
        }
      }
    }
    List<Row> rows = new ArrayList<>();
    for (Views a : each) {
      for (Views b : each) {
        rows.add(new Row(a, b));
      }
    }
    return rows.stream();
  }

  @Test
  void theTableIsTheWholeCrossProduct() {
    assertEquals(18 * 18, rows().count());
    assertEquals(rows().count(), rows().distinct().count());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void detectorFollowsTheWrittenRule(Row row) {
    assertEquals(expected(row), detect(row));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void everyStrayUidIsAccountedForByExactlyOneDrift(Row row) {
    List<Drift> drifts = detect(row);
    for (String uid : UIDS) {
      Views v = row.of(uid);
      boolean stray = !v.api() && (v.kubelet() != Kubelet.ABSENT || v.runtime() != Runtime.NOTHING);
      if (!stray) {
        continue;
      }
      List<Drift> accounts =
          drifts.stream()
              .filter(
                  d ->
                      switch (d) {
                        case OrphanedPod o -> o.target().uid().equals(uid);
                        case UidMismatch m -> m.kubeletUid().equals(uid);
                        default -> false;
                      })
              .toList();
      boolean finishedAndIdle = v.kubelet() == Kubelet.FINISHED && v.runtime() != Runtime.RUNS;
      if (finishedAndIdle && accounts.stream().noneMatch(d -> d instanceof UidMismatch)) {
        // The one exception: a finished copy nothing runs, unless it stands for a recreation.
        assertEquals(List.of(), accounts, uid + " in " + drifts);
      } else {
        assertEquals(1, accounts.size(), uid + " in " + drifts);
      }
    }
  }

  /** The rule, as DriftDetector's Javadoc and README's drift table write it, for one name. */
  static List<Drift> expected(Row row) {
    List<Drift> out = new ArrayList<>();
    List<String> apiUids = UIDS.stream().filter(u -> row.of(u).api()).toList();
    List<String> strayListed =
        UIDS.stream()
            .filter(u -> !row.of(u).api() && row.of(u).kubelet() != Kubelet.ABSENT)
            .toList();
    // Rule 1: the API's pod of the name (the first by UID) is not listed, a stray copy is.
    String apiForName = apiUids.isEmpty() ? null : apiUids.get(0);
    String mismatched = null;
    if (apiForName != null
        && row.of(apiForName).kubelet() == Kubelet.ABSENT
        && !strayListed.isEmpty()) {
      mismatched =
          strayListed.stream()
              .filter(u -> row.of(u).kubelet() == Kubelet.LIVE)
              .findFirst()
              .orElse(strayListed.get(0));
      out.add(new UidMismatch(ref(apiForName), mismatched));
    }
    for (String u : UIDS) {
      Views v = row.of(u);
      if (v.api()) {
        // The ordinary same-UID rules: an API pod that is live and running one container.
        if (v.kubelet() == Kubelet.ABSENT) {
          if (!u.equals(apiForName) || mismatched == null) {
            out.add(new UnknownToKubelet(ref(u)));
          }
        } else {
          if (v.kubelet() == Kubelet.FINISHED) {
            out.add(new StaleKubeletView(ref(u), List.of("status")));
          }
          if (v.runtime() != Runtime.RUNS) {
            out.add(new ContainerNotRunning(ref(u), List.of("app")));
          }
        }
        continue;
      }
      if (u.equals(mismatched)) {
        continue; // rule 1 accounts for it
      }
      if (v.kubelet() == Kubelet.LIVE) {
        out.add(new OrphanedPod(ref(u), Source.KUBELET)); // rule 2
      } else if (v.kubelet() == Kubelet.FINISHED && v.runtime() == Runtime.RUNS) {
        out.add(new OrphanedPod(ref(u), Source.RUNTIME)); // rule 3, finished copy
      } else if (v.kubelet() == Kubelet.ABSENT && v.runtime() != Runtime.NOTHING) {
        out.add(new OrphanedPod(ref(u), Source.RUNTIME)); // rule 3, unlisted
      }
      // rule 4: finished, nothing runs: no drift
    }
    Map<DriftKey, Drift> sorted = new TreeMap<>();
    out.forEach(d -> sorted.put(d.key(), d));
    assertEquals(out.size(), sorted.size(), "the rule gave two drifts one key");
    return List.copyOf(sorted.values());
  }

  static dev.stateprobe.view.PodRef ref(String uid) {
    return new dev.stateprobe.view.PodRef(NS, NAME, uid);
  }

  static List<Drift> detect(Row row) {
    Map<String, PodRecord> api = new HashMap<>();
    Map<String, PodRecord> kubelet = new HashMap<>();
    Map<String, RuntimePod> runtime = new HashMap<>();
    for (String u : UIDS) {
      Views v = row.of(u);
      PodRecord live = pod(NS, NAME).uid(u).running("app").build();
      if (v.api()) {
        api.put(u, live);
      }
      switch (v.kubelet()) {
        case LIVE -> kubelet.put(u, live);
        case FINISHED ->
            kubelet.put(
                u,
                pod(NS, NAME)
                    .uid(u)
                    .phase("Failed")
                    .statusHash(45)
                    .container("app", ContainerState.TERMINATED)
                    .build());
        case ABSENT -> {}
      }
      switch (v.runtime()) {
        case RUNS -> runtime.put(u, new RuntimePod(u, NS, NAME, Set.of("app")));
        case SANDBOX_ONLY -> runtime.put(u, new RuntimePod(u, NS, NAME, new HashSet<>()));
        case NOTHING -> {}
      }
    }
    return new DriftDetector()
        .detect(
            new ControlPlaneView(api, NOW, true, false, null, "1", 0, 0),
            new KubeletView(kubelet, NOW),
            Optional.of(new RuntimeView(runtime, NOW)),
            NOW);
  }
}
