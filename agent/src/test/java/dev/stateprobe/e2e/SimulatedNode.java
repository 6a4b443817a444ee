package dev.stateprobe.e2e;

import dev.stateprobe.sim.FakeKubelet;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.sim.SimCluster;
import dev.stateprobe.sim.SimNode;
import dev.stateprobe.testing.Fixtures;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The end-to-end tests' view of a one-node {@link SimCluster} whose kubelet plays nothing by itself
 * ({@code kubeletFollows(false)}): the tests break one view by hand. {@link #seed()} puts the real
 * 1.35 capture of node {@link #NODE} on both sides in agreement, plus three pods of {@link
 * #OTHER_NODE} in the API server only (an agent that ignored its node selector would call them
 * unknown to its kubelet).
 *
 * <p>Agreement as on a real node: the kubelet serves the capture verbatim; the API server holds
 * each ordinary pod under the same UID without the kubelet's own annotations, and each static pod
 * as a mirror pod with a UID of its own whose {@code kubernetes.io/config.mirror} is the static
 * pod's UID.
 */
final class SimulatedNode implements AutoCloseable {
  static final String NODE = SimCluster.CAPTURE_NODE;
  static final String OTHER_NODE = "datagen-1-24";
  static final int PODS_ON_NODE = 24;

  /** The token the node's kubelet accepts first (the simulated cluster names it after the node). */
  static final String TOKEN = "sim-kubelet-token-" + NODE;

  static final String ROTATED_TOKEN = "token-second-0002";
  private static final Set<String> OTHER_NODE_PODS =
      Set.of("kube-proxy-kjvgg", "e2e-ds-n4vzl", "kindnet-mct6m");
  private static final byte[] CAPTURE = Fixtures.kubelet(Fixtures.K8S_1_35);

  final SimCluster sim;
  final SimNode simNode;
  final SimApiServer api;

  /** The cluster's other users: never hit by the API server faults. */
  final KubernetesClient cluster;

  final FakeKubelet kubelet;
  final Path dir;
  final Path tokenFile;
  final Path catalogFile;
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final JsonMapper mapper = JsonMapper.builder().build();

  private SimulatedNode(SimCluster sim) {
    this.sim = sim;
    this.simNode = sim.node(0);
    this.api = sim.api();
    this.cluster = api.client();
    this.kubelet = simNode.kubelet();
    this.dir = simNode.dir();
    this.tokenFile = simNode.kubeletTokenFile();
    this.catalogFile = sim.catalogFile();
  }

  /** Short windows and quiet period, repair off (the catalog is valid but never read). */
  static SimulatedNode start() {
    return new SimulatedNode(
        SimCluster.builder()
            .nodes(1)
            .seed(SimCluster.Seed.EMPTY)
            .kubeletFollows(false)
            .env("QUIET_PERIOD", "1s")
            .build());
  }

  /** Replaces the token file in one rename, as a projected volume swaps its files. */
  void writeToken(String token) {
    simNode.writeToken(token);
  }

  /** A kubeconfig for the simulated API server (as the agent's or check's client sees it). */
  Path kubeconfig() {
    return sim.kubeconfig();
  }

  /** A kubeconfig for a server at {@code url}, e.g. one where nothing listens. */
  Path kubeconfig(String url) {
    return sim.kubeconfig(url);
  }

  /** The agent's variables for this node plus {@code overrides}. */
  Map<String, String> env(Map<String, String> overrides) {
    return simNode.env(overrides);
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
    sim.close();
  }
}
