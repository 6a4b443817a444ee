package dev.stateprobe.controlplane;

import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.view.PodRecord;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Real pods in the simulated API server: the API server's own capture of node {@link #NODE} (24
 * pods bound to it, one pending), and three pods of another node from an older capture.
 */
final class ClusterPods {
  static final String NODE = "datagen-1-35";
  static final String OTHER_NODE = "datagen-1-24";
  private static final Set<String> OTHER_NODE_PODS =
      Set.of("kube-proxy-kjvgg", "e2e-ds-n4vzl", "kindnet-mct6m");

  private final KubernetesClient cluster;
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final PodJsonDecoder decoder = new PodJsonDecoder();

  ClusterPods(KubernetesClient cluster) {
    this.cluster = cluster;
  }

  List<Pod> fixture(String name) {
    String json = new String(Fixtures.kubelet(name), StandardCharsets.UTF_8);
    return serialization.unmarshal(json, PodList.class).getItems();
  }

  /** Seeds both nodes; returns how many pods are bound to {@link #NODE}. */
  int seed() {
    int onNode = 0;
    for (Pod p : fixture(Fixtures.API_1_35)) {
      create(p);
      onNode += NODE.equals(p.getSpec().getNodeName()) ? 1 : 0;
    }
    fixture(Fixtures.K8S_1_24).stream()
        .filter(p -> OTHER_NODE_PODS.contains(p.getMetadata().getName()))
        .forEach(this::create);
    return onNode;
  }

  /** Creates a copy of {@code template} as a client would: without server-set metadata. */
  Pod create(Pod template) {
    Pod p = serialization.clone(template);
    p.getMetadata().setUid(null);
    p.getMetadata().setResourceVersion(null);
    p.getMetadata().setCreationTimestamp(null);
    p.getMetadata().setManagedFields(null);
    return cluster.pods().inNamespace(p.getMetadata().getNamespace()).resource(p).create();
  }

  Pod copyOnNode(Pod template, String name, String node) {
    Pod p = serialization.clone(template);
    p.getMetadata().setName(name);
    p.getSpec().setNodeName(node);
    return p;
  }

  void wipe() {
    cluster.pods().inAnyNamespace().list().getItems().forEach(p -> cluster.resource(p).delete());
  }

  boolean empty() {
    return cluster.pods().inAnyNamespace().list().getItems().isEmpty();
  }

  /** The pod's JSON exactly as the API server stores and serves it. */
  byte[] rawJson(String namespace, String name) {
    return cluster
        .raw("/api/v1/namespaces/" + namespace + "/pods/" + name)
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * What the control-plane view must hold: every pod the server has on {@code node}, each decoded
   * straight from its served JSON (not through the informer, not through the node selector).
   */
  Map<String, PodRecord> expectedOn(String node) {
    return cluster.pods().inAnyNamespace().list().getItems().stream()
        .filter(p -> node.equals(p.getSpec().getNodeName()))
        .map(p -> decode(rawJson(p.getMetadata().getNamespace(), p.getMetadata().getName())))
        .collect(Collectors.toMap(PodRecord::uid, r -> r));
  }

  PodRecord decode(byte[] json) {
    try {
      return decoder.decodePod(json);
    } catch (DecodeException e) {
      throw new AssertionError("a pod the API server serves does not decode", e);
    }
  }
}
