package dev.stateprobe.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class SimApiNodeSelectorTest {

  @Test
  void onlyNodeNameRequirementsAreTakenOutOfTheSelector() {
    SimApiNodeSelector s = SimApiNodeSelector.of("status.phase!=Succeeded,spec.nodeName=node-a");

    assertThat(s.requirements())
        .containsExactly(new SimApiNodeSelector.Requirement(true, "node-a"));
    assertThat(s.remainingFieldSelector()).isEqualTo("status.phase!=Succeeded");
    assertThat(s.rewriteQuery("fieldSelector=x&watch=true&resourceVersion=5"))
        .isEqualTo("fieldSelector=status.phase%21%3DSucceeded&watch=true&resourceVersion=5");
    assertThat(
            SimApiNodeSelector.of("spec.nodeName==node-a").rewriteQuery("fieldSelector=x&limit=5"))
        .isEqualTo("limit=5");
    assertThat(SimApiNodeSelector.of("metadata.name=p")).isNull();
    assertThat(SimApiNodeSelector.of(null)).isNull();
  }

  @Test
  void inequalityMatchesUnscheduledPods() {
    SimApiNodeSelector s = SimApiNodeSelector.of("spec.nodeName!=node-a");

    assertThat(s.matches(null)).isTrue();
    assertThat(s.matches("node-b")).isTrue();
    assertThat(s.matches("node-a")).isFalse();
    assertThat(SimApiNodeSelector.of("spec.nodeName=").matches(null)).isTrue();
  }

  private static String event(String type, String uid, String node) {
    return "{\"type\":\""
        + type
        + "\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"uid\":\""
        + uid
        + "\"},\"spec\":{"
        + (node == null ? "" : "\"nodeName\":\"" + node + "\"")
        + "}}}";
  }

  @Test
  void aSelectedWatchRetypesEventsForPodsEnteringAndLeavingTheSelection() {
    SimApiWatchListener w =
        new SimApiWatchListener(
            null,
            SimApiNodeSelector.of("spec.nodeName=node-a"),
            JsonMapper.builder().build(),
            ConcurrentHashMap.newKeySet(),
            false);

    List<String> out =
        java.util.stream.Stream.of(
                event("ADDED", "p", null), // pending: not selected
                event("MODIFIED", "p", "node-a"), // bound here: enters
                event("MODIFIED", "p", "node-a"),
                event("ADDED", "q", "node-b"),
                event("MODIFIED", "q", "node-b"),
                event("DELETED", "q", "node-b"),
                event("MODIFIED", "p", "node-b"), // leaves (cannot happen in Kubernetes)
                event("DELETED", "p", "node-b"))
            .map(w::filter)
            .toList();

    assertThat(out)
        .containsExactly(
            null,
            event("ADDED", "p", "node-a"),
            event("MODIFIED", "p", "node-a"),
            null,
            null,
            null,
            event("DELETED", "p", "node-b"),
            null);
  }
}
