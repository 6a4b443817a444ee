package dev.stateprobe.e2e;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigException;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.sim.FakeKubelet;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.testing.Fixtures;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * One simulated node for end-to-end tests: the simulated API server and an HTTPS fake kubelet, both
 * holding the real 1.35 capture of node {@link #NODE} in agreement, plus three pods of {@link
 * #OTHER_NODE} in the API server only (an agent that ignored its node selector would call them
 * unknown to its kubelet).
 *
 * <p>Agreement as on a real node: the kubelet serves the capture verbatim; the API server holds
 * each ordinary pod under the same UID without the kubelet's own annotations, and each static pod
 * as a mirror pod with a UID of its own whose {@code kubernetes.io/config.mirror} is the static
 * pod's UID.
 */
final class SimulatedNode implements AutoCloseable {
  static final String NODE = "datagen-1-35";
  static final String OTHER_NODE = "datagen-1-24";
  static final int PODS_ON_NODE = 24;
  static final String TOKEN = "token-first-0001";
  static final String ROTATED_TOKEN = "token-second-0002";
  private static final Set<String> OTHER_NODE_PODS =
      Set.of("kube-proxy-kjvgg", "e2e-ds-n4vzl", "kindnet-mct6m");
  private static final byte[] CAPTURE = Fixtures.kubelet(Fixtures.K8S_1_35);

  final Vertx vertx;
  final SimApiServer api;

  /** The cluster's other users: never hit by the API server faults. */
  final KubernetesClient cluster;

  /** The agent's client: the faults apply to it. */
  final KubernetesClient agentClient;

  final FakeKubelet kubelet;
  final Path dir;
  final Path tokenFile;
  final Path catalogFile;
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final JsonMapper mapper = JsonMapper.builder().build();

  private SimulatedNode(Vertx vertx, SimApiServer api, FakeKubelet kubelet, Path dir) {
    this.vertx = vertx;
    this.api = api;
    this.cluster = api.client();
    this.agentClient = api.newClient();
    this.kubelet = kubelet;
    this.dir = dir;
    this.tokenFile = dir.resolve("token");
    this.catalogFile = dir.resolve("catalog/catalog.yaml");
  }

  static SimulatedNode start(Vertx vertx, Path dir) {
    SimApiServer api = new SimApiServer().start();
    FakeKubelet kubelet = new FakeKubelet(vertx, TOKEN);
    kubelet.start().await();
    SimulatedNode node = new SimulatedNode(vertx, api, kubelet, dir);
    node.writeCatalog();
    node.writeToken(TOKEN);
    return node;
  }

