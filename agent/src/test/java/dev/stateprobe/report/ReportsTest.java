package dev.stateprobe.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.PodRecordBuilder;
import dev.stateprobe.view.PodRef;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportsTest {
  private final Reports reports = new Reports();
  private final Instant t0 = Instant.parse("2026-11-26T10:00:00Z");

  @Test
  void driftsHaveTheDocumentedShape() {
    TrackedDrift orphan =
        new TrackedDrift(
            new Drift.OrphanedPod(new PodRef("default", "web-1", "u-1"), Drift.Source.KUBELET),
            t0.minusSeconds(65),
            t0.minusSeconds(5),
            4);
    TrackedDrift suspected =
        new TrackedDrift(new Drift.UnknownToKubelet(new PodRef("ns", "p", "u-2")), t0, null, 1);
    assertThat(reports.drifts("n1", true, t0, List.of(orphan, suspected)))
        .isEqualTo(
            "{\"node\":\"n1\",\"trusted\":true,\"observedAt\":\"2026-11-26T10:00:00Z\",\"drifts\":["
                + "{\"kind\":\"OrphanedPod\",\"state\":\"confirmed\",\"namespace\":\"default\",\"name\":\"web-1\","
                + "\"uid\":\"u-1\",\"firstObservedAt\":\"2026-11-26T09:58:55Z\",\"confirmedAt\":\"2026-11-26T09:59:55Z\",\"observations\":4,\"detail\":\"kubelet"
                + " lists it; API server has no pod with this"
                + " UID\",\"policy\":null,\"level\":\"Strict\"},"
                + "{\"kind\":\"UnknownToKubelet\",\"state\":\"suspected\",\"namespace\":\"ns\",\"name\":\"p\","
                + "\"uid\":\"u-2\",\"firstObservedAt\":\"2026-11-26T10:00:00Z\",\"confirmedAt\":null,\"observations\":1,\"detail\":\"API"
                + " server binds it to this node; kubelet does not list"
                + " it\",\"policy\":null,\"level\":\"Strict\"}]}");
  }

  @Test
  void eachDriftNamesItsPolicyAndLevel() {
    TrackedDrift d =
        new TrackedDrift(new Drift.UnknownToKubelet(new PodRef("ns", "p", "u-2")), t0, null, 1);
    dev.stateprobe.policy.PodPolicy critical =
        dev.stateprobe.policy.PodPolicy.of(
            java.util.Optional.of(
                new dev.stateprobe.policy.ConsistencyPolicy(
                    "payments",
                    "1",
                    java.util.Set.of(),
                    java.util.Optional.empty(),
                    dev.stateprobe.policy.ConsistencyLevel.CRITICAL,
                    dev.stateprobe.policy.ConsistencyPolicy.Overrides.NONE,
                    "cluster")),
            java.time.Duration.ofSeconds(5));
    assertThat(reports.drifts("n1", true, t0, List.of(d), x -> critical))
        .endsWith(
            "\"observations\":1,\"detail\":\"API server binds it to this node; kubelet does"
                + " not list it\",\"policy\":\"payments\",\"level\":\"Critical\"}]}");
  }

  @Test
  void beforeTheFirstCycleThereIsNoObservationTime() {
    assertThat(reports.drifts("n1", false, null, List.of()))
        .isEqualTo("{\"node\":\"n1\",\"trusted\":false,\"observedAt\":null,\"drifts\":[]}");
  }

  @Test
  void aScriptGetsTheEntryPlusNodeAndJob() {
    TrackedDrift d =
        new TrackedDrift(
            new Drift.MissingMirrorPod(new PodRef("kube-system", "etcd-n1", "h1")), t0, t0, 3);
    assertThat(reports.scriptDrift("n1", "crj-x", d))
        .startsWith("{\"kind\":\"MissingMirrorPod\",\"state\":\"confirmed\"")
        .endsWith(",\"node\":\"n1\",\"job\":\"crj-x\"}");
  }

  @Test
  void detailTextIsEscaped() {
    TrackedDrift d =
        new TrackedDrift(
            new Drift.ContainerNotRunning(new PodRef("a", "b", "c"), List.of("we\"ird")),
            t0,
            null,
            1);
    assertThat(reports.drifts("n1", true, t0, List.of(d))).contains("we\\\"ird");
  }

  private static final PodRecord WEB = PodRecordBuilder.pod("web").build();
  private static final PodRecord STATIC =
      PodRecordBuilder.pod("kube-system", "etcd-n1").staticPod("h1").build();
  private static final PodRecord MIRROR =
      PodRecordBuilder.pod("kube-system", "etcd-n1")
          .mirrorOf("h1", "mirror-uid")
          .annotationsHash(99)
          .build();

  @Test
  void agreeingViewsHaveEqualChecksumsDespiteMirrorUidsAndOldResourceVersions() {
    PodRecord kubeletWeb = PodRecordBuilder.from(WEB).resourceVersion("old").build();
    assertThat(Reports.checksum(List.of(WEB, MIRROR)))
        .isEqualTo(Reports.checksum(List.of(STATIC, kubeletWeb)))
        .hasSize(16);
  }

  @Test
  void everyComparedFieldChangesTheChecksum() {
    String base = Reports.checksum(List.of(WEB));
    assertThat(
            List.of(
                PodRecordBuilder.from(WEB).labelsHash(1).build(),
                PodRecordBuilder.from(WEB).annotationsHash(1).build(),
                PodRecordBuilder.from(WEB).specHash(1).build(),
                PodRecordBuilder.from(WEB).statusHash(1).build(),
                PodRecordBuilder.from(WEB).deleting(Instant.parse("2026-11-26T10:00:00Z")).build(),
                PodRecordBuilder.from(WEB).uid("other").build()))
        .allSatisfy(p -> assertThat(Reports.checksum(List.of(p))).isNotEqualTo(base));
    assertThat(Reports.checksum(List.of(WEB, MIRROR))).isNotEqualTo(Reports.checksum(List.of(WEB)));
    assertThat(Reports.checksum(List.of(MIRROR, WEB)))
        .isEqualTo(Reports.checksum(List.of(WEB, MIRROR)));
  }
}
