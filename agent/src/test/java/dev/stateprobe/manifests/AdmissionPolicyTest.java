package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.manifests.AdmissionPolicyEvaluator.Decision;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The per-node admission policy (manifests/base/admissionpolicy.yaml), its CEL run by cel-java
 * against the admission requests the agent makes: for its own node (allowed), for another node
 * (denied, and the message names both), without a node name in its token (denied), and the same
 * requests from other users (not evaluated at all).
 */
// One instance for all tests: the policy is parsed and compiled once; no test changes it.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdmissionPolicyTest {
  private static final String AGENT = "system:serviceaccount:state-probe:state-probe";
  private static final String NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

  private final RepoFiles repo = new RepoFiles();
  private final Path file = repo.manifests().resolve("base/admissionpolicy.yaml");
  private final List<String> docs = repo.documents(file);
  private final AdmissionPolicyEvaluator policy =
      new AdmissionPolicyEvaluator(repo.yamlTree(docs.get(0), file));

  // ---- pods: DELETE only, judged on oldObject -------------------------------------------------

  @Test
  void theAgentDeletesAPodOnItsOwnNode() {
    Decision d = policy.evaluate(podDelete(agentOn("node-a"), "web-1"), null, pod("node-a"));
    assertTrue(d.applies());
    assertTrue(d.allowed(), d.message());
  }

  @Test
  void theAgentCannotDeleteAPodOnAnotherNode() {
    Decision d = policy.evaluate(podDelete(agentOn("node-a"), "web-1"), null, pod("node-b"));
    assertFalse(d.allowed());
    assertEquals(
        "state-probe on node node-a may delete only pods bound to that node, not shop/web-1",
        d.message());
  }

  @Test
  void theAgentCannotDeleteAPodBoundToNoNode() {
    Map<String, Object> pending = Map.of("metadata", Map.of("name", "web-1"), "spec", Map.of());
    assertFalse(policy.evaluate(podDelete(agentOn("node-a"), "web-1"), null, pending).allowed());
  }

  @Test
  void aTokenWithoutANodeNameIsRefused() {
    Map<String, Object> user = Map.of("username", AGENT, "groups", List.of());
    Decision d = policy.evaluate(podDelete(user, "web-1"), null, pod("node-a"));
    assertTrue(d.applies());
    assertFalse(d.allowed());
    assertTrue(d.message().contains(NODE_NAME_EXTRA), d.message());
    Map<String, Object> empty = agentWithExtra(Map.of(NODE_NAME_EXTRA, List.of()));
    assertFalse(policy.evaluate(podDelete(empty, "web-1"), null, pod("node-a")).allowed());
  }

  @Test
  void otherUsersAreNotEvaluated() {
    for (Map<String, Object> user :
        List.of(
            Map.<String, Object>of("username", "alice", "groups", List.of("system:masters")),
            // Another service account, with a node name in its token: still not ours.
            Map.<String, Object>of(
                "username",
                "system:serviceaccount:kube-system:some-controller",
                "extra",
                Map.of(NODE_NAME_EXTRA, List.of("node-a"))),
            // Same service-account name in another namespace.
            Map.<String, Object>of(
                "username",
                "system:serviceaccount:default:state-probe",
                "extra",
                Map.of(NODE_NAME_EXTRA, List.of("node-a"))))) {
      Decision d = policy.evaluate(podDelete(user, "web-1"), null, pod("node-b"));
      assertFalse(d.applies(), user.toString());
      assertTrue(d.allowed());
    }
  }

  // ---- ConsistencyRepairJobs: CREATE, UPDATE (status), DELETE ----------------------------------

  @Test
  void theAgentCreatesUpdatesAndDeletesItsOwnNodesRecords() {
    Map<String, Object> own = record("node-a", "node-a");
    assertTrue(policy.evaluate(crj(agentOn("node-a"), "CREATE", ""), own, null).allowed());
    assertTrue(policy.evaluate(crj(agentOn("node-a"), "UPDATE", "status"), own, own).allowed());
    Decision delete = policy.evaluate(crj(agentOn("node-a"), "DELETE", ""), null, own);
    assertTrue(delete.allowed(), delete.message());
  }

  @Test
  void theAgentCannotWriteAnotherNodesRecords() {
    Map<String, Object> other = record("node-b", "node-b");
    for (String op : List.of("CREATE", "UPDATE", "DELETE")) {
      Decision d =
          policy.evaluate(
              crj(agentOn("node-a"), op, op.equals("UPDATE") ? "status" : ""),
              op.equals("DELETE") ? null : other,
              op.equals("CREATE") ? null : other);
      assertFalse(d.allowed(), op);
      assertEquals(
          "state-probe on node node-a may write only the ConsistencyRepairJobs of that node, not"
              + " crj-1",
          d.message(),
          op);
    }
  }

  @Test
  void theAgentCannotTakeOverAnotherNodesRecordByRewritingIt() {
    Decision d =
        policy.evaluate(
            crj(agentOn("node-a"), "UPDATE", ""),
            record("node-a", "node-a"),
            record("node-b", "node-b"));
    assertFalse(d.allowed());
  }

  @Test
  void aRecordOfTheOwnNodeMustCarryTheOwnNodeLabel() {
    // The label is how an agent lists (and so garbage-collects) its records.
    assertFalse(
        policy
            .evaluate(crj(agentOn("node-a"), "CREATE", ""), record("node-a", "node-b"), null)
            .allowed());
    assertFalse(
        policy
            .evaluate(crj(agentOn("node-a"), "CREATE", ""), record("node-a", null), null)
            .allowed());
    // Labels.value hashes a node name longer than 63 characters; the policy leaves that label be.
    String longName = "n".repeat(64) + ".example.internal";
    assertTrue(
        policy
            .evaluate(
                crj(agentOn(longName), "CREATE", ""),
                record(longName, dev.stateprobe.repair.job.Labels.value(longName)),
                null)
            .allowed());
  }

  @Test
  void aPersonApprovingAnyRecordIsNotEvaluated() {
    Map<String, Object> approver = Map.of("username", "alice", "groups", List.of("sre"));
    Map<String, Object> r = record("node-b", "node-b");
    assertFalse(policy.evaluate(crj(approver, "UPDATE", ""), r, r).applies());
  }

  // ---- events.k8s.io Events: CREATE, UPDATE (patch) --------------------------------------------

  @Test
  void theAgentWritesEventsAsItsOwnNode() {
    Map<String, Object> onPod = event("node-a", "Pod", "web-1");
    Map<String, Object> onNode = event("node-a", "Node", "node-a");
    assertTrue(policy.evaluate(events(agentOn("node-a"), "CREATE"), onPod, null).allowed());
    assertTrue(policy.evaluate(events(agentOn("node-a"), "CREATE"), onNode, null).allowed());
    assertTrue(policy.evaluate(events(agentOn("node-a"), "UPDATE"), onPod, onPod).allowed());
  }

  @Test
  void theAgentCannotWriteEventsAsAnotherNodeOrAboutAnotherNode() {
    assertFalse(
        policy
            .evaluate(events(agentOn("node-a"), "CREATE"), event("node-b", "Pod", "x"), null)
            .allowed());
    assertFalse(
        policy
            .evaluate(events(agentOn("node-a"), "CREATE"), event("node-a", "Node", "node-b"), null)
            .allowed());
    assertFalse(
        policy
            .evaluate(
                events(agentOn("node-a"), "UPDATE"),
                event("node-a", "Pod", "x"),
                event("node-b", "Pod", "x"))
            .allowed());
  }

  // ---- the objects themselves --------------------------------------------------------------

  /**
   * The policy recognizes the agent's own writes by what the agent writes: the record label of
   * {@code repair.job.Labels} and the Event reportingInstance of {@code events.EventRecorder}.
   */
  @Test
  void thePolicyNamesWhatTheAgentWrites() throws ReflectiveOperationException {
    String text = repo.read(file);
    assertTrue(text.contains("'" + dev.stateprobe.repair.job.Labels.NODE + "'"), "record label");
    var field = dev.stateprobe.events.EventRecorder.class.getDeclaredField("CONTROLLER");
    field.setAccessible(true);
    String controller = (String) field.get(null);
    // EventRecorder sets reportingInstance CONTROLLER + "-" + nodeName.
    assertTrue(text.contains("'" + controller + "-' + variables.node"), "reportingInstance");
    assertEquals(
        "stateprobe.dev/agent-node-a", event("node-a", "Pod", "x").get("reportingInstance"));
  }

  @Test
  void thePolicyAndItsBindingAreAdmissionRegistrationV1AndDeny() {
    assertEquals(2, docs.size(), file + " holds the policy and its binding");
    ValidatingAdmissionPolicy vap = repo.serialization().unmarshal(docs.get(0));
    ValidatingAdmissionPolicyBinding binding = repo.serialization().unmarshal(docs.get(1));
    assertEquals("admissionregistration.k8s.io/v1", vap.getApiVersion());
    assertEquals("admissionregistration.k8s.io/v1", binding.getApiVersion());
    assertEquals("Fail", vap.getSpec().getFailurePolicy());
    assertEquals(vap.getMetadata().getName(), binding.getSpec().getPolicyName());
    assertEquals(List.of("Deny"), binding.getSpec().getValidationActions());
    assertEquals(null, binding.getSpec().getParamRef());
    assertEquals(null, binding.getSpec().getMatchResources(), "the policy decides what it matches");
  }

  @Test
  void theMatchConditionNamesTheAgentsServiceAccount() {
    ServiceAccount sa =
        repo.object(repo.manifests().resolve("base/serviceaccount.yaml"), ServiceAccount.class);
    String username =
        "system:serviceaccount:"
            + sa.getMetadata().getNamespace()
            + ":"
            + sa.getMetadata().getName();
    assertEquals(AGENT, username);
    ValidatingAdmissionPolicy vap = repo.serialization().unmarshal(docs.get(0));
    assertEquals(1, vap.getSpec().getMatchConditions().size());
    assertTrue(
        vap.getSpec().getMatchConditions().get(0).getExpression().contains("'" + username + "'"));
  }

  /**
   * Every write the ClusterRole grants is matched by the policy: a new write grant that the policy
   * does not cover would be cluster-wide again.
   */
  @Test
  void everyWriteTheClusterRoleGrantsIsMatched() {
    ClusterRole role =
        repo.object(repo.manifests().resolve("base/clusterrole.yaml"), ClusterRole.class);
    Map<String, String> operation =
        Map.of("create", "CREATE", "update", "UPDATE", "patch", "UPDATE", "delete", "DELETE");
    ValidatingAdmissionPolicy vap = repo.serialization().unmarshal(docs.get(0));
    Set<String> matched = new TreeSet<>();
    for (var rule : vap.getSpec().getMatchConstraints().getResourceRules()) {
      for (String g : rule.getApiGroups()) {
        for (String r : rule.getResources()) {
          for (String op : rule.getOperations()) {
            matched.add(g + "/" + r + ":" + op);
          }
        }
      }
    }
    Set<String> writes = new TreeSet<>();
    for (String grant : ClusterRoleGrants.of(role)) {
      String verb = grant.substring(grant.indexOf(':') + 1);
      if (operation.containsKey(verb)) {
        writes.add(grant.substring(0, grant.indexOf(':') + 1) + operation.get(verb));
      }
    }
    assertFalse(writes.isEmpty());
    writes.removeAll(matched);
    assertEquals(Set.of(), writes, "writes the ClusterRole grants but the policy does not match");
  }

  // ---- slot Leases of the cluster repair budget ------------------------------------------------

  @Test
  void theAgentTakesRenewsAndGivesBackASlotAsItsOwnNode() {
    Map<String, Object> user = agentOn("node-a");
    assertAllowed(
        leaseWrite(
            lease(user, "CREATE", "state-probe-slot-0"),
            null,
            slot("state-probe-slot-0", "node-a")));
    // An expired slot of another node is taken over by an update naming the own node.
    assertAllowed(
        leaseWrite(
            lease(user, "UPDATE", "state-probe-slot-3"),
            slot("state-probe-slot-3", "node-b"),
            slot("state-probe-slot-3", "node-a")));
    assertAllowed(
        leaseWrite(
            lease(user, "UPDATE", "state-probe-slot-3"),
            slot("state-probe-slot-3", "node-a"),
            slot("state-probe-slot-3", "node-a")));
    assertAllowed(
        leaseWrite(
            lease(user, "UPDATE", "state-probe-slot-3"),
            slot("state-probe-slot-3", "node-a"),
            slot("state-probe-slot-3", null)));
  }

  @Test
  void theAgentCannotWriteOtherLeasesNameAnotherHolderOrFreeAnotherNodesSlot() {
    Map<String, Object> user = agentOn("node-a");
    for (String name :
        List.of(
            "kube-scheduler", "state-probe-slot-", "state-probe-slot-01", "state-probe-slot-x")) {
      Decision d = leaseWrite(lease(user, "CREATE", name), null, slot(name, "node-a"));
      assertTrue(d.applies());
      assertFalse(d.allowed(), name);
    }
    Decision other =
        leaseWrite(
            lease(user, "CREATE", "state-probe-slot-1"),
            null,
            slot("state-probe-slot-1", "node-b"));
    assertFalse(other.allowed());
    assertEquals(
        "state-probe on node node-a may write only slot Leases (state-probe-slot-N) that it takes"
            + " or gives back, not state-probe-slot-1",
        other.message());
    assertFalse(
        leaseWrite(
                lease(user, "UPDATE", "state-probe-slot-1"),
                slot("state-probe-slot-1", "node-b"),
                slot("state-probe-slot-1", null))
            .allowed(),
        "freeing another node's slot");
    assertFalse(
        leaseWrite(
                lease(user, "UPDATE", "state-probe-slot-1"),
                slot("state-probe-slot-1", "node-a"),
                slot("state-probe-slot-1", "node-b"))
            .allowed(),
        "handing a slot to another node");
  }

  /** The Role's writes are matched too: a slot Lease write outside the policy would be free. */
  @Test
  void everyWriteTheSlotRoleGrantsIsMatched() {
    io.fabric8.kubernetes.api.model.rbac.Role role =
        repo.object(
            repo.manifests().resolve("base/role.yaml"),
            io.fabric8.kubernetes.api.model.rbac.Role.class);
    ValidatingAdmissionPolicy vap = repo.serialization().unmarshal(docs.get(0));
    Set<String> matched = new TreeSet<>();
    for (var rule : vap.getSpec().getMatchConstraints().getResourceRules()) {
      for (String g : rule.getApiGroups()) {
        for (String r : rule.getResources()) {
          matched.addAll(rule.getOperations().stream().map(op -> g + "/" + r + ":" + op).toList());
        }
      }
    }
    Map<String, String> operation =
        Map.of("create", "CREATE", "update", "UPDATE", "patch", "UPDATE", "delete", "DELETE");
    Set<String> writes = new TreeSet<>();
    for (var rule : role.getRules()) {
      for (String g : rule.getApiGroups()) {
        for (String r : rule.getResources()) {
          for (String v : rule.getVerbs()) {
            if (operation.containsKey(v)) {
              writes.add(g + "/" + r + ":" + operation.get(v));
            }
          }
        }
      }
    }
    assertEquals(
        Set.of("coordination.k8s.io/leases:CREATE", "coordination.k8s.io/leases:UPDATE"), writes);
    writes.removeAll(matched);
    assertEquals(Set.of(), writes);
  }

  /** A slot Lease write: the Lease before (null for a create) and after. */
  private Decision leaseWrite(Map<String, Object> request, Object before, Object after) {
    return policy.evaluate(request, after, before);
  }

  private static void assertAllowed(Decision d) {
    assertTrue(d.applies());
    assertTrue(d.allowed(), d.message());
  }

  private static Map<String, Object> lease(Map<String, Object> user, String op, String name) {
    return request(user, "coordination.k8s.io", "leases", "", op, "state-probe", name);
  }

  private static Map<String, Object> slot(String name, String holder) {
    Map<String, Object> spec = new HashMap<>();
    if (holder != null) {
      spec.put("holderIdentity", holder);
    }
    spec.put("leaseDurationSeconds", 150);
    return Map.of("metadata", Map.of("name", name, "namespace", "state-probe"), "spec", spec);
  }

  // ---- requests and objects, shaped as the API server hands them to CEL ----------------------

  static Map<String, Object> agentOn(String node) {
    return agentWithExtra(
        Map.of(
            NODE_NAME_EXTRA,
            List.of(node),
            "authentication.kubernetes.io/pod-name",
            List.of("state-probe-x1"),
            "authentication.kubernetes.io/credential-id",
            List.of("JTI=0f1e")));
  }

  private static Map<String, Object> agentWithExtra(Map<String, Object> extra) {
    return Map.of(
        "username",
        AGENT,
        "uid",
        "7d1c",
        "groups",
        List.of("system:serviceaccounts", "system:serviceaccounts:state-probe"),
        "extra",
        extra);
  }

  private static Map<String, Object> request(
      Map<String, Object> user,
      String group,
      String resource,
      String subResource,
      String op,
      String namespace,
      String name) {
    Map<String, Object> r = new HashMap<>();
    r.put("uid", "a1");
    r.put("kind", Map.of("group", group, "version", "v1", "kind", resource));
    r.put("resource", Map.of("group", group, "version", "v1", "resource", resource));
    r.put("subResource", subResource);
    r.put("operation", op);
    r.put("namespace", namespace);
    r.put("name", name);
    r.put("userInfo", user);
    r.put("dryRun", false);
    return r;
  }

  private static Map<String, Object> podDelete(Map<String, Object> user, String name) {
    return request(user, "", "pods", "", "DELETE", "shop", name);
  }

  static Map<String, Object> crj(Map<String, Object> user, String op, String sub) {
    return request(user, "stateprobe.dev", "consistencyrepairjobs", sub, op, "", "crj-1");
  }

  static Map<String, Object> events(Map<String, Object> user, String op) {
    return request(user, "events.k8s.io", "events", "", op, "shop", "web-1.17a");
  }

  private static Map<String, Object> pod(String node) {
    return Map.of(
        "metadata", Map.of("name", "web-1", "namespace", "shop"), "spec", Map.of("nodeName", node));
  }

  private static Map<String, Object> record(String node, String nodeLabel) {
    Map<String, Object> labels = new HashMap<>();
    labels.put("app.kubernetes.io/managed-by", "state-probe");
    if (nodeLabel != null) {
      labels.put("stateprobe.dev/node", nodeLabel);
    }
    return Map.of(
        "apiVersion",
        "stateprobe.dev/v1alpha1",
        "kind",
        "ConsistencyRepairJob",
        "metadata",
        Map.of("name", "crj-1", "labels", labels),
        "spec",
        Map.of("nodeName", node, "script", "remove-orphaned-sandbox"));
  }

  private static Map<String, Object> event(String reportingNode, String kind, String name) {
    return Map.of(
        "metadata",
        Map.of("name", "web-1.17a", "namespace", "shop"),
        "reportingController",
        "stateprobe.dev/agent",
        "reportingInstance",
        "stateprobe.dev/agent-" + reportingNode,
        "regarding",
        Map.of("kind", kind, "name", name),
        "reason",
        "DriftConfirmed");
  }
}