  /**
   * A valid catalog, as an install has one (repair is off in these tests: the agent reads none).
   */
  private void writeCatalog() {
    try {
      Path folder = Files.createDirectories(catalogFile.getParent());
      Path script = folder.resolve("noop.sh");
      Files.writeString(script, "#!/bin/sh\nexit 0\n");
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.writeString(
          catalogFile,
          """
          scripts:
            - name: noop
              path: noop.sh
              drifts: [OrphanedPod]
              mode: manual
          """);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Replaces the token file in one rename, as a projected volume swaps its files. */
  void writeToken(String token) {
    try {
      Path tmp = dir.resolve("token.tmp");
      Files.writeString(tmp, token + "\n");
      Files.move(
          tmp, tokenFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A kubeconfig for the simulated API server (as the agent's or check's client sees it). */
  Path kubeconfig() {
    return kubeconfig(api.url());
  }

  /** A kubeconfig for a server at {@code url}, e.g. one where nothing listens. */
  Path kubeconfig(String url) {
    try {
      Path file = Files.createTempFile(dir, "kubeconfig", ".yaml");
      Files.writeString(
          file,
          """
          apiVersion: v1
          kind: Config
          clusters:
          - name: sim
            cluster:
              server: %s
          contexts:
          - name: sim
            context:
              cluster: sim
              user: sim
              namespace: default
          current-context: sim
          users:
          - name: sim
            user:
              token: sim-api-token-0003
          """
              .formatted(url));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The agent's variables for this node: short windows, repair off. */
  Map<String, String> env(Map<String, String> overrides) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("NODE_NAME", NODE);
    env.put("KUBELET_URL", kubelet.url().toString());
    env.put("KUBELET_TOKEN_FILE", tokenFile.toString());
    env.put("KUBELET_CA_FILE", kubelet.caFile().toString());
    env.put("POLL_INTERVAL", "200ms");
    env.put("HTTP_PORT", "0");
    env.put("MIN_OBSERVATIONS", "3");
    env.put("QUIET_PERIOD", "1s");
    env.put("REPAIR_MODE", "off");
    env.put("CATALOG_FILE", catalogFile.toString());
    env.put("SCRIPT_TEMP_DIR", dir.toString());
    for (dev.stateprobe.drift.DriftKind k : dev.stateprobe.drift.DriftKind.values()) {
      env.put(k.windowVariable(), "1s");
    }
    env.putAll(overrides);
    return env;
  }

  AgentConfig config(Map<String, String> overrides) {
    try {
      return ConfigLoader.load(env(overrides), List.of());
    } catch (ConfigException e) {
      throw new AssertionError("test config refused: " + e.getMessage(), e);
    }
  }

  // ---- pods ----

  List<Pod> capture() {
    return serialization
        .unmarshal(new String(CAPTURE, StandardCharsets.UTF_8), PodList.class)
        .getItems();
  }

  /**
   * Both sides agree on the capture; the other node's pods are in the API server only. The API
   * server assigns UIDs of its own on create, so the kubelet's copies take them over: the kubelet
   * serves the capture verbatim but for the UIDs of its ordinary pods.
   */
  void seed() {
    Map<String, String> assigned = new HashMap<>();
    for (Pod p : capture()) {
      Pod created = create(apiCopyOf(p));
      assigned.put(
          created.getMetadata().getNamespace() + "/" + created.getMetadata().getName(),
          created.getMetadata().getUid());
    }
    ObjectNode list = (ObjectNode) mapper.readTree(CAPTURE);
    for (JsonNode item : list.path("items")) {
      ObjectNode meta = (ObjectNode) item.path("metadata");
      if (!"file"
          .equals(meta.path("annotations").path("kubernetes.io/config.source").asString(""))) {
        meta.put(
            "uid",
            assigned.get(meta.path("namespace").asString() + "/" + meta.path("name").asString()));
      }
    }
    kubelet.loadPodList(mapper.writeValueAsBytes(list));
    List<Pod> older =
        serialization
            .unmarshal(
                new String(Fixtures.kubelet(Fixtures.K8S_1_24), StandardCharsets.UTF_8),
                PodList.class)
            .getItems();
    older.stream()
        .filter(p -> OTHER_NODE_PODS.contains(p.getMetadata().getName()))
        .forEach(
            p -> {
              p.getSpec().setNodeName(OTHER_NODE);
              p.getMetadata().setUid(null);
              p.getMetadata().getAnnotations().remove("kubernetes.io/config.seen");
              p.getMetadata().getAnnotations().remove("kubernetes.io/config.source");
              create(p);
            });
  }

  /** The API server's copy of a kubelet pod: see the class comment. */
  Pod apiCopyOf(Pod kubeletPod) {
    Pod p = serialization.clone(kubeletPod);
    p.getMetadata().setUid(null); // the API server assigns one
    Map<String, String> annotations = new HashMap<>(p.getMetadata().getAnnotations());
    boolean isStatic = "file".equals(annotations.get("kubernetes.io/config.source"));
    if (isStatic) {
      annotations.put("kubernetes.io/config.mirror", kubeletPod.getMetadata().getUid());
      p.getMetadata()
          .setOwnerReferences(
              List.of(
                  new OwnerReferenceBuilder()
                      .withApiVersion("v1")
                      .withKind("Node")
                      .withName(NODE)
                      .withUid("21df3009-f9ff-40ad-a737-1d905c4f7c76")
                      .withController(true)
                      .build()));
    } else {
      annotations.remove("kubernetes.io/config.seen");
      annotations.remove("kubernetes.io/config.source");
    }
    p.getMetadata().setAnnotations(annotations);
    p.getMetadata().setResourceVersion(null);
    p.getMetadata().setManagedFields(null);
    return p;
  }

  Pod create(Pod pod) {
    return cluster.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
  }

  Pod apiPod(String namespace, String name) {
    return cluster.pods().inNamespace(namespace).withName(name).get();
  }

  /**
   * Creates in the API server a copy of the pod {@code template} of this node under a new name,
   * bound to {@code nodeName}; the kubelets hear nothing of it.
   */
  Pod createCopy(String namespace, String template, String name, String nodeName) {
    Pod p = serialization.clone(apiPod(namespace, template));
    p.getMetadata().setName(name);
    p.getMetadata().setUid(null);
    p.getMetadata().setResourceVersion(null);
    p.getMetadata().setCreationTimestamp(null);
    p.getSpec().setNodeName(nodeName);
    return create(p);
  }

  /** The UID under which the kubelet lists {@code namespace/name}. */
  String kubeletUid(String namespace, String name) {
    for (String uid : kubelet.podUids()) {
      JsonNode meta = kubeletPod(uid).path("metadata");
      if (meta.path("namespace").asString("").equals(namespace)
          && meta.path("name").asString("").equals(name)) {
        return uid;
      }
    }
    throw new IllegalArgumentException("the kubelet lists no pod " + namespace + "/" + name);
  }

  /** The kubelet's copy, to edit and {@link #putKubeletPod put back}. */
  ObjectNode kubeletPod(String uid) {
    String json =
        kubelet.pod(uid).orElseThrow(() -> new IllegalArgumentException("kubelet has no " + uid));
    return (ObjectNode) mapper.readTree(json);
  }

  void putKubeletPod(ObjectNode pod) {
    kubelet.putPod(mapper.writeValueAsString(pod));
  }

  /** Empties both sides and forgets faults, requests and token rotations. */
  void reset() {
    if (api.isDown()) {
      api.up();
    }
    api.acceptWatches();
    // Job pods carry a finalizer: the mock, like a real server, only marks those as deleting.
    for (Pod p : cluster.pods().inAnyNamespace().list().getItems()) {
      if (p.getMetadata().getFinalizers() != null && !p.getMetadata().getFinalizers().isEmpty()) {
        cluster
            .resource(p)
            .edit(
                x -> {
                  x.getMetadata().setFinalizers(null);
                  return x;
                });
      }
      cluster
          .pods()
          .inNamespace(p.getMetadata().getNamespace())
          .withName(p.getMetadata().getName())
          .delete();
    }
    if (apiPodCount() != 0) {
      throw new IllegalStateException("the simulated API server still has pods after the reset");
    }
    api.clearRequests();
    kubelet.reset(TOKEN);
    kubelet.loadPodList("{\"items\":[]}".getBytes(StandardCharsets.UTF_8));
    writeToken(TOKEN);
  }

  int apiPodCount() {
    return cluster.pods().inAnyNamespace().list().getItems().size();
  }

  @Override
  public void close() {
    kubelet.close();
    api.close();
  }
}
