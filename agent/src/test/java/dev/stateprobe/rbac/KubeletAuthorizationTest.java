package dev.stateprobe.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class KubeletAuthorizationTest {
  @Test
  void podListsAreCheckedAsNodesPodsBeforeFallingBackToNodesProxy() {
    List<String> expected = List.of("/nodes/pods:get", "/nodes/proxy:get");
    assertEquals(expected, KubeletAuthorization.grantsFor("GET", "/pods"));
    assertEquals(expected, KubeletAuthorization.grantsFor("GET", "/pods/"));
    assertEquals(expected, KubeletAuthorization.grantsFor("GET", "/runningpods/"));
  }

  @Test
  void execAndEverythingWithoutItsOwnSubresourceIsNodesProxy() {
    assertEquals(
        List.of("/nodes/proxy:create"),
        KubeletAuthorization.grantsFor("POST", "/exec/shop/web/app"));
    assertEquals(List.of("/nodes/proxy:get"), KubeletAuthorization.grantsFor("GET", "/podsx"));
    assertEquals(List.of("/nodes/proxy:get"), KubeletAuthorization.grantsFor("GET", "/"));
  }

  @Test
  void statsMetricsAndLogsHaveDedicatedSubresourcesWithoutFallback() {
    assertEquals(
        List.of("/nodes/stats:get"), KubeletAuthorization.grantsFor("GET", "/stats/summary"));
    assertEquals(
        List.of("/nodes/metrics:get"), KubeletAuthorization.grantsFor("GET", "/metrics/cadvisor"));
    assertEquals(List.of("/nodes/log:get"), KubeletAuthorization.grantsFor("GET", "/logs/syslog"));
  }

  @Test
  void healthzIsCheckedFineGrainedFirst() {
    assertEquals(
        List.of("/nodes/healthz:get", "/nodes/proxy:get"),
        KubeletAuthorization.grantsFor("GET", "/healthz"));
  }

  @Test
  void anUnknownMethodIsRefusedByName() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> KubeletAuthorization.grantsFor("TRACE", "/pods"));
    assertEquals("no kubelet verb for HTTP method TRACE", e.getMessage());
  }
}
