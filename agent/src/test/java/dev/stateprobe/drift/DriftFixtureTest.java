package dev.stateprobe.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.view.ContainerState;
import dev.stateprobe.view.ContainerStatusRecord;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.PodRecordBuilder;
import dev.stateprobe.view.PodRef;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The detector on real kubelet captures, decoded by the real decoder. */
class DriftFixtureTest {

  static final PodJsonDecoder DECODER = new PodJsonDecoder();
  static final DriftDetector DETECTOR = new DriftDetector();
  static final String NODE_1_35 = "datagen-1-35";

  /** After both 1.35 captures (10:12–10:15 UTC) and after every timestamp in the others. */
  static final Instant NOW = Instant.parse("2026-06-26T10:20:00Z");

  static List<PodRecord> decode(String fixture) throws Exception {
    return DECODER.decodePodList(Fixtures.kubelet(fixture));
  }

  /**
   * What the API server would hold for a kubelet capture with no drift: the same records, with a
   * resourceVersion of its own (the kubelet keeps an older one), and each static pod replaced by a
   * mirror pod with a new UID whose config.mirror is the static pod's UID.
   */
  static List<PodRecord> apiViewOf(List<PodRecord> kubelet, String mirrorSource) {
    List<PodRecord> api = new ArrayList<>();
    for (PodRecord k : kubelet) {
      PodRecordBuilder b = PodRecordBuilder.from(k).resourceVersion("api-" + k.resourceVersion());
      if (k.isStatic()) {
        String mirrorUid =
            UUID.nameUUIDFromBytes(("mirror/" + k.uid()).getBytes(StandardCharsets.UTF_8))
                .toString();
        b.mirrorOf(k.uid(), mirrorUid)
            .configSource(mirrorSource)
            .creationTimestamp(NOW.minusSeconds(600));
      }
      api.add(b.build());
    }
    return api;
  }

  /** What the runtime runs when it agrees: each RUNNING container, under the kubelet's UID. */
  static List<RuntimePod> runtimeViewOf(List<PodRecord> kubelet) {
    List<RuntimePod> runtime = new ArrayList<>();
    for (PodRecord k : kubelet) {
      Set<String> running = new HashSet<>();
      for (ContainerStatusRecord c : k.containers()) {
        if (c.state() == ContainerState.RUNNING) {
          running.add(c.name());
        }
      }
      if (!running.isEmpty()) {
        runtime.add(new RuntimePod(k.uid(), k.namespace(), k.name(), running));
      }
    }
    return runtime;
  }

  static Map<String, PodRecord> byUid(List<PodRecord> pods) {
    Map<String, PodRecord> m = new LinkedHashMap<>();
    for (PodRecord p : pods) {
      if (m.put(p.uid(), p) != null) {
        throw new IllegalArgumentException("UID listed twice: " + p.uid());
      }
    }
    return m;
  }

  static List<Drift> detect(
      List<PodRecord> api, List<PodRecord> kubelet, Optional<List<RuntimePod>> runtime) {
    Map<String, RuntimePod> rt = new LinkedHashMap<>();
    runtime.ifPresent(list -> list.forEach(p -> rt.put(p.uid(), p)));
    return DETECTOR.detect(
        new ControlPlaneView(byUid(api), NOW, true, false, null, "1000", 0, 0),
        new KubeletView(byUid(kubelet), NOW),
        runtime.map(x -> new RuntimeView(rt, NOW)),
        NOW);
  }

  static Stream<Arguments> capturesAndMirrorSources() {
    // Real mirror pods copy config.source "file" from their static pod; "api" is what a mirror
    // would say if the annotation were not copied. Neither may make a mirror look static.
    return Stream.of(Fixtures.KUBELET_CAPTURES)
        .flatMap(f -> Stream.of(Arguments.of(f, "file"), Arguments.of(f, "api")));
  }

  @ParameterizedTest(name = "{0} (mirror source {1})")
  @MethodSource("capturesAndMirrorSources")
  void captureAgainstItsOwnApiViewHasNoDrift(String fixture, String mirrorSource) throws Exception {
    List<PodRecord> kubelet = decode(fixture);
    assertTrue(kubelet.size() >= 4, "capture decoded to " + kubelet.size() + " pods");
    assertTrue(kubelet.stream().noneMatch(PodRecord::deleting), "a capture pod is deleting");
    List<PodRecord> api = apiViewOf(kubelet, mirrorSource);

    assertEquals(List.of(), detect(api, kubelet, Optional.empty()));
    assertEquals(List.of(), detect(api, kubelet, Optional.of(runtimeViewOf(kubelet))));
  }

