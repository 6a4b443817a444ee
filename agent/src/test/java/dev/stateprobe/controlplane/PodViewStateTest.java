package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every trust signal of the view, transition by transition. */
class PodViewStateTest {
  private static final Instant T0 = Instant.parse("2026-11-26T12:00:00Z");
  private final TestClock clock = new TestClock(T0);
  private final PodViewState state = new PodViewState(clock);

  private static PodRecord pod(String name, String uid, String rv) throws Exception {
    String json =
        """
        {"metadata":{"namespace":"ns","name":"%s","uid":"%s","resourceVersion":"%s",
          "creationTimestamp":"2026-11-26T11:00:00Z"},
         "spec":{"nodeName":"node-a","containers":[{"name":"main","image":"busybox"}]},
         "status":{"phase":"Running"}}
        """
            .formatted(name, uid, rv);
    return new PodJsonDecoder().decodePod(json.getBytes(StandardCharsets.UTF_8));
  }

  private static Map<String, PodRecord> byUid(PodRecord... pods) {
    Map<String, PodRecord> m = new HashMap<>();
    for (PodRecord p : pods) {
      m.put(p.uid(), p);
    }
    return m;
  }

  private ControlPlaneView view() {
    return state.snapshot(clock.instant());
  }

  @Test
  void beforeTheFirstListNothingIsSyncedAndNothingIsReListing() {
    state.listStarted();
    ControlPlaneView v = view();
    assertThat(v.synced()).isFalse();
    assertThat(v.relisting()).isFalse();
    assertThat(v.podsByUid()).isEmpty();
    assertThat(state.firstSync().toCompletableFuture()).isNotDone();
  }

  @Test
  void theFirstSyncIsAListAndAWatchAfterItAndTheGapBetweenIsNotSyncedRatherThanReListing()
      throws Exception {
    state.listStarted();
    state.listed(byUid(pod("a", "u1", "5")), "10");
    // Not yet the first sync: nothing is lost, the view has not started; the agent runs an extra
    // cycle when the first sync completes.
    assertThat(state.firstSync().toCompletableFuture()).isNotDone();
    assertThat(view().synced()).isFalse();
    assertThat(view().relisting()).isFalse();
    assertThat(view().podsByUid()).containsOnlyKeys("u1");
    assertThat(view().resourceVersion()).isEqualTo("10");

    state.watchOpened();
    assertThat(state.firstSync().toCompletableFuture()).isCompleted();
    ControlPlaneView v = view();
    assertThat(v.synced()).isTrue();
    assertThat(v.relisting()).isFalse();
    assertThat(v.relists()).isZero();
    assertThat(v.lastRelistAt()).isNull();
    assertThat(v.watchRestarts()).isZero();
    assertThat(v.podsByUid()).containsOnlyKeys("u1");
  }

  @Test
  void eventsMoveTheRecordsAndTheResourceVersion() throws Exception {
    state.listed(byUid(pod("a", "u1", "5")), "10");
    state.watchOpened();

    state.put(pod("b", "u2", "11"), "11");
    state.remove("u1", "12");
    state.at("15");

    ControlPlaneView v = view();
    assertThat(v.podsByUid()).containsOnlyKeys("u2");
    assertThat(v.resourceVersion()).isEqualTo("15");
  }

  @Test
  void aClosedWatchReadsAsReListingAndItsSuccessorCountsAsARestart() throws Exception {
    state.listed(byUid(pod("a", "u1", "5")), "10");
    state.watchOpened();

    state.watchClosed();
    assertThat(view().relisting()).isTrue();
    assertThat(view().watchRestarts()).isZero();

    state.watchOpened();
    assertThat(view().relisting()).isFalse();
    assertThat(view().watchRestarts()).isEqualTo(1);
    assertThat(view().relists()).isZero();
  }

  @Test
  void aReListIsReListingUntilItCompletesThenCountedAtTheClocksTime() throws Exception {
    state.listed(byUid(pod("a", "u1", "5")), "10");
    state.watchOpened();
    clock.advance(Duration.ofSeconds(7));

    state.listStarted();
    state.watchOpened(); // a streaming re-list is a watch too
    ControlPlaneView during = view();
    assertThat(during.relisting()).isTrue();
    assertThat(during.podsByUid()).containsOnlyKeys("u1");

    state.listed(byUid(pod("b", "u2", "20")), "21");
    ControlPlaneView after = view();
    assertThat(after.relisting()).isFalse();
    assertThat(after.relists()).isEqualTo(1);
    assertThat(after.lastRelistAt()).isEqualTo(T0.plusSeconds(7));
    assertThat(after.podsByUid()).containsOnlyKeys("u2");
    assertThat(after.resourceVersion()).isEqualTo("21");
    assertThat(state.relists()).isEqualTo(1);
  }

  @Test
  void snapshotsAreImmutableCopies() throws Exception {
    state.listed(byUid(pod("a", "u1", "5")), "10");
    ControlPlaneView before = view();
    state.put(pod("b", "u2", "11"), "11");
    assertThat(before.podsByUid()).containsOnlyKeys("u1");
    assertThat(view().podsByUid()).containsOnlyKeys("u1", "u2");
  }
}
