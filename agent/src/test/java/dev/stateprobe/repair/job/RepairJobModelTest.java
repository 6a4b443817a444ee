package dev.stateprobe.repair.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RepairJobModelTest {
  private final KubernetesSerialization json = new KubernetesSerialization();

  @Test
  void serializesAsTheCrdSpellsIt() {
    String s = json.asJson(Jobs.full());
    @SuppressWarnings("unchecked")
    Map<String, Object> tree = json.unmarshal(s, Map.class);
    assertEquals("stateprobe.dev/v1alpha1", tree.get("apiVersion"));
    assertEquals("ConsistencyRepairJob", tree.get("kind"));
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) tree.get("spec");
    @SuppressWarnings("unchecked")
    Map<String, Object> drift = (Map<String, Object>) spec.get("drift");
    assertEquals("OrphanedPod", drift.get("kind"));
    assertEquals("2026-11-20T11:59:30Z", drift.get("confirmedAt"));
    assertEquals(
        Map.of("namespace", "shop", "name", "cart-7d9f", "uid", "uid-cart-7d9f"),
        drift.get("target"));
    assertEquals(false, spec.get("approved"));
    @SuppressWarnings("unchecked")
    Map<String, Object> status = (Map<String, Object>) tree.get("status");
    assertEquals("Succeeded", status.get("phase"));
    assertEquals("Resolved", status.get("verification"));
    assertEquals(2, status.get("attempts"));
    assertEquals("2026-11-20T12:01:03Z", status.get("finishedAt"));
    assertEquals(2, ((List<?>) status.get("history")).size());
    assertFalse(s.contains("null"), "nulls are left out: " + s);
  }

  @Test
  void roundTripsThroughJson() {
    ConsistencyRepairJob job = Jobs.full();
    ConsistencyRepairJob back = json.unmarshal(json.asJson(job), ConsistencyRepairJob.class);
    assertEquals(job.getSpec(), back.getSpec());
    assertEquals(job.getStatus(), back.getStatus());
    assertEquals(job.getMetadata().getName(), back.getMetadata().getName());
  }

  @Test
  void isClusterScopedWithTheCrdNames() {
    ConsistencyRepairJob job = new ConsistencyRepairJob();
    assertEquals("Cluster", job.getScope());
    assertEquals(
        "consistencyrepairjobs.stateprobe.dev",
        CustomResource.getCRDName(ConsistencyRepairJob.class));
    assertEquals(List.of("crj"), List.of(CustomResource.getShortNames(ConsistencyRepairJob.class)));
    assertEquals(
        List.of("stateprobe"), List.of(CustomResource.getCategories(ConsistencyRepairJob.class)));
    assertTrue(job.isServed() && job.isStorage());
  }

  @Test
  void unknownFieldsFromANewerAgentAreIgnored() {
    String s =
        json.asJson(Jobs.full())
            .replace("\"phase\":\"Succeeded\"", "\"phase\":\"Succeeded\",\"future\":1");
    assertEquals(
        Phase.SUCCEEDED, json.unmarshal(s, ConsistencyRepairJob.class).getStatus().phase());
  }
}
