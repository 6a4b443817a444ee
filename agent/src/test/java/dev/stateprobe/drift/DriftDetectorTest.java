package dev.stateprobe.drift;

import static dev.stateprobe.view.PodRecordBuilder.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stateprobe.drift.Drift.ContainerNotRunning;
import dev.stateprobe.drift.Drift.MissingMirrorPod;
import dev.stateprobe.drift.Drift.OrphanedPod;
import dev.stateprobe.drift.Drift.Source;
import dev.stateprobe.drift.Drift.StaleKubeletView;
import dev.stateprobe.drift.Drift.StuckTerminating;
import dev.stateprobe.drift.Drift.TerminalButRunning;
import dev.stateprobe.drift.Drift.UidMismatch;
import dev.stateprobe.drift.Drift.UnknownToKubelet;
import dev.stateprobe.view.ContainerState;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.PodRecordBuilder;
import dev.stateprobe.view.PodRef;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DriftDetectorTest {

  static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");
  static final Instant PAST = NOW.minusSeconds(10);
  static final Instant FUTURE = NOW.plusSeconds(10);

  // A few pods reused by the cases; each case copies and changes what it is about.
  static final PodRecord WEB = pod("web").running("app", "sidecar").build();
  static final PodRecord DB = pod("data", "db-0").running("db").build();
  static final PodRecord ETCD_STATIC =
      pod("kube-system", "etcd-node-1").staticPod("h-etcd").running("etcd").build();
  static final PodRecord ETCD_MIRROR =
      pod("kube-system", "etcd-node-1")
          .mirrorOf("h-etcd", "uid-etcd-mirror")
          .running("etcd")
          .build();
  static final PodRecord JOB_DONE =
      pod("job-done").phase("Succeeded").controllerKind("Job").build();
  static final PodRecord JOB_FAILED =
      pod("job-failed").phase("Failed").controllerKind("Job").build();

  record Case(
      String name,
      List<PodRecord> api,
      List<PodRecord> kubelet,
      List<RuntimePod> runtime,
      Instant now,
      List<Drift> expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A case under construction; {@link #expect} finishes it. */
  static final class CaseBuilder {
    private final String name;
    private List<PodRecord> api = List.of();
    private List<PodRecord> kubelet = List.of();
    private List<RuntimePod> runtime;
    private Instant now = NOW;

    CaseBuilder(String name) {
      this.name = name;
    }

    CaseBuilder api(PodRecord... pods) {
      this.api = List.of(pods);
      return this;
    }

    CaseBuilder kubelet(PodRecord... pods) {
      this.kubelet = List.of(pods);
      return this;
    }

    /** Both views hold these same pods. */
    CaseBuilder both(PodRecord... pods) {
      return api(pods).kubelet(pods);
    }

    CaseBuilder runtime(RuntimePod... pods) {
      this.runtime = List.of(pods);
      return this;
    }

    CaseBuilder at(Instant now) {
      this.now = now;
      return this;
    }

    Case expect(Drift... expected) {
      return new Case(name, api, kubelet, runtime, now, List.of(expected));
    }
  }

  static CaseBuilder c(String name) {
    return new CaseBuilder(name);
  }

  static RuntimePod rt(PodRecord p, String... running) {
    return new RuntimePod(p.uid(), p.namespace(), p.name(), Set.of(running));
  }

  static PodRecordBuilder b(PodRecord p) {
    return PodRecordBuilder.from(p);
  }

  /** Everything running as both views and the runtime say: the baseline of runtime cases. */
  static RuntimePod[] allRunning() {
    return new RuntimePod[] {rt(WEB, "app", "sidecar"), rt(DB, "db"), rt(ETCD_STATIC, "etcd")};
  }

  static Stream<Case> cases() {
    PodRecord webOld = b(WEB).uid("uid-web-old").build();
    PodRecord webStuck = b(WEB).deleting(PAST).build();
    PodRecord webDeletingLater = b(WEB).deleting(FUTURE).build();
    PodRecord stray = pod("stray").build();

    return Stream.of(
        // --- baseline ---
        c("emptyViewsHaveNoDrift").expect(),
        c("identicalViewsHaveNoDrift")
            .api(WEB, DB, ETCD_MIRROR, JOB_DONE, JOB_FAILED)
            .kubelet(WEB, DB, ETCD_STATIC, JOB_DONE, JOB_FAILED)
            .expect(),
        c("identicalViewsWithMatchingRuntimeHaveNoDrift")
            .api(WEB, DB, ETCD_MIRROR, JOB_DONE)
            .kubelet(WEB, DB, ETCD_STATIC, JOB_DONE)
            .runtime(allRunning())
            .expect(),

        // --- (a) static pods ---
        c("staticPodWithoutMirrorIsMissingMirrorPod")
            .api(WEB)
            .kubelet(WEB, ETCD_STATIC)
            .expect(new MissingMirrorPod(ETCD_STATIC.ref())),
        c("staticPodWithMirrorIsNoDrift").api(ETCD_MIRROR).kubelet(ETCD_STATIC).expect(),
        c("deletingStaticPodWithoutMirrorIsNoDrift")
            .kubelet(b(ETCD_STATIC).deleting(PAST).build())
            .expect(),
        c("staticPodIsNotComparedWithItsMirror")
            .api(b(ETCD_MIRROR).specHash(1).statusHash(2).labelsHash(3).build())
            .kubelet(ETCD_STATIC)
            .expect(),
        c("staticPodIsNeverAnOrphanEvenWhenTerminal")
            .kubelet(b(ETCD_STATIC).phase("Failed").build())
            .expect(new MissingMirrorPod(ETCD_STATIC.ref())),
        c("mirrorPodIsNotAUidMismatchOfItsStaticPod")
            .api(ETCD_MIRROR)
            .kubelet(ETCD_STATIC)
            .runtime(rt(ETCD_STATIC, "etcd"))
            .expect(),
        c("mirrorPodWithoutItsStaticPodIsNoDrift").api(WEB, ETCD_MIRROR).kubelet(WEB).expect(),
        c("staticPodNotRunningInRuntimeIsContainerNotRunningOnItsMirror")
            .api(ETCD_MIRROR)
            .kubelet(ETCD_STATIC)
            .runtime()
            .expect(new ContainerNotRunning(ETCD_MIRROR.ref(), List.of("etcd"))),

        // --- (b) same UID: stale copies and stuck deletions ---
        c("resourceVersionIsNeverCompared")
            .api(b(WEB).resourceVersion("900").build())
            .kubelet(b(WEB).resourceVersion("12").build())
            .expect(),
        c("differentLabelsAreStale")
            .api(WEB)
            .kubelet(b(WEB).labelsHash(1).build())
            .expect(new StaleKubeletView(WEB.ref(), List.of("metadata.labels"))),
        c("differentAnnotationsAreStale")
            .api(WEB)
            .kubelet(b(WEB).annotationsHash(1).build())
            .expect(new StaleKubeletView(WEB.ref(), List.of("metadata.annotations"))),
        c("differentSpecIsStale")
            .api(WEB)
            .kubelet(b(WEB).specHash(1).build())
            .expect(new StaleKubeletView(WEB.ref(), List.of("spec"))),
        c("differentStatusIsStale")
            .api(WEB)
            .kubelet(b(WEB).statusHash(1).build())
            .expect(new StaleKubeletView(WEB.ref(), List.of("status"))),
        c("deletionTheKubeletMissedIsStaleBeforeTheGracePeriodEnds")
            .api(webDeletingLater)
            .kubelet(WEB)
            .expect(new StaleKubeletView(WEB.ref(), List.of("metadata.deletionTimestamp"))),
        c("deletionOnlyTheKubeletHasIsStale")
            .api(WEB)
            .kubelet(webDeletingLater)
            .expect(new StaleKubeletView(WEB.ref(), List.of("metadata.deletionTimestamp"))),
        c("differentDeletionTimestampsAreStale")
            .api(webDeletingLater)
            .kubelet(b(WEB).deleting(FUTURE.plusSeconds(1)).build())
            .expect(new StaleKubeletView(WEB.ref(), List.of("metadata.deletionTimestamp"))),
        c("staleFieldsAreNamedInFixedOrder")
            .api(webDeletingLater)
            .kubelet(b(WEB).statusHash(1).specHash(1).annotationsHash(1).labelsHash(1).build())
            .expect(
                new StaleKubeletView(
                    WEB.ref(),
                    List.of(
                        "metadata.deletionTimestamp",
                        "metadata.labels",
                        "metadata.annotations",
                        "spec",
                        "status"))),
        c("deletingPodWithinGracePeriodIsNoDrift").both(webDeletingLater).expect(),
        c("deletingPodAtExactlyItsDeletionTimestampIsNotStuck")
            .both(b(WEB).deleting(NOW).build())
            .expect(),
        c("deletingPodPastItsGracePeriodStillListedIsStuckTerminating")
            .both(webStuck)
            .expect(new StuckTerminating(WEB.ref(), PAST, Source.KUBELET)),
        c("deletedPodWhoseKubeletCopyIsTerminalIsHeldByAFinalizerNotStuck")
            .api(webStuck)
            .kubelet(b(webStuck).phase("Failed").build())
            .expect(),
        c("deletedPodWhoseKubeletCopyIsTerminalButStillRunsIsStuckInRuntime")
            .api(webStuck)
            .kubelet(b(webStuck).phase("Failed").build())
            .runtime(rt(WEB, "app"))
            .expect(new StuckTerminating(WEB.ref(), PAST, Source.RUNTIME)),
        c("stuckTerminatingPodIsNotAlsoStale")
            .api(webStuck)
            .kubelet(b(WEB).statusHash(1).specHash(2).build())
            .expect(new StuckTerminating(WEB.ref(), PAST, Source.KUBELET)),

        // --- (c) same name, other UID ---
        c("recreatedPodIsOneUidMismatch")
            .api(WEB)
            .kubelet(webOld)
            .expect(new UidMismatch(WEB.ref(), "uid-web-old")),
        c("recreatedPodIsUidMismatchEvenWhenTheOldCopyIsTerminal")
            .api(WEB)
            .kubelet(b(webOld).phase("Succeeded").build())
            .expect(new UidMismatch(WEB.ref(), "uid-web-old")),
        c("twoOldCopiesOfARecreatedPodAreOneUidMismatchAndOneOrphan")
            .api(WEB)
            .kubelet(webOld, b(WEB).uid("uid-web-older").build())
            .expect(
                new OrphanedPod(b(WEB).uid("uid-web-older").build().ref(), Source.KUBELET),
                new UidMismatch(WEB.ref(), "uid-web-old")),
        c("aLiveOldCopyStandsForTheNameBeforeAFinishedOne")
            .api(WEB)
            .kubelet(b(webOld).phase("Succeeded").build(), b(WEB).uid("uid-web-z").build())
            .expect(new UidMismatch(WEB.ref(), "uid-web-z")),
        c("oldCopyListedBesideTheRecreatedPodIsOrphanedNotAMismatch")
            .api(WEB)
            .kubelet(WEB, webOld)
            .expect(new OrphanedPod(webOld.ref(), Source.KUBELET)),
        c("finishedOldCopyListedBesideTheRecreatedPodIsNoDrift")
            .api(WEB)
            .kubelet(WEB, b(webOld).phase("Succeeded").build())
            .expect(),
        c("sameNameInAnotherNamespaceIsNoUidMismatch")
            .api(WEB)
            .kubelet(WEB, b(webOld).namespace("other").build())
            .expect(new OrphanedPod(new PodRef("other", "web", "uid-web-old"), Source.KUBELET)),
        c("aMirrorPodWithTheSameNameIsNoUidMismatch")
            .api(ETCD_MIRROR)
            .kubelet(
                ETCD_STATIC,
                b(ETCD_MIRROR).uid("uid-api-etcd").configMirror(null).configSource("api").build())
            .expect(
                new OrphanedPod(
                    new PodRef("kube-system", "etcd-node-1", "uid-api-etcd"), Source.KUBELET)),

        // --- (d) orphans the kubelet lists ---
        c("podTheApiLacksIsOrphaned")
            .api(WEB)
            .kubelet(WEB, stray)
            .expect(new OrphanedPod(stray.ref(), Source.KUBELET)),
        c("deletingPodTheApiLacksIsStillOrphaned")
            .kubelet(b(stray).deleting(PAST).build())
            .expect(new OrphanedPod(stray.ref(), Source.KUBELET)),
        c("succeededPodTheApiLacksIsNotOrphaned")
            .kubelet(b(stray).phase("Succeeded").build())
            .expect(),
        c("failedPodTheApiLacksIsNotOrphaned").kubelet(b(stray).phase("Failed").build()).expect(),

        // --- API pods the kubelet does not list ---
        c("livePodTheKubeletLacksIsUnknownToKubelet")
            .api(WEB, DB)
            .kubelet(WEB)
            .expect(new UnknownToKubelet(DB.ref())),
        c("pendingPodTheKubeletLacksIsUnknownToKubelet")
            .api(b(DB).phase("Pending").containers(List.of()).build())
            .expect(new UnknownToKubelet(DB.ref())),
        c("terminalPodsTheKubeletLacksAreNotUnknown").api(JOB_DONE, JOB_FAILED).expect(),
        c("deletingPodTheKubeletLacksIsNotUnknown").api(webStuck).expect(),
        c("emptyKubeletViewMakesEveryLivePodUnknown")
            .api(
                WEB,
                DB,
                ETCD_MIRROR,
                JOB_DONE,
                b(webDeletingLater).name("web-going").uid("uid-web-going").build())
            .expect(new UnknownToKubelet(DB.ref()), new UnknownToKubelet(WEB.ref())),

        // --- runtime: pods the API knows ---
        c("terminalPodWithRunningContainersIsTerminalButRunning")
            .both(JOB_FAILED)
            .runtime(rt(JOB_FAILED, "worker"))
            .expect(new TerminalButRunning(JOB_FAILED.ref(), "Failed")),
        c("succeededPodWithRunningContainersIsTerminalButRunning")
            .api(JOB_DONE)
            .runtime(rt(JOB_DONE, "worker"))
            .expect(new TerminalButRunning(JOB_DONE.ref(), "Succeeded")),
        c("terminalPodWithOnlyASandboxIsNotTerminalButRunning")
            .both(JOB_FAILED)
            .runtime(rt(JOB_FAILED))
            .expect(),
        c("terminalPodWithoutRuntimeViewIsNoDrift").both(JOB_FAILED).expect(),
        c("deletedPodOnlyTheRuntimeRunsIsStuckTerminatingInRuntime")
            .api(webStuck)
            .runtime(rt(WEB, "app"))
            .expect(new StuckTerminating(WEB.ref(), PAST, Source.RUNTIME)),
        c("deletedPodBothStillHaveIsStuckTerminatingInKubeletOnly")
            .both(webStuck)
            .runtime(rt(WEB, "app"))
            .expect(new StuckTerminating(WEB.ref(), PAST, Source.KUBELET)),
        c("deletedPodInRuntimeWithinGracePeriodIsNoDrift")
            .api(webDeletingLater)
            .runtime(rt(WEB, "app"))
            .expect(),
        c("deletedPodInRuntimeAtExactlyItsDeletionTimestampIsNoDrift")
            .api(b(WEB).deleting(NOW).build())
            .runtime(rt(WEB, "app"))
            .expect(),
        c("terminalDeletedPodStillRunningIsBothTerminalButRunningAndStuck")
            .api(b(JOB_FAILED).deleting(PAST).build())
            .runtime(rt(JOB_FAILED, "worker"))
            .expect(
                new StuckTerminating(JOB_FAILED.ref(), PAST, Source.RUNTIME),
                new TerminalButRunning(JOB_FAILED.ref(), "Failed")),

        // --- runtime: pods the API lacks ---
        c("runtimePodNobodyKnowsIsOrphanedInRuntime")
            .both(WEB)
            .runtime(rt(WEB, "app", "sidecar"), rt(stray, "x"))
            .expect(new OrphanedPod(stray.ref(), Source.RUNTIME)),
        c("runtimeSandboxNobodyKnowsIsOrphanedInRuntime")
            .runtime(rt(stray))
            .expect(new OrphanedPod(stray.ref(), Source.RUNTIME)),
        c("runtimePodOfAStaticPodIsNoOrphan")
            .api(ETCD_MIRROR)
            .kubelet(ETCD_STATIC)
            .runtime(rt(ETCD_STATIC, "etcd"))
            .expect(),
        c("runtimePodOfAStaticPodWithMissingMirrorIsOnlyMissingMirror")
            .kubelet(ETCD_STATIC)
            .runtime(rt(ETCD_STATIC, "etcd"))
            .expect(new MissingMirrorPod(ETCD_STATIC.ref())),
        c("runtimePodMatchingAMirrorTheKubeletLacksIsNoOrphan")
            .api(ETCD_MIRROR)
            .runtime(rt(ETCD_STATIC, "etcd"))
            .expect(),
        c("runtimePodTheKubeletListsAsOrphanIsReportedOnceFromKubelet")
            .kubelet(stray)
            .runtime(rt(stray, "x"))
            .expect(new OrphanedPod(stray.ref(), Source.KUBELET)),
        c("runtimePodOfARecreatedPodIsOnlyTheUidMismatch")
            .api(WEB)
            .kubelet(webOld)
            .runtime(rt(webOld, "app"))
            .expect(new UidMismatch(WEB.ref(), "uid-web-old")),
        // Finished in the kubelet, still running, owned by nobody: an orphan, from the runtime.
        c("runtimePodOfATerminalKubeletCopyTheApiLacksIsOrphanedInRuntime")
            .kubelet(b(stray).phase("Succeeded").build())
            .runtime(rt(stray, "x"))
            .expect(new OrphanedPod(stray.ref(), Source.RUNTIME)),
        c("sandboxOfATerminalKubeletCopyTheApiLacksIsNoDrift")
            .kubelet(b(stray).phase("Succeeded").build())
            .runtime(rt(stray))
            .expect(),

        // --- ContainerNotRunning ---
        c("containersTheRuntimeDoesNotRunAreNamedInStatusOrder")
            .both(pod("multi").running("c", "a", "b").build())
            .runtime(rt(pod("multi").build(), "a"))
            .expect(new ContainerNotRunning(pod("multi").build().ref(), List.of("c", "b"))),
        c("podTheRuntimeLacksHasAllRunningContainersNotRunning")
            .both(WEB)
            .runtime()
            .expect(new ContainerNotRunning(WEB.ref(), List.of("app", "sidecar"))),
        c("waitingAndTerminatedContainersAreNotExpectedToRun")
            .both(
                b(WEB)
                    .containers(List.of())
                    .container("init", ContainerState.TERMINATED)
                    .container("app", ContainerState.WAITING)
                    .container("unknown", ContainerState.UNKNOWN)
                    .build())
            .runtime()
            .expect(),
        c("terminalPodIsNotContainerNotRunning")
            .both(b(JOB_FAILED).running("worker").build())
            .runtime()
            .expect(),
        c("deletingPodIsNotContainerNotRunning").both(webDeletingLater).runtime().expect(),
        c("podTheKubeletLacksIsUnknownNotContainerNotRunning")
            .api(WEB)
            .runtime()
            .expect(new UnknownToKubelet(WEB.ref())),
        c("mirrorPodWithoutStaticPodIsNotContainerNotRunning").api(ETCD_MIRROR).runtime().expect(),
        c("containerNotRunningNeedsTheRuntimeView").both(WEB).expect(),
        c("runtimeUnderAnotherUidDoesNotCountForContainerNotRunning")
            .api(WEB)
            .kubelet(WEB)
            .runtime(rt(webOld, "app", "sidecar"))
            .expect(
                new ContainerNotRunning(WEB.ref(), List.of("app", "sidecar")),
                new OrphanedPod(webOld.ref(), Source.RUNTIME)),

        // --- the whole result ---
        c("resultIsOneDriftPerKeySortedByKind")
            .api(WEB, DB, b(JOB_DONE).build())
            .kubelet(b(WEB).labelsHash(0).build(), ETCD_STATIC, stray)
            .runtime(rt(WEB, "app", "sidecar"), rt(JOB_DONE, "w"), rt(ETCD_STATIC, "etcd"))
            .expect(
                new MissingMirrorPod(ETCD_STATIC.ref()),
                new OrphanedPod(stray.ref(), Source.KUBELET),
                new StaleKubeletView(WEB.ref(), List.of("metadata.labels")),
                new TerminalButRunning(JOB_DONE.ref(), "Succeeded"),
                new UnknownToKubelet(DB.ref())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void detects(Case c) {
    List<Drift> actual = detect(c);
    assertEquals(c.expected(), actual);
  }

  @Test
  void resultIsSortedByKeyAndUniquePerKey() {
    List<Drift> drifts = cases().flatMap(c -> detect(c).stream()).toList();
    for (Case c : cases().toList()) {
      List<DriftKey> keys = detect(c).stream().map(Drift::key).toList();
      List<DriftKey> sorted = keys.stream().sorted().distinct().toList();
      assertEquals(sorted, keys, c.name());
    }
    // The table exercises every kind, and both sources of the kinds that have one.
    assertEquals(Set.of(DriftKind.values()), Set.copyOf(drifts.stream().map(Drift::kind).toList()));
  }

  static List<Drift> detect(Case c) {
    ControlPlaneView api =
        new ControlPlaneView(byUid(c.api()), c.now(), true, false, null, "1000", 0, 0);
    KubeletView kubelet = new KubeletView(byUid(c.kubelet()), c.now());
    Optional<RuntimeView> runtime =
        c.runtime() == null
            ? Optional.empty()
            : Optional.of(new RuntimeView(runtimeByUid(c.runtime()), c.now()));
    return new DriftDetector().detect(api, kubelet, runtime, c.now());
  }

  static Map<String, PodRecord> byUid(List<PodRecord> pods) {
    Map<String, PodRecord> m = new LinkedHashMap<>();
    for (PodRecord p : pods) {
      if (m.put(p.uid(), p) != null) {
        throw new IllegalArgumentException("test case lists UID twice: " + p.uid());
      }
    }
    return m;
  }

  static Map<String, RuntimePod> runtimeByUid(List<RuntimePod> pods) {
    Map<String, RuntimePod> m = new LinkedHashMap<>();
    for (RuntimePod p : pods) {
      m.put(p.uid(), p);
    }
    return m;
  }
}
