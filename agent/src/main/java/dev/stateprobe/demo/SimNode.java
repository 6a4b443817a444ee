package dev.stateprobe.demo;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigException;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.sim.FakeKubelet;
import dev.stateprobe.sim.SimApiServer;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
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
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One simulated node with the real agent on it, all in this process: the simulated API server (with
 * the CRD, the Node and the node's pods), a fake kubelet over HTTPS built from a real kubelet
 * capture, the {@link SimulatedKubelet} that makes it follow the API server, and the agent wired by
 * {@link AgentRuntime} with {@code REPAIR_MODE=on} and the demo catalog. The demo and the scenario
 * tests build it the same way.
 *
 * <p>The agent can be killed and started again ({@link #killAgent()}, {@link #startAgent()}): a
 * killed agent's Vert.x and API client are closed with it, as a process's would be, so nothing of
 * it reaches the API server afterwards.
 *
 * <p>Thread-safety: the pod helpers and the agent's lifecycle may be called from any one thread
 * (the scenario's); the parts they reach are thread-safe.
 */
public final class SimNode implements AutoCloseable {
  /** The captured node's name: the pods' {@code spec.nodeName} and the static pods' suffix. */
  public static final String NODE = "datagen-1-35";

  /** The template of the pods scenarios create: a ReplicaSet's pod from the capture. */
  private static final String TEMPLATE = "e2e-deployment-79967c5968-8bnn8";

  /**
   * How to build the node.
   *
   * @param httpPort the agent's HTTP port, 0 for a free one
   * @param scriptKillGrace between a timed-out script's SIGTERM and SIGKILL
   * @param catalogCheck how often the agent looks for a changed catalog
   * @param agentEnv agent settings that replace the demo's (variable name to value)
   */
  public record Settings(
      Timing timing,
      int httpPort,
      Duration scriptKillGrace,
      Duration catalogCheck,
      Map<String, String> agentEnv) {
    public Settings {
      agentEnv = Map.copyOf(agentEnv);
    }

    public static Settings demo(Timing timing, int httpPort) {
      return new Settings(timing, httpPort, Duration.ofSeconds(2), Duration.ofSeconds(1), Map.of());
    }

    public Settings withAgentEnv(Map<String, String> env) {
      Map<String, String> merged = new LinkedHashMap<>(agentEnv);
      merged.putAll(env);
      return new Settings(timing, httpPort, scriptKillGrace, catalogCheck, merged);
    }
  }

  private final Settings settings;
  private final Path workDir;
  private final ObjectMapper json = JsonMapper.builder().build();
  private final Observer observer = new Observer();
  private final Set<String> createdPods = new LinkedHashSet<>(); // "namespace/name"
  private Vertx simVertx;
  private WorkerExecutor simWorker;
  private SimApiServer api;
  private KubernetesClient cluster;
  private KubernetesSerialization serialization;
  private FakeKubelet kubelet;
  private SimulatedKubelet kubeletSim;
  private Path kubeletToken;
  private Path apiToken;
  private Path catalog;
  private String nodeUid;
  private Pod template;
  private int capturePods;
  private int staticPodCount;

  private Vertx agentVertx;
  private KubernetesClient agentClient;
  private AgentRuntime runtime;

  private SimNode(Settings settings, Path workDir) {
    this.settings = settings;
    this.workDir = workDir;
  }

  /**
   * Builds the node and starts the agent on it. Blocking (a few seconds); on failure everything
   * made so far is closed again.
   */
  public static SimNode start(Settings settings) throws Exception {
    SimNode node = new SimNode(settings, Files.createTempDirectory("state-probe-demo-"));
    try {
      node.build();
      node.startAgent();
      return node;
    } catch (Exception | Error e) {
      node.close();
      throw e;
    }
  }

  private void build() throws Exception {
    catalog = DemoResources.extractCatalog(Files.createDirectories(workDir.resolve("catalog")));
    Files.createDirectories(workDir.resolve("runs"));
    kubeletToken = workDir.resolve("kubelet-token");
    Files.writeString(kubeletToken, "demo-kubelet-token-1\n");
    apiToken = workDir.resolve("api-token");
    Files.writeString(apiToken, "demo-api-token\n"); // the simulated API server checks none

    simVertx = Vertx.vertx();
    simWorker = simVertx.createSharedWorkerExecutor("state-probe-demo", 2);
    api = new SimApiServer().start();
    cluster = api.client();
    serialization = cluster.getKubernetesSerialization();
    serveDiscovery();
    installCrd();
    nodeUid =
        cluster
            .nodes()
            .resource(
                new NodeBuilder()
                    .withNewMetadata()
                    .withName(NODE)
                    .addToLabels("kubernetes.io/hostname", NODE)
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

    kubelet = new FakeKubelet(simVertx, "demo-kubelet-token-1");
    kubelet.start().await(20, TimeUnit.SECONDS);
    kubeletSim = new SimulatedKubelet(cluster, kubelet, NODE, () -> nodeUid, Clock.systemUTC());
    kubelet.onRestart(kubeletSim::restart);
    seed();
    kubeletSim.resync();
    kubeletSim.start(simVertx, simWorker, settings.timing().kubeletSync());
  }

  private void serveDiscovery() {
    JsonNode docs = json.readTree(DemoResources.read(DemoResources.DISCOVERY));
    for (Map.Entry<String, JsonNode> e : docs.properties()) {
      api.serveDocument(e.getKey(), json.writeValueAsString(e.getValue()));
    }
  }

  private void installCrd() {
    CustomResourceDefinition crd =
        cluster
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .load(new ByteArrayInputStream(DemoResources.read(DemoResources.CRD)))
            .item();
    cluster.apiextensions().v1().customResourceDefinitions().resource(crd).create();
  }

  /**
   * The capture's pods: ordinary ones into the API server (the simulated kubelet then starts them),
   * static ones into the kubelet (it then posts their mirror pods).
   */
  private void seed() {
    byte[] capture = DemoResources.read(DemoResources.CAPTURE);
    JsonNode items = json.readTree(capture).path("items");
    for (JsonNode item : items) {
      capturePods++;
      String source =
          item.path("metadata")
              .path("annotations")
              .path(SimulatedKubelet.CONFIG_SOURCE)
              .asString("");
      if (source.equals("file")) {
        staticPodCount++;
        kubeletSim.addStaticPod((ObjectNode) item);
        continue;
      }
      Pod pod = serialization.unmarshal(json.writeValueAsString(item), Pod.class);
      if (pod.getMetadata().getName().equals(TEMPLATE)) {
        template = serialization.clone(pod);
      }
      createInApi(pod);
    }
    if (template == null) {
      throw new IllegalStateException(
          "the capture has no pod " + TEMPLATE + " to use as a template");
    }
  }

  private Pod createInApi(Pod pod) {
    Pod p = serialization.clone(pod);
    ObjectMeta meta = p.getMetadata();
    meta.setUid(null);
    meta.setResourceVersion(null);
    meta.setManagedFields(null);
    return cluster.pods().inNamespace(meta.getNamespace()).resource(p).create();
  }

  // ---- the agent ----

  /** Starts an agent on the node (after {@link #killAgent()}, a new one, as a restarted pod). */
  public synchronized AgentRuntime startAgent() throws Exception {
    if (runtime != null) {
      throw new IllegalStateException("an agent already runs on the node");
    }
    AgentConfig config;
    try {
      config = ConfigLoader.load(agentEnv(), List.of());
    } catch (ConfigException e) {
      throw new IllegalStateException(
          "the simulated node's agent settings are invalid: " + e.getMessage(), e);
    }
    agentVertx = AgentRuntime.newVertx();
    agentClient = api.newClient();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Map<String, String> scriptEnv = new LinkedHashMap<>();
    String url = api.url();
    scriptEnv.put(
        "STATE_PROBE_API_URL", url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    scriptEnv.put("STATE_PROBE_API_TOKEN_FILE", apiToken.toString());
    scriptEnv.put("STATE_PROBE_KUBELET_URL", kubelet.url().toString());
    scriptEnv.put("STATE_PROBE_KUBELET_TOKEN_FILE", kubeletToken.toString());
    scriptEnv.put("STATE_PROBE_KUBELET_CA_FILE", kubelet.caFile().toString());
    AgentRuntime.Options options =
        new AgentRuntime.Options(
            scriptEnv,
            ScriptExecutor.Settings.defaults(workDir.resolve("runs"))
                .withKillGrace(settings.scriptKillGrace()),
            settings.catalogCheck());
    try {
      runtime =
          AgentRuntime.start(agentVertx, config, agentClient, registry, Clock.systemUTC(), options)
              .await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      stopAgentParts();
      throw e;
    }
    observer.attach(runtime);
    return runtime;
  }

  /**
   * Stops the agent as if its process died: its loop, HTTP server, Vert.x and API client end at
   * once; a script it was running is interrupted, and its record is left as last written.
   */
  public synchronized void killAgent() {
    if (runtime == null) {
      return;
    }
    runtime.close();
    runtime = null;
    stopAgentParts();
  }

  private void stopAgentParts() {
    if (agentClient != null) {
      agentClient.close();
      agentClient = null;
    }
    if (agentVertx != null) {
      try {
        agentVertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // gone either way
      }
      agentVertx = null;
    }
  }

  private Map<String, String> agentEnv() {
    Timing t = settings.timing();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("NODE_NAME", NODE);
    env.put("KUBELET_URL", kubelet.url().toString());
    env.put("KUBELET_TOKEN_FILE", kubeletToken.toString());
    env.put("KUBELET_CA_FILE", kubelet.caFile().toString());
    env.put("KUBELET_REQUEST_TIMEOUT", millis(t.kubeletTimeout()));
    env.put("KUBELET_MAX_BODY_BYTES", Long.toString(4L * 1024 * 1024));
    env.put("POLL_INTERVAL", millis(t.poll()));
    env.put("HTTP_PORT", Integer.toString(settings.httpPort()));
    env.put("MIN_OBSERVATIONS", "3");
    for (DriftKind k : DriftKind.values()) {
      env.put(k.windowVariable(), millis(t.window()));
    }
    env.put("REPAIR_MODE", "on");
    env.put("CATALOG_FILE", catalog.toString());
    env.put("MAX_CONCURRENT_REPAIRS", "1");
    env.put("MAX_REPAIRS_PER_HOUR", "1000");
    env.put("CIRCUIT_RECOVERY", millis(t.circuitRecovery()));
    env.put("SCRIPT_TEMP_DIR", workDir.resolve("runs").toString());
    env.putAll(settings.agentEnv());
    return env;
  }

  private static String millis(Duration d) {
    return d.toMillis() + "ms";
  }

  // ---- pods ----

  /**
   * Creates a pod on the node from the template (a ReplicaSet's pod of the capture, Running with
   * one container) and lets the kubelet take it at once. {@code edit} may change the copy before it
   * is created (labels, owner, status).
   */
  public Pod createPod(String namespace, String name, UnaryOperator<Pod> edit) {
    Pod p = serialization.clone(template);
    ObjectMeta meta = p.getMetadata();
    meta.setNamespace(namespace);
    meta.setName(name);
    meta.setGenerateName(null);
    meta.setCreationTimestamp(null);
    String owner = name.contains("-") ? name.substring(0, name.lastIndexOf('-')) : name;
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
    Pod created = createInApi(edit.apply(p));
    createdPods.add(namespace + "/" + name);
    kubeletSim.sync();
    return created;
  }

  public Pod createPod(String namespace, String name) {
    return createPod(namespace, name, UnaryOperator.identity());
  }

  /** The API server's pod, or null. */
  public Pod pod(String namespace, String name) {
    return cluster.pods().inNamespace(namespace).withName(name).get();
  }

  /** Changes a pod in the API server (not its status), as a user or controller would. */
  public Pod editPod(String namespace, String name, UnaryOperator<Pod> edit) {
    Pod p = pod(namespace, name);
    if (p == null) {
      throw new IllegalStateException("no pod " + namespace + "/" + name + " to edit");
    }
    return cluster.pods().inNamespace(namespace).resource(edit.apply(p)).update();
  }

  /** Changes a pod's status in the API server, as its kubelet would. */
  public Pod editPodStatus(String namespace, String name, UnaryOperator<Pod> edit) {
    Pod p = pod(namespace, name);
    if (p == null) {
      throw new IllegalStateException("no pod " + namespace + "/" + name + " to edit");
    }
    return cluster.pods().inNamespace(namespace).resource(edit.apply(p)).updateStatus();
  }

  /** Deletes a pod from the API server at once; the kubelet follows unless a fault holds it. */
  public void deletePod(String namespace, String name) {
    releaseHold(namespace, name);
    cluster.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
    kubeletSim.sync();
  }

  /** Without the simulated kubelet's hold a deletion is immediate again. */
  private void releaseHold(String namespace, String name) {
    Pod p = pod(namespace, name);
    if (p != null
        && p.getMetadata().getFinalizers() != null
        && p.getMetadata().getFinalizers().contains(SimulatedKubelet.AWAITS_KUBELET)) {
      cluster
          .pods()
          .inNamespace(namespace)
          .withName(name)
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
      String namespace, String name, Duration gracePeriod, Instant deletionTimestamp) {
    return editPod(
        namespace,
        name,
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
    return cluster.pods().inAnyNamespace().withField("spec.nodeName", NODE).list().getItems();
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
    kubelet.reset(tokenNow());
    if (api.isDown()) {
      api.up();
    }
    api.acceptWatches();
    kubeletSim.clearFaults();
    for (String key : new ArrayList<>(createdPods)) {
      String[] ns = key.split("/", 2);
      releaseHold(ns[0], ns[1]);
      cluster.pods().inNamespace(ns[0]).withName(ns[1]).withGracePeriod(0).delete();
    }
    createdPods.clear();
    kubeletSim.resync();
    if (agent() == null) {
      try {
        startAgent();
      } catch (Exception e) {
        throw new IllegalStateException("the agent did not start again: " + e.getMessage(), e);
      }
    }
  }

  private String tokenNow() {
    try {
      return Files.readString(kubeletToken).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ---- accessors ----

  public SimApiServer api() {
    return api;
  }

  /** The cluster's own client: never faulted; what people and controllers use. */
  public KubernetesClient cluster() {
    return cluster;
  }

  public FakeKubelet kubelet() {
    return kubelet;
  }

  public SimulatedKubelet kubeletSim() {
    return kubeletSim;
  }

  /** The running agent, or null while killed. */
  public synchronized AgentRuntime agent() {
    return runtime;
  }

  public Observer observer() {
    return observer;
  }

  public Timing timing() {
    return settings.timing();
  }

  public Path workDir() {
    return workDir;
  }

  public Path catalogFile() {
    return catalog;
  }

  /** The token file the agent and the scripts present to the kubelet. */
  public Path kubeletTokenFile() {
    return kubeletToken;
  }

  public int capturePods() {
    return capturePods;
  }

  public int staticPods() {
    return staticPodCount;
  }

  @Override
  public synchronized void close() {
    killAgent();
    if (kubeletSim != null) {
      kubeletSim.close();
    }
    if (kubelet != null) {
      kubelet.close();
    }
    if (api != null) {
      api.close();
    }
    if (simVertx != null) {
      try {
        simVertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // closing anyway
      }
    }
    deleteTree(workDir);
  }

  private static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      // a temporary folder left behind is not worth failing for
    }
  }
}
