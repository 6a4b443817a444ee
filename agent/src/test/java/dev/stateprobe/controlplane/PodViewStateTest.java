package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PodViewStateTest {
  private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final PodJsonDecoder decoder = new PodJsonDecoder();
  private final TestClock clock = new TestClock(T0);
  private final PodViewState state = new PodViewState(decoder, serialization, clock, "node-a");

  private static Pod pod(String name, String uid, String rv, String label) {
    return new PodBuilder()
        .withApiVersion("v1")
        .withKind("Pod")
        .withNewMetadata()
        .withNamespace("ns")
        .withName(name)
        .withUid(uid)
        .withResourceVersion(rv)
        .withCreationTimestamp("2026-11-26T11:00:00Z")
        .addToLabels("app", label)
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-a")
        .addNewContainer()
        .withName("main")
        .withImage("busybox")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .endStatus()
        .build();
  }

  private PodRecord decoded(Pod p) throws Exception {
    return decoder.decodePod(
        serialization.asJson(p).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private void initialList(Pod... pods) {
    state.onBeforeList(null);
    for (Pod p : pods) {
      state.onAdd(p);
    }
    state.onList("10", pods.length == 0);
  }

  @Test
  void aSnapshotDoesNotChangeWhenTheStateDoes() throws Exception {
    Pod a = pod("a", "uid-a", "5", "one");
    initialList(a);
    ControlPlaneView first = state.snapshot(T0, true, 0);

    state.onUpdate(a, pod("a", "uid-a", "11", "two"));
    state.onAdd(pod("b", "uid-b", "12", "one"));
    ControlPlaneView second = state.snapshot(T0.plusSeconds(1), true, 0);

    assertThat(first.podsByUid()).containsOnlyKeys("uid-a");
    assertThat(first.podsByUid().get("uid-a")).isEqualTo(decoded(a));
    assertThat(first.resourceVersion()).isEqualTo("10");
    assertThat(second.podsByUid()).containsOnlyKeys("uid-a", "uid-b");
    assertThat(second.podsByUid().get("uid-a").labelsHash())
        .isNotEqualTo(first.podsByUid().get("uid-a").labelsHash());
    assertThat(second.resourceVersion()).isEqualTo("12");
    assertThatThrownBy(() -> first.podsByUid().put("x", first.podsByUid().get("uid-a")))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void theFirstListSyncsWithoutCountingAsARelist() {
    ControlPlaneView before = state.snapshot(T0, false, 0);
    initialList(pod("a", "uid-a", "5", "one"));
    ControlPlaneView after = state.snapshot(T0, true, 0);

    assertThat(before.synced()).isFalse();
    assertThat(before.relisting()).isFalse();
    assertThat(after.synced()).isTrue();
    assertThat(after.relisting()).isFalse();
    assertThat(after.relists()).isZero();
    assertThat(after.lastRelistAt()).isNull();
    assertThat(after.resourceVersion()).isEqualTo("10");
  }

  @Test
  void aRelistIsVisibleWhileItRunsAndCountedWhenItEnds() {
    initialList(pod("a", "uid-a", "5", "one"), pod("b", "uid-b", "6", "one"));
    clock.advance(Duration.ofSeconds(42));

    state.onBeforeList("10");
    ControlPlaneView during = state.snapshot(T0, true, 0);
    state.onUpdate(pod("a", "uid-a", "5", "one"), pod("a", "uid-a", "15", "two"));
    // What fabric8 sends for a key the re-list no longer has: the stored skeleton.
    state.onDelete(
        new PodBuilder()
            .withNewMetadata()
            .withUid("uid-b")
            .withResourceVersion("6")
            .endMetadata()
            .build(),
        true);
    state.onList("20", false);
    ControlPlaneView after = state.snapshot(T0, true, 3);

    assertThat(during.relisting()).isTrue();
    assertThat(during.relists()).isZero();
    assertThat(after.relisting()).isFalse();
    assertThat(after.relists()).isEqualTo(1);
    assertThat(after.lastRelistAt()).isEqualTo(T0.plusSeconds(42));
    assertThat(after.resourceVersion()).isEqualTo("20");
    assertThat(after.podsByUid()).containsOnlyKeys("uid-a");
    assertThat(after.watchRestarts()).isEqualTo(3);
  }

  @Test
  void aSyncedViewWithoutAnOpenWatchSaysItIsRelisting() {
    initialList(pod("a", "uid-a", "5", "one"));

    assertThat(state.snapshot(T0, false, 0).relisting()).isTrue();
    assertThat(state.snapshot(T0, true, 0).relisting()).isFalse();
  }

  @Test
  void anUpdateToAnotherUidReplacesTheOldRecord() {
    initialList(pod("a", "uid-a", "5", "one"));

    state.onUpdate(pod("a", "uid-a", "5", "one"), pod("a", "uid-a2", "11", "one"));

    assertThat(state.snapshot(T0, true, 0).podsByUid()).containsOnlyKeys("uid-a2");
  }

  @Test
  void aWatchDeleteRemovesTheRecordAndMovesTheResourceVersion() {
    initialList(pod("a", "uid-a", "5", "one"), pod("b", "uid-b", "6", "one"));

    state.onDelete(pod("b", "uid-b", "13", "one"), false);

    ControlPlaneView v = state.snapshot(T0, true, 0);
    assertThat(v.podsByUid()).containsOnlyKeys("uid-a");
    assertThat(v.resourceVersion()).isEqualTo("13");
  }

  @Test
  void anUndecodablePodIsCountedAndKeepsItsLastGoodRecord() throws Exception {
    Pod good = pod("a", "uid-a", "5", "one");
    initialList(good);
    Pod bad = pod("a", "uid-a", "11", "two");
    bad.getMetadata().setCreationTimestamp("yesterday");

    state.onUpdate(good, bad);
    state.onUpdate(bad, bad);
    state.onAdd(withoutName(pod("c", "uid-c", "12", "one")));

    ControlPlaneView v = state.snapshot(T0, true, 0);
    assertThat(state.decodeFailures()).isEqualTo(3);
    assertThat(v.podsByUid()).containsOnlyKeys("uid-a");
    assertThat(v.podsByUid().get("uid-a")).isEqualTo(decoded(good));
  }

  private static Pod withoutName(Pod p) {
    p.getMetadata().setName(null);
    return p;
  }
}