  @Test
  void derivedApiViewsReallyPairStaticPodsAndDuplicateNames() throws Exception {
    // Guards the test above against passing vacuously: it has mirrors to pair and the GKE
    // capture's two pods of one name.
    List<PodRecord> k135 = decode(Fixtures.K8S_1_35);
    assertEquals(4, k135.stream().filter(PodRecord::isStatic).count());
    List<PodRecord> api = apiViewOf(k135, "file");
    assertEquals(4, api.stream().filter(PodRecord::isMirror).count());
    Map<String, PodRecord> k135ByUid = byUid(k135);
    assertTrue(
        api.stream().filter(PodRecord::isMirror).noneMatch(p -> k135ByUid.containsKey(p.uid())));

    List<PodRecord> gke = decode(Fixtures.K8S_1_9_GKE);
    assertEquals(2, gke.stream().filter(p -> p.name().equals("fluentd-gcp-v2.0.10-9q9t4")).count());
    // Without the mirrors, each static pod is a MissingMirrorPod: the pairing is what the
    // zero above rests on.
    List<PodRecord> noMirrors = api.stream().filter(p -> !p.isMirror()).toList();
    assertEquals(
        k135.stream()
            .filter(PodRecord::isStatic)
            .<Drift>map(p -> new Drift.MissingMirrorPod(p.ref()))
            .sorted((a, b) -> a.key().compareTo(b.key()))
            .toList(),
        detect(noMirrors, k135, Optional.empty()));
  }

  /**
   * The kubelet's {@code /pods} and {@code kubectl get pods -o yaml} of the same 1.35 cluster,
   * taken minutes apart. Every difference between the two objects of each pod, found by comparing
   * the JSON field by field, and why none of them is drift:
   *
   * <ul>
   *   <li>metadata.resourceVersion: higher in the API dump for all 20 shared non-static pods. The
   *       kubelet's config merge copies spec, labels, annotations, deletion fields and status from
   *       each update but keeps the object it first stored, so its resourceVersion stays old. Never
   *       compared.
   *   <li>metadata.finalizers: the 4 Failed job pods and 2 Succeeded cronjob pods still carry
   *       {@code batch.kubernetes.io/job-tracking} in the kubelet's copy; the job controller
   *       removed it after they finished. Same reason (the kubelet does not copy finalizers), and
   *       finalizers are not part of the record.
   *   <li>metadata.managedFields: server-side bookkeeping, not part of the record.
   *   <li>the 4 static pods: the API has mirror pods with other UIDs whose config.mirror is the
   *       static UID; kube-controller-manager's config.seen differs between the two (10:12:13 on
   *       the kubelet, 10:12:09 on the mirror), which the decoder drops.
   *   <li>{@code scraper/e2e-container-pending}: unschedulable, no nodeName; the agent's informer
   *       selects {@code spec.nodeName}, so it never reaches the view.
   * </ul>
   *
   * Spec, labels, the other annotations and the digested status are identical for every pod: the
   * kubelet's copy had caught up with all status writes by the time of the capture.
   */
  @Test
  void realApiServerAndKubeletOfTheSameNodeAgree() throws Exception {
    List<PodRecord> kubelet = decode(Fixtures.K8S_1_35);
    List<PodRecord> apiAll = decode(Fixtures.API_1_35);
    List<PodRecord> api = apiAll.stream().filter(p -> NODE_1_35.equals(p.nodeName())).toList();
    assertEquals(25, apiAll.size());
    assertEquals(24, api.size());
    assertEquals(24, kubelet.size());

    // The pair is not trivially equal: the resourceVersions of all shared pods differ.
    Map<String, PodRecord> k = byUid(kubelet);
    List<PodRecord> shared = api.stream().filter(p -> k.containsKey(p.uid())).toList();
    assertEquals(20, shared.size());
    for (PodRecord a : shared) {
      assertNotEquals(a.resourceVersion(), k.get(a.uid()).resourceVersion(), a.name());
    }
    assertEquals(4, api.stream().filter(PodRecord::isMirror).count());

    assertEquals(List.of(), detect(api, kubelet, Optional.empty()));
    assertEquals(List.of(), detect(api, kubelet, Optional.of(runtimeViewOf(kubelet))));
  }

  @Test
  void unscheduledPodInTheDumpWouldBeUnknownToKubeletIfTheViewWereNotFiltered() throws Exception {
    // The one drift the raw dump holds: e2e-container-pending has no nodeName, so it is bound
    // to no node. It shows why the control-plane view must be filtered by spec.nodeName.
    List<PodRecord> kubelet = decode(Fixtures.K8S_1_35);
    List<PodRecord> apiAll = decode(Fixtures.API_1_35);
    assertEquals(
        List.of(
            new Drift.UnknownToKubelet(
                new PodRef(
                    "scraper", "e2e-container-pending", "90b2ad66-b670-40da-af18-73688a3e4654"))),
        detect(apiAll, kubelet, Optional.empty()));
  }

  @Test
  void kubeletMissingALaterStatusWriteIsStaleOnTheRealPair() throws Exception {
    // The same real pair with one API pod's status moved on (a status write whose watch event
    // the kubelet missed): the detector names the status, and nothing else.
    List<PodRecord> kubelet = decode(Fixtures.K8S_1_35);
    List<PodRecord> api =
        new ArrayList<>(
            decode(Fixtures.API_1_35).stream()
                .filter(p -> NODE_1_35.equals(p.nodeName()))
                .toList());
    PodRecord hpa =
        api.stream().filter(p -> p.name().startsWith("e2e-hpa-")).findFirst().orElseThrow();
    api.set(api.indexOf(hpa), PodRecordBuilder.from(hpa).statusHash(hpa.statusHash() + 1).build());
    assertEquals(
        List.of(new Drift.StaleKubeletView(hpa.ref(), List.of("status"))),
        detect(api, kubelet, Optional.empty()));
  }
}
