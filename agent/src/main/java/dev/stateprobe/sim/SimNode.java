package dev.stateprobe.sim;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.repair.exec.ScriptExecutor;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One node of a {@link SimCluster}: its Node object, its {@link FakeKubelet} played by a {@link
 * SimulatedKubelet}, its token file and its agent's environment, with the helpers scenarios use on
 * its pods, and at most one agent at a time ({@link #startAgent}, {@link #stopAgent}, {@link
 * #killAgent}).
 *
 * <p>Thread-safety: the pod helpers and the agent's lifecycle may be called from any thread; the
 * agent's lifecycle holds the monitor.
 */
public final class SimNode implements AutoCloseable {
  /** The capture's pod scenarios copy to create new ones: a ReplicaSet's pod, Running. */
  private static final String TEMPLATE = "e2e-deployment-79967c5968-8bnn8";

  private final SimCluster cluster;
  private final int index;
  private final String name;
  private final Path dir;
  private final KubernetesClient client;
  private final KubernetesSerialization serialization;
  private final ObjectMapper json = JsonMapper.builder().build();
  private final Set<String> createdPods = new LinkedHashSet<>(); // "namespace/name"
  private final List<Consumer<AgentRuntime>> agentListeners = new CopyOnWriteArrayList<>();
  private final Map<String, String> envOverrides = new LinkedHashMap<>();
  private final String token;
  private Path tokenFile;
  private Path runs;
  private FakeKubelet kubelet;
  private SimulatedKubelet kubeletSim;
  private String nodeUid;
  private Pod template;
  private int capturePods;
  private int staticPodCount;
  private SimAgent agent; // guarded by this

  SimNode(SimCluster cluster, int index, String name, Path dir) {
    this.cluster = cluster;
    this.index = index;
    this.name = name;
    this.dir = dir;
    this.client = cluster.client();
    this.serialization = client.getKubernetesSerialization();
    this.token = "sim-kubelet-token-" + name;
  }

  void build(byte[] capture, boolean rename) {
    try {
      tokenFile = dir.resolve("kubelet-token");
      writeToken(token);
      runs = Files.createDirectories(dir.resolve("runs"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    nodeUid =
        client
            .nodes()
            .resource(
                new NodeBuilder()
                    .withNewMetadata()
                    .withName(name)
                    .addToLabels("kubernetes.io/hostname", name)
                    .addToLabels("kubernetes.io/os", "linux")
                    .endMetadata()
                    .withNewStatus()
                    .addNewCondition()
                    .withType("Ready")
                    .withStatus("True")
                    .endCondition()
                    .withNewNodeInfo()
                    .withKubeletVersion("v1.35.0")
                    .withContainerRuntimeVersion("containerd://2.2.1")
                    .endNodeInfo()
                    .endStatus()
                    .build())
            .create()
            .getMetadata()
            .getUid();
    kubelet = new FakeKubelet(cluster.vertx(), token);
    try {
      kubelet.start().await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the fake kubelet of " + name + " did not start", e);
    }
    kubeletSim = new SimulatedKubelet(client, kubelet, name, () -> nodeUid, Clock.systemUTC());
    kubelet.onRestart(kubeletSim::restart);
    if (capture != null) {
      seed(capture, rename);
    }
    if (cluster.settings().kubeletFollows) {
      kubeletSim.resync();
      kubeletSim.start(cluster.vertx(), cluster.worker(), cluster.settings().kubeletSync);
    }
  }

  /**
   * The capture's pods: ordinary ones into the API server (the simulated kubelet then starts them),
   * static ones into the kubelet (it then posts their mirror pods).
   */
  private void seed(byte[] capture, boolean rename) {
    for (JsonNode item : json.readTree(capture).path("items")) {
      capturePods++;
      ObjectNode pod = (ObjectNode) item.deepCopy();
      String original = pod.path("metadata").path("name").asString("");
      if (rename) {
        ((ObjectNode) pod.path("metadata")).put("name", renamed(original));
        ((ObjectNode) pod.path("spec")).put("nodeName", name);
      }
      String source =
          pod.path("metadata")
              .path("annotations")
              .path(SimulatedKubelet.CONFIG_SOURCE)
              .asString("");
      if (source.equals("file")) {
        staticPodCount++;
        kubeletSim.addStaticPod(pod);
        continue;
      }
      Pod p = serialization.unmarshal(json.writeValueAsString(pod), Pod.class);
      if (original.equals(TEMPLATE)) {
        template = serialization.clone(p);
      }
      createInApi(p);
    }
    if (template == null) {
      throw new IllegalStateException(
          "the capture has no pod " + TEMPLATE + " to use as a template");
    }
  }

  /** A capture pod's name on this node: unique in the cluster. */
  private String renamed(String original) {
    return original.contains(SimCluster.CAPTURE_NODE)
        ? original.replace(SimCluster.CAPTURE_NODE, name)
        : original + "-" + name;
  }

  private Pod createInApi(Pod pod) {
    Pod p = serialization.clone(pod);
    ObjectMeta meta = p.getMetadata();
    meta.setUid(null);
    meta.setResourceVersion(null);
    meta.setManagedFields(null);
    return client.pods().inNamespace(meta.getNamespace()).resource(p).create();
  }

  // ---- the agent's environment ----

  /**
   * The agent's variables on this node: the cluster's defaults (200 ms polls, 1 s windows, three
   * observations, repair off), the cluster's {@code env(…)}, this node's kubelet, token, catalog
   * and script folder, then {@link #env(String, String) this node's overrides}.
   */
  public Map<String, String> env() {
    return env(Map.of());
  }

  /** {@link #env()} plus {@code overrides}. */
  public Map<String, String> env(Map<String, String> overrides) {
    Map<String, String> env = cluster.baseEnv();
    env.put("NODE_NAME", name);
    env.put("KUBELET_URL", kubelet.url().toString());
    env.put("KUBELET_TOKEN_FILE", tokenFile.toString());
    env.put("KUBELET_CA_FILE", kubelet.caFile().toString());
    env.put("SCRIPT_TEMP_DIR", runs.toString());
    env.putAll(cluster.settings().env);
    synchronized (envOverrides) {
      env.putAll(envOverrides);
    }
    env.putAll(overrides);
    return env;
  }

  /** A variable for this node's later agents only (e.g. a fleet with one odd node). */
  public SimNode env(String variable, String value) {
    synchronized (envOverrides) {
      envOverrides.put(variable, value);
    }
    return this;
  }

  /**
   * What this node's scripts get beside the agent's fixed variables: the API server's and the
   * kubelet's addresses and token files, as a pod's scripts have them, and {@code SIM_NODE_NAME}.
   */
  public Map<String, String> scriptEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    String url = cluster.api().url();
    env.put("STATE_PROBE_API_URL", url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    env.put("STATE_PROBE_API_TOKEN_FILE", cluster.apiTokenFile().toString());
    env.put("STATE_PROBE_KUBELET_URL", kubelet.url().toString());
    env.put("STATE_PROBE_KUBELET_TOKEN_FILE", tokenFile.toString());
    env.put("STATE_PROBE_KUBELET_CA_FILE", kubelet.caFile().toString());
    env.put("SIM_NODE_NAME", name);
    env.putAll(cluster.settings().scriptEnv);
    return env;
  }

  /** Replaces the token file in one rename, as a projected volume swaps its files. */
  public void writeToken(String value) {
    try {
      Path tmp = dir.resolve("kubelet-token.tmp");
      Files.writeString(tmp, value + "\n");
      Files.move(
          tmp, tokenFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The token the node was built with (what {@link FakeKubelet#reset} goes back to). */
  public String initialToken() {
    return token;
  }

  /** The token the kubelet accepts now (what the token file holds). */
  public String token() {
    try {
      return Files.readString(tokenFile).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- the agent ----

  /** Called with every agent started on this node from now on (e.g. to observe it). */
  public void onAgentStart(Consumer<AgentRuntime> listener) {
    agentListeners.add(listener);
  }

  /** Starts an agent on the node with its environment ({@link #env()}). */
  public SimAgent startAgent() {
    return startAgent(Map.of());
  }

  /**
   * Starts an agent in this process, wired as production wires it ({@link AgentRuntime}), with its
   * own Vert.x and API client as its process would have, and {@code overrides} on top of {@link
   * #env()}. After {@link #stopAgent()} or {@link #killAgent()}, a new one (a restarted pod).
   */
  public synchronized SimAgent startAgent(Map<String, String> overrides) {
    return startAgent(overrides, Map.of(), null);
  }

  /**
   * As {@link #startAgent(Map)}, with {@code extraScriptEnv} on top of {@link #scriptEnv()} and
   * {@code scriptPath} as the scripts' whole PATH (null: the agent's fixed PATH), e.g. the image's
   * userland.
   */
  public synchronized SimAgent startAgent(
      Map<String, String> overrides, Map<String, String> extraScriptEnv, String scriptPath) {
    if (agent != null) {
      throw new IllegalStateException("an agent already runs on node " + name);
    }
    Map<String, String> scripts = scriptEnv();
    scripts.putAll(extraScriptEnv);
    ScriptExecutor.Settings d =
        ScriptExecutor.Settings.defaults(runs).withKillGrace(cluster.settings().scriptKillGrace);
    ScriptExecutor.Settings scriptSettings =
        scriptPath == null
            ? d
            : new ScriptExecutor.Settings(
                d.tempBase(), d.killGrace(), scriptPath, d.captureInterval());
    agent =
        SimAgent.start(
            env(overrides),
            cluster.api(),
            scripts,
            scriptSettings,
            cluster.settings().catalogCheck,
            agentListeners);
    return agent;
  }

  /**
   * An agent process for this node: {@code java -jar jar agent} with {@link #env(Map)} plus {@code
   * KUBECONFIG} for the simulated API server, its output in this node's folder. Not started: the
   * caller adds JVM flags or redirections, starts it and owns it (ending it is its kill).
   */
  public ProcessBuilder agentProcess(Path jar, Map<String, String> overrides) {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(java, "-jar", jar.toString(), "agent")
            .redirectOutput(dir.resolve("agent.out").toFile())
            .redirectError(dir.resolve("agent.err").toFile());
    pb.environment().putAll(env(overrides));
    pb.environment().put("KUBECONFIG", cluster.kubeconfig().toString());
    return pb;
  }

  /** The running agent, or null. */
  public synchronized SimAgent agent() {
    return agent;
  }

  /** Stops the agent as a pod's graceful termination does (its loops end, then its Vert.x). */
  public synchronized void stopAgent() {
    if (agent != null) {
      agent.close();
      agent = null;
    }
  }

  /**
   * Kills the agent as {@code SIGKILL} would: its Vert.x and API client close at once, nothing of
   * it is released gracefully (what it held stays held).
   */
  public synchronized void killAgent() {
    if (agent != null) {
      agent.kill();
      agent = null;
    }
  }

  // ---- pods ----

  /**
   * Creates a pod on the node from the template (a ReplicaSet's pod of the capture, Running with
   * one container) and lets the kubelet take it at once. {@code edit} may change the copy before it
   * is created (labels, owner, status). Needs {@link SimCluster.Seed#CAPTURE}.
   */
  public Pod createPod(String namespace, String podName, UnaryOperator<Pod> edit) {
    if (template == null) {
      throw new IllegalStateException("node " + name + " was not seeded from the capture");
    }
    Pod p = serialization.clone(template);
    ObjectMeta meta = p.getMetadata();
    meta.setNamespace(namespace);
    meta.setName(podName);
    meta.setGenerateName(null);
    meta.setCreationTimestamp(null);
    String owner = podName.contains("-") ? podName.substring(0, podName.lastIndexOf('-')) : podName;
    String app = owner.contains("-") ? owner.substring(0, owner.lastIndexOf('-')) : owner;
    meta.setLabels(new LinkedHashMap<>(Map.of("app", app)));
    meta.setOwnerReferences(
        List.of(
            new OwnerReferenceBuilder()
                .withApiVersion("apps/v1")
                .withKind("ReplicaSet")
                .withName(owner)
                .withUid(UUID.nameUUIDFromBytes(owner.getBytes(StandardCharsets.UTF_8)).toString())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build()));
    p.getSpec().setNodeName(name);
    Pod created = createInApi(edit.apply(p));
    synchronized (createdPods) {
      createdPods.add(namespace + "/" + podName);
    }
    kubeletSim.sync();
    return created;
  }

  public Pod createPod(String namespace, String podName) {
    return createPod(namespace, podName, UnaryOperator.identity());
  }

  /** The API server's pod, or null. */
  public Pod pod(String namespace, String podName) {
    return client.pods().inNamespace(namespace).withName(podName).get();
  }

  /** Changes a pod in the API server (not its status), as a user or controller would. */
  public Pod editPod(String namespace, String podName, UnaryOperator<Pod> edit) {
    Pod p = pod(namespace, podName);
    if (p == null) {
      throw new IllegalStateException("no pod " + namespace + "/" + podName + " to edit");
    }
    return client.pods().inNamespace(namespace).resource(edit.apply(p)).update();
  }

  /** Changes a pod's status in the API server, as its kubelet would. */
  public Pod editPodStatus(String namespace, String podName, UnaryOperator<Pod> edit) {
    Pod p = pod(namespace, podName);
    if (p == null) {
      throw new IllegalStateException("no pod " + namespace + "/" + podName + " to edit");
    }
    return client.pods().inNamespace(namespace).resource(edit.apply(p)).updateStatus();
  }

  /** Deletes a pod from the API server at once; the kubelet follows unless a fault holds it. */
  public void deletePod(String namespace, String podName) {
    releaseHold(namespace, podName);
    client.pods().inNamespace(namespace).withName(podName).withGracePeriod(0).delete();
    kubeletSim.sync();
  }

  /**
   * Deletes the pod in the API server while the kubelet's watch loses the event: the kubelet keeps
   * running it, an OrphanedPod.
   *
   * @return the orphan's UID
   */
  public String loseDelete(String namespace, String podName) {
    Pod p = pod(namespace, podName);
    if (p == null) {
      throw new IllegalStateException("no pod " + namespace + "/" + podName + " to delete");
    }
    String uid = p.getMetadata().getUid();
    kubeletSim.loseEventsOf(uid);
    deletePod(namespace, podName);
    return uid;
  }

  /** Without the simulated kubelet's hold a deletion is immediate again. */
  private void releaseHold(String namespace, String podName) {
    Pod p = pod(namespace, podName);
    if (p != null
        && p.getMetadata().getFinalizers() != null
        && p.getMetadata().getFinalizers().contains(SimulatedKubelet.AWAITS_KUBELET)) {
      client
          .pods()
          .inNamespace(namespace)
          .withName(podName)
          .edit(
              x -> {
                x.getMetadata().getFinalizers().remove(SimulatedKubelet.AWAITS_KUBELET);
                return x;
              });
    }
  }

  /**
   * A graceful deletion, as {@code kubectl delete} asks for: the pod stays, marked with {@code
   * deletionTimestamp} (the request's time plus the grace period), until the kubelet has stopped it
   * and confirms.
   */
  public Pod deleteGracefully(
      String namespace, String podName, Duration gracePeriod, Instant deletionTimestamp) {
    return editPod(
        namespace,
        podName,
        p -> {
          List<String> finalizers =
              new ArrayList<>(
                  p.getMetadata().getFinalizers() == null
                      ? List.of()
                      : p.getMetadata().getFinalizers());
          finalizers.add(SimulatedKubelet.AWAITS_KUBELET);
          p.getMetadata().setFinalizers(finalizers);
          p.getMetadata()
              .setDeletionTimestamp(deletionTimestamp.truncatedTo(ChronoUnit.SECONDS).toString());
          p.getMetadata().setDeletionGracePeriodSeconds(gracePeriod.toSeconds());
          return p;
        });
  }

  /** The API server's pods bound to this node. */
  public List<Pod> apiPods() {
    return client.pods().inAnyNamespace().withField("spec.nodeName", name).list().getItems();
  }

  /** The mirror pod of a static pod (by the kubelet's UID for it), or null. */
  public Pod mirrorPodOf(String staticUid) {
    return apiPods().stream()
        .filter(
            p -> staticUid.equals(SimulatedKubelet.annotation(p, SimulatedKubelet.CONFIG_MIRROR)))
        .findFirst()
        .orElse(null);
  }

  /**
   * Back to the node as built: every fault of the kubelet and the API server ends, the pods that
   * scenarios created are deleted, the kubelet lists everything again, and an agent runs.
   */
  public void reset() {
    kubelet.reset(token());
    SimApiServer api = cluster.api();
    if (api.isDown()) {
      api.up();
    }
    api.acceptWatches();
    kubeletSim.clearFaults();
    List<String> created;
    synchronized (createdPods) {
      created = new ArrayList<>(createdPods);
      createdPods.clear();
    }
    for (String key : created) {
      String[] ns = key.split("/", 2);
      releaseHold(ns[0], ns[1]);
      client.pods().inNamespace(ns[0]).withName(ns[1]).withGracePeriod(0).delete();
    }
    kubeletSim.resync();
    if (agent() == null) {
      startAgent();
    }
  }

  // ---- accessors ----

  public String name() {
    return name;
  }

  /** The node's place in the cluster, from 0. */
  public int index() {
    return index;
  }

  public SimCluster cluster() {
    return cluster;
  }

  public FakeKubelet kubelet() {
    return kubelet;
  }

  public SimulatedKubelet kubeletSim() {
    return kubeletSim;
  }

  /** The Node object's UID. */
  public String uid() {
    return nodeUid;
  }

  /** This node's temporary folder (inside the cluster's). */
  public Path dir() {
    return dir;
  }

  /** The token file the agent and the scripts present to the kubelet. */
  public Path kubeletTokenFile() {
    return tokenFile;
  }

  /** The catalog this node's agents read. */
  public Path catalogFile() {
    return Path.of(env().get("CATALOG_FILE"));
  }

  /** How many pods the capture seeded (0 unless seeded from it). */
  public int capturePods() {
    return capturePods;
  }

  public int staticPods() {
    return staticPodCount;
  }

  /** Stops the agent, the simulated kubelet and the fake kubelet. */
  @Override
  public synchronized void close() {
    stopAgent();
    if (kubeletSim != null) {
      kubeletSim.close();
    }
    if (kubelet != null) {
      kubelet.close();
    }
  }
}
