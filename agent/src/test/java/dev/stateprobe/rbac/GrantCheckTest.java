package dev.stateprobe.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.stateprobe.rbac.GrantCheck.KubeletCall;
import dev.stateprobe.sim.SimApiRequest;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GrantCheckTest {
  private static final Map<String, String> NODES_PODS =
      Map.of("/nodes/pods:get", "the kubelet authorizes it");

  private static SimApiRequest call(
      String method, String path, String verb, String group, String resource, String sub) {
    return new SimApiRequest(method, path, "", verb, group, resource, sub, null, null, false, 200);
  }

  private static final SimApiRequest LIST_PODS =
      call("GET", "/api/v1/pods", "list", "", "pods", null);
  private static final SimApiRequest PUT_STATUS =
      call(
          "PUT",
          "/apis/stateprobe.dev/v1alpha1/consistencyrepairjobs/j/status",
          "update",
          "stateprobe.dev",
          "consistencyrepairjobs",
          "status");
  private static final KubeletCall KUBELET_PODS = new KubeletCall("GET", "/pods", true);

  @Test
  void aRoleThatMatchesTheCallsHasNoProblems() {
    GrantCheck.Result r =
        GrantCheck.check(
            Set.of(
                "/pods:list",
                "stateprobe.dev/consistencyrepairjobs/status:update",
                "/nodes/pods:get"),
            List.of(LIST_PODS, LIST_PODS, PUT_STATUS),
            List.of(KUBELET_PODS),
            NODES_PODS);
    assertEquals(List.of(), r.problems());
    assertEquals(2, r.apiUse().get("/pods:list").size());
    assertEquals(Map.of("/nodes/pods:get", 1L), r.kubeletUse());
  }

  @Test
  void aCallTheRoleLacksIsListedWithAnExample() {
    GrantCheck.Result r =
        GrantCheck.check(
            Set.of("/pods:list"), List.of(LIST_PODS, PUT_STATUS, PUT_STATUS), List.of(), Map.of());
    assertEquals(
        List.of(
            "call not granted: stateprobe.dev/consistencyrepairjobs/status:update (2 calls, e.g."
                + " PUT /apis/stateprobe.dev/v1alpha1/consistencyrepairjobs/j/status)"),
        r.problems());
  }

  @Test
  void aGrantNoCallUsesIsListed() {
    GrantCheck.Result r =
        GrantCheck.check(
            Set.of("/pods:list", "/pods:watch"), List.of(LIST_PODS), List.of(), Map.of());
    assertEquals(Set.of("/pods:watch"), r.unused());
    assertEquals(List.of("grant never used: /pods:watch"), r.problems());
  }

  @Test
  void anExceptionCountsAsUsedOnlyWhileTheKubeletServedACallThatNeedsIt() {
    GrantCheck.Result used =
        GrantCheck.check(Set.of("/nodes/pods:get"), List.of(), List.of(KUBELET_PODS), NODES_PODS);
    assertEquals(List.of(), used.problems());

    GrantCheck.Result idle =
        GrantCheck.check(
            Set.of("/nodes/pods:get"),
            List.of(),
            List.of(new KubeletCall("GET", "/pods", false)),
            NODES_PODS);
    assertEquals(
        List.of(
            "grant never used: /nodes/pods:get (an exception, the kubelet authorizes it, but the"
                + " kubelet served no call that needs it)"),
        idle.problems());
  }

  @Test
  void aKubeletGrantOutsideTheExceptionsIsUnused() {
    GrantCheck.Result r =
        GrantCheck.check(Set.of("/nodes/pods:get"), List.of(), List.of(KUBELET_PODS), Map.of());
    assertEquals(Set.of("/nodes/pods:get"), r.unused());
  }

  @Test
  void aKubeletCallNoGrantAdmitsIsListedWithWhatWouldAdmitIt() {
    GrantCheck.Result r =
        GrantCheck.check(
            Set.of(),
            List.of(),
            List.of(new KubeletCall("POST", "/exec/shop/web/app", true)),
            Map.of());
    assertEquals(
        List.of(
            "kubelet call not granted: POST /exec/shop/web/app needs one of [/nodes/proxy:create]"),
        r.problems());
  }

  @Test
  void discoveryNeedsNoGrantButOtherNonResourcePathsDo() {
    GrantCheck.Result r =
        GrantCheck.check(
            Set.of(),
            List.of(
                call("GET", "/version", "get", null, null, null),
                call("GET", "/apis/stateprobe.dev/v1alpha1", "get", null, null, null),
                call("GET", "/metrics", "get", null, null, null),
                call("POST", "/api", "post", null, null, null)),
            List.of(),
            Map.of());
    assertEquals(
        List.of(
            "non-resource call no default role grants: GET /metrics",
            "non-resource call no default role grants: POST /api"),
        r.problems());
  }
}
