package dev.stateprobe.rbac;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.image.ScriptUserland;
import dev.stateprobe.manifests.ClusterRoleGrants;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.sim.FakeKubelet;
import dev.stateprobe.sim.SimApiRequest;
import dev.stateprobe.sim.SimApiServer;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Holds {@code manifests/base/clusterrole.yaml} to what a running agent really calls: the real
 * agent ({@link AgentRuntime}, {@code REPAIR_MODE=on}, the shipped catalog and scripts) runs
 * against the simulated API server and the fake kubelet through scenarios that reach every code
 * path that talks to the API server, the simulated API server records each request with the
 * attributes authorization sees (verb, API group, resource, subresource), and the test fails
 * listing (a) every call the role does not grant and (b) every grant no call used, minus the
 * documented {@link #NOT_OBSERVABLE} exceptions.
 *
 * <p>The repair scripts call the API server themselves, with the agent's token: the shipped scripts
 * run for real (real curl and jq against the simulated API server), with fakes only for what needs
 * a node ({@code crictl}, {@code nsenter}, {@code systemctl}).
 *
 * <p>What each grant is observed through:
 *
 * <ul>
 *   <li>pods list, watch: the agent's informer (field selector {@code spec.nodeName});
 *   <li>pods get: revalidation before each repair (fabric8), and recreate-controlled-pod.sh (curl);
 *   <li>pods delete: recreate-controlled-pod.sh and force-delete-stuck-pod.sh (curl, UID
 *       precondition);
 *   <li>nodes get: the pause annotation before each repair, the Node's UID for owner references;
 *   <li>events create, get, patch: DriftConfirmed and a repeat of it for the same pod (a series);
 *       the get is the look-up of a predecessor's series before an (object, reason)'s first Event;
 *   <li>consistencyrepairjobs create, get, list, delete: a new record, adopting an existing one and
 *       refreshing approvals, start-up and garbage collection, garbage collection after {@code
 *       CRJ_TTL};
 *   <li>consistencyrepairjobs/status update: every phase change and verification;
 *   <li>the namespaced Role {@code manifests/base/role.yaml}, leases list, create, update (named
 *       slots only): the cluster repair budget reads the slots, creates a slot Lease the first
 *       time, and takes, renews and gives back a slot by update. The calls must stay in the Role's
 *       namespace and name only the Role's slots.
 *   <li>consistencypolicies list, watch: the agent's one cluster-wide policy list/watch.
 * </ul>
 */
class RbacIT {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final Path CLUSTER_ROLE = ROOT.resolve("manifests/base/clusterrole.yaml");
  static final Path NODES_PROXY_ROLE =
      ROOT.resolve("manifests/components/nodes-proxy/clusterrole.yaml");
  static final Path SLOT_ROLE = ROOT.resolve("manifests/base/role.yaml");
  static final Path CRD = ROOT.resolve("manifests/crds/consistencyrepairjobs.stateprobe.dev.yaml");
  static final Path CATALOG = ROOT.resolve("repair-scripts/catalog.yaml");

  /** The repair-exec tests' fakes; curl is not taken: the scripts' API calls must be real. */
  static final Path FAKEBIN = Path.of("src/test/resources/repair/fakebin").toAbsolutePath();

  static final List<String> NODE_TOOLS = List.of("crictl", "nsenter", "systemctl");
  static final String NODE = "node-a";
  static final String NS = "shop";
  static final String TOKEN = "agent-service-account-token";
  static final String SANDBOX = "5a".repeat(32);
  static final String HOLD = "stateprobe.test/until-the-kubelet-confirms";

  /**
   * Grants the agent uses where the simulated API server cannot see it, and why.
   *
   * <p>{@code nodes/pods get}: the agent reads {@code GET /pods} and {@code GET /runningpods/} from
   * the kubelet on port 10250 directly, not through the API server. The kubelet authenticates the
   * bearer token (TokenReview) and then asks the API server with a SubjectAccessReview whether that
   * user may "get nodes/pods" (fine-grained kubelet authorization, GA in 1.36; see {@link
   * KubeletAuthorization}), falling back to "get nodes/proxy". That review is the kubelet's
   * request, made with the kubelet's credentials about the agent's, so it never appears among the
   * agent's requests; and the fake kubelet checks only the token and makes no review. The test
   * still requires the use: the fake kubelet must have served the agent authorized requests that
   * the kubelet's own mapping turns into exactly these grants.
   */
  static final Map<String, String> NOT_OBSERVABLE =
      Map.of(
          "/nodes/pods:get",
          "authorized by the kubelet through a SubjectAccessReview, not by the API server");

  @TempDir Path temp;
  private final JumpClock clock = new JumpClock();
  private SimApiServer sim;
  private KubernetesClient cluster;
  private Vertx vertx;
  private FakeKubelet kubelet;
  private AgentRuntime agent;
  private Path toolLog;

  @BeforeEach
  void setUp() throws Exception {
    sim = new SimApiServer().start();
    cluster = sim.client();
    try (InputStream in = Files.newInputStream(CRD)) {
      CustomResourceDefinition crd =
          cluster.apiextensions().v1().customResourceDefinitions().load(in).item();
      cluster.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    }
    cluster
        .nodes()
        .resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build())
        .create();
    vertx = Vertx.vertx();
    kubelet = new FakeKubelet(vertx, TOKEN);
    kubelet.start().await();
    toolLog = temp.resolve("node-tools.log");
  }

  @AfterEach
  void tearDown() {
    if (agent != null) {
      agent.close();
    }
    if (kubelet != null) {
      kubelet.close();
    }
    if (vertx != null) {
      vertx.close().await();
    }
    if (sim != null) {
      sim.close();
    }
  }

  @Test
  void theClusterRoleGrantsExactlyWhatTheAgentAndItsScriptsCall() throws Exception {
    Pod web = create(runningPod("web-7d9f-x2x7q", true));
    kubelet.putPod(served(web));
    startAgent();
    // Trusted, and the repair controller has read this node's records back (list).
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> trusted() && called("stateprobe.dev/consistencyrepairjobs:list"));

    // ContainerNotRunning: recreate-controlled-pod GETs the pod and DELETEs it (curl). The kubelet
    // keeps listing the deleted pod, so the same pod drifts again as OrphanedPod: a second
    // DriftConfirmed for it joins the first Event's series (PATCH), and remove-orphaned-sandbox
    // runs (fake crictl).
    kubelet.stopSandbox(uid(web));
    awaitRecord("recreate-controlled-pod", uid(web), Phase.SUCCEEDED);
    await().atMost(Duration.ofSeconds(20)).until(() -> called("events.k8s.io/events:patch"));
    // The pod was repaired a moment ago: the per-target cooldown (10 minutes) holds the next
    // script back until it has passed.
    clock.jump(Duration.ofMinutes(11));
    // The node's side of the repair: once the sandbox is removed, the kubelet lists it no more.
    // Promptly, since verification gives the drift only a few cycles to go.
    awaitNodeReacts(() -> toolCalls().contains(List.of("crictl", "rmp", SANDBOX)));
    kubelet.removePod(uid(web));
    awaitRecord("remove-orphaned-sandbox", uid(web), Phase.SUCCEEDED);
    awaitNoDrift();

    // StuckTerminating: force-delete-stuck-pod is manual. The agent records it Pending; a person
    // approves; the agent's next approval refresh GETs the record and the script DELETEs the pod.
    Pod stuck = terminating("batch-28934-q7m2x");
    await().atMost(Duration.ofSeconds(10)).until(() -> apiViewHas(uid(stuck)));
    kubelet.putPod(served(stuck));
    ConsistencyRepairJob pending = awaitRecord("force-delete-stuck-pod", uid(stuck), Phase.PENDING);
    approve(pending);
    clock.jump(Duration.ofSeconds(31));
    // The node's side: the kubelet stops the pod and the API server ends its deletion.
    awaitNodeReacts(() -> agentCalls().stream().anyMatch(r -> isPodDelete(r, stuck)));
    kubelet.removePod(uid(stuck));
    finishDeletion(stuck);
    awaitRecord("force-delete-stuck-pod", uid(stuck), Phase.SUCCEEDED);
    await().atMost(Duration.ofSeconds(10)).until(() -> !apiViewHas(uid(stuck)));
    awaitNoDrift();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                records().stream()
                    .allMatch(j -> j.statusOrPending().verification() == Verification.RESOLVED));

    // Garbage collection: an hour later every finished record is past CRJ_TTL and deleted.
    clock.jump(Duration.ofMinutes(61));
    await().atMost(Duration.ofSeconds(20)).until(() -> records().isEmpty());
    agent.close();
    agent = null;

    Set<String> granted = new TreeSet<>(grants(CLUSTER_ROLE));
    Role slots = slotRole();
    granted.addAll(roleGrants(slots));
    GrantCheck.Result result = check(granted);
    System.out.println("RbacIT: " + result.summary());
    assertEquals(List.of(), result.problems(), () -> failure(CLUSTER_ROLE, result));
    assertLeaseCallsWithinTheRole(slots);
  }

  /**
   * The slot Role is namespaced and names its slots: every Lease call must be in its namespace, and
   * every call that names a Lease (update) must name one of the Role's slots.
   */
  private void assertLeaseCallsWithinTheRole(Role role) {
    List<SimApiRequest> leaseCalls =
        agentCalls().stream().filter(r -> "leases".equals(r.resource())).toList();
    assertTrue(
        leaseCalls.stream().anyMatch(r -> r.verb().equals("update")),
        "no slot was taken or given back: " + leaseCalls);
    Set<String> named = new TreeSet<>();
    for (PolicyRule rule : role.getRules()) {
      named.addAll(rule.getResourceNames());
    }
    for (SimApiRequest r : leaseCalls) {
      assertEquals(role.getMetadata().getNamespace(), r.namespace(), r.toString());
      if (r.verb().equals("update") || r.verb().equals("get") || r.verb().equals("patch")) {
        assertTrue(named.contains(r.name()), r.name() + " is not named by " + SLOT_ROLE);
      }
    }
  }

  private Role slotRole() throws IOException {
    try (InputStream in = Files.newInputStream(SLOT_ROLE)) {
      return cluster.getKubernetesSerialization().unmarshal(in, Role.class);
    }
  }

  /** A Role flattened like the ClusterRole; its resourceNames are checked apart. */
  private static Set<String> roleGrants(Role role) {
    Set<String> grants = new TreeSet<>();
    for (PolicyRule rule : role.getRules()) {
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            grants.add(group + "/" + resource + ":" + verb);
          }
        }
      }
    }
    return grants;
  }

  /**
   * {@code KUBELET_VIA_API_PROXY=true}: the agent reads {@code /pods} and {@code /runningpods/}
   * through the API server's node proxy. The API server authorizes that as "get nodes/proxy" before
   * it proxies anything, so the grant shows here whatever the simulated server answers; {@code
   * nodes/pods} does not help, since the kubelet then sees the API server, not the agent. The base
   * role must not grant it, the opt-in component must, and the mode needs nothing else. ({@code
   * check} reads the same way, but with the kubeconfig of whoever runs it: no role shipped here
   * applies to it.)
   *
   * <p>The simulated API server does not implement the node proxy: its CRUD store answers the path
   * with objects of its own, which the agent takes for pods. Repairs are off, so that this nonsense
   * view only shows drift and repairs nothing.
   */
  @Test
  void theNodesProxyComponentGrantsExactlyWhatTheApiProxyModeAdds() throws Exception {
    startAgent(
        Map.of(
            "KUBELET_VIA_API_PROXY", "true", "REPAIR_MODE", "off", "WINDOW_ORPHANED_POD", "60s"));
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                agentCalls().stream()
                        .filter(r -> "proxy".equals(r.subresource()))
                        .map(SimApiRequest::path)
                        .distinct()
                        .count()
                    == 2);
    agent.close();
    agent = null;

    Set<String> base = grants(CLUSTER_ROLE);
    Set<String> component = grants(NODES_PROXY_ROLE);
    Set<String> both = new TreeSet<>(base);
    both.addAll(component);
    GrantCheck.Result result = check(both);
    assertEquals(List.of(), result.notGranted(), () -> failure(NODES_PROXY_ROLE, result));
    Set<String> componentUnused = new TreeSet<>(component);
    componentUnused.retainAll(result.unused());
    assertEquals(Set.of(), componentUnused, () -> failure(NODES_PROXY_ROLE, result));
    assertEquals(Set.of("/nodes/proxy:get"), component);
    assertTrue(Collections.disjoint(base, component), "the base role must not grant " + component);
    assertEquals(List.of(), kubelet.requests(), "the proxy mode must not call the kubelet itself");
    assertEquals(
        List.of(
            "/api/v1/nodes/" + NODE + "/proxy/pods",
            "/api/v1/nodes/" + NODE + "/proxy/runningpods/"),
        result.apiUse().get("/nodes/proxy:get").stream()
            .map(SimApiRequest::path)
            .distinct()
            .sorted()
            .toList());
  }

  // ---- the comparison ----

  private GrantCheck.Result check(Set<String> granted) {
    List<GrantCheck.KubeletCall> kubeletCalls =
        kubelet.requests().stream()
            .map(r -> new GrantCheck.KubeletCall(r.method(), r.path(), r.authorized()))
            .toList();
    return GrantCheck.check(granted, agentCalls(), kubeletCalls, NOT_OBSERVABLE);
  }

  private static String failure(Path role, GrantCheck.Result r) {
    return role
        + " does not match what the agent calls:\n  "
        + String.join("\n  ", r.problems())
        + "\n"
        + r.summary();
  }

  private Set<String> grants(Path clusterRoleFile) throws IOException {
    try (InputStream in = Files.newInputStream(clusterRoleFile)) {
      return ClusterRoleGrants.of(
          cluster.getKubernetesSerialization().unmarshal(in, ClusterRole.class));
    }
  }

  private boolean called(String grant) {
    return agentCalls().stream()
        .anyMatch(r -> r.resource() != null && GrantCheck.grant(r).equals(grant));
  }

  /** Every request but the test's own (the cluster's other users). */
  private List<SimApiRequest> agentCalls() {
    return sim.requests().stream().filter(r -> !r.backstage()).toList();
  }

  private static boolean isPodDelete(SimApiRequest r, Pod pod) {
    return r.verb().equals("delete")
        && "pods".equals(r.resource())
        && pod.getMetadata().getName().equals(r.name());
  }

  // ---- the agent ----

  private void startAgent() throws Exception {
    startAgent(Map.of());
  }

  private void startAgent(Map<String, String> extraEnv) throws Exception {
    Path tokenFile = Files.writeString(temp.resolve("token"), TOKEN + "\n");
    Path scripts = Files.createDirectories(temp.resolve("scripts"));
    Path bin = Files.createDirectories(temp.resolve("bin"));
    for (String tool : NODE_TOOLS) {
      Files.copy(FAKEBIN.resolve(tool), bin.resolve(tool), StandardCopyOption.COPY_ATTRIBUTES);
    }
    Map<String, String> env = new HashMap<>();
    env.put("NODE_NAME", NODE);
    env.put("KUBELET_URL", kubelet.url().toString());
    env.put("KUBELET_TOKEN_FILE", tokenFile.toString());
    env.put("KUBELET_CA_FILE", kubelet.caFile().toString());
    env.put("POLL_INTERVAL", "200ms");
    env.put("HTTP_PORT", "0");
    env.put("REPAIR_MODE", "on");
    env.put("CATALOG_FILE", CATALOG.toString());
    env.put("CRJ_TTL", "1s");
    env.put("SCRIPT_TEMP_DIR", scripts.toString());
    env.put("WINDOW_CONTAINER_NOT_RUNNING", "1s");
    env.put("WINDOW_ORPHANED_POD", "1s");
    env.put("WINDOW_STUCK_TERMINATING", "1s");
    env.put("POD_NAMESPACE", "state-probe");
    env.putAll(extraEnv);
    AgentConfig config = ConfigLoader.load(env, List.of());

    Map<String, String> scriptEnv = new HashMap<>();
    String url = sim.url();
    // The executor's defaults in a pod: the API URL and the service-account token's path.
    scriptEnv.put(
        "STATE_PROBE_API_URL", url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    scriptEnv.put("STATE_PROBE_API_TOKEN_FILE", tokenFile.toString());
    scriptEnv.put("FAKE_LOG", toolLog.toString());
    scriptEnv.put("FAKE_CRICTL_PODS", SANDBOX);
    // The host-repair overlay's runtime socket: remove-orphaned-sandbox.sh exits 3 without one.
    Path socket = temp.resolve("containerd.sock");
    if (!Files.exists(socket)) {
      try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
        server.bind(UnixDomainSocketAddress.of(socket));
      }
    }
    scriptEnv.put("CONTAINER_RUNTIME_ENDPOINT", "unix://" + socket);
    // The fake node tools in front of the image's userland (BusyBox, bash, curl, jq).
    ScriptExecutor.Settings defaults = ScriptExecutor.Settings.defaults(scripts);
    AgentRuntime.Options options =
        new AgentRuntime.Options(
            Map.copyOf(scriptEnv),
            new ScriptExecutor.Settings(
                defaults.tempBase(),
                defaults.killGrace(),
                bin + ":" + ScriptUserland.get().path(),
                defaults.captureInterval()),
            Duration.ofSeconds(10));
    agent =
        AgentRuntime.start(
                vertx,
                config,
                sim.newClient(),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                clock,
                options)
            .await();
  }

  private boolean trusted() {
    CycleResult last = agent.agent().last();
    return last != null && last.trusted();
  }

  /** Waits for a script's effect, polling often: the test plays the node's part in time. */
  private static void awaitNodeReacts(Callable<Boolean> done) {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(done);
  }

  /** The fake node tools' calls, each as its argv (the tool first). */
  private List<List<String>> toolCalls() throws IOException {
    if (!Files.exists(toolLog)) {
      return List.of();
    }
    return Files.readAllLines(toolLog).stream().map(l -> List.of(l.split("\t", -1))).toList();
  }

  private boolean apiViewHas(String uid) {
    return agent.controlPlane().snapshot(clock.instant()).podsByUid().containsKey(uid);
  }

  private void awaitNoDrift() {
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> trusted() && agent.agent().last().drifts().isEmpty());
  }

  // ---- the cluster, as its other users change it ----

  private Pod create(Pod pod) {
    return cluster.pods().inNamespace(NS).resource(pod).create();
  }

  /** The pod's JSON as the API server serves it: what the kubelet's watch delivered. */
  private String served(Pod pod) {
    return cluster.raw("/api/v1/namespaces/" + NS + "/pods/" + pod.getMetadata().getName());
  }

  private static String uid(Pod pod) {
    return pod.getMetadata().getUid();
  }

  private static PodBuilder base(String name) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .addToLabels("app", name.substring(0, name.indexOf('-')))
        .endMetadata()
        .withNewSpec()
        .withNodeName(NODE)
        .addNewContainer()
        .withName("app")
        .withImage("registry.example/app:1.4.2")
        .endContainer()
        .endSpec();
  }

  private static Pod runningPod(String name, boolean controlled) {
    PodBuilder b = base(name);
    if (controlled) {
      b.editMetadata()
          .addNewOwnerReference()
          .withApiVersion("apps/v1")
          .withKind("ReplicaSet")
          .withName(name.substring(0, name.lastIndexOf('-')))
          .withUid("3f0c1e52-8a4b-4c1d-9e6f-7a8b9c0d1e2f")
          .withController(true)
          .endOwnerReference()
          .endMetadata();
    }
    return b.withNewStatus()
        .withPhase("Running")
        .addNewContainerStatus()
        .withName("app")
        .withImage("registry.example/app:1.4.2")
        .withReady(true)
        .withNewState()
        .withNewRunning()
        .withStartedAt(Instant.now().minusSeconds(600).toString())
        .endRunning()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  /**
   * A pod whose deletion the API server has begun. A real API server keeps a deleted pod until its
   * kubelet confirms the end of the grace period; the mock cannot wait for a kubelet, so a
   * finalizer holds the pod instead (the mock sets the deletionTimestamp to the time of the delete,
   * so the grace period has already ended).
   */
  private Pod terminating(String name) {
    Pod p = runningPod(name, false);
    p.getMetadata().setFinalizers(List.of(HOLD));
    create(p);
    cluster.pods().inNamespace(NS).withName(name).delete();
    Pod deleting = cluster.pods().inNamespace(NS).withName(name).get();
    assertTrue(
        deleting.getMetadata().getDeletionTimestamp() != null,
        "the mock did not mark " + name + " deleting");
    return deleting;
  }

  /** The API server ends the deletion: the stand-in finalizer goes, and the pod with it. */
  private void finishDeletion(Pod pod) {
    cluster
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .edit(
            p -> new PodBuilder(p).editMetadata().withFinalizers(List.of()).endMetadata().build());
  }

  private void approve(ConsistencyRepairJob job) {
    // What `kubectl patch crj NAME --type merge -p '{"spec":{"approved":true}}'` sends.
    cluster
        .resources(ConsistencyRepairJob.class)
        .withName(job.name())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"approved\":true}}");
  }

  private List<ConsistencyRepairJob> records() {
    return cluster.resources(ConsistencyRepairJob.class).list().getItems();
  }

  private ConsistencyRepairJob awaitRecord(String script, String uid, Phase phase) {
    return await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                records().stream()
                    .filter(
                        j ->
                            j.getSpec().script().equals(script)
                                && j.getSpec().drift().target().uid().equals(uid)
                                && j.statusOrPending().phase() == phase)
                    .findFirst(),
            Optional::isPresent)
        .orElseThrow();
  }
}
