package dev.stateprobe.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Test data copied from {@code shared/fixtures} (provenance in {@code
 * fixtures/kubelet/SOURCES.md}).
 */
public final class Fixtures {
  public static final String K8S_1_35 =
      "kubelet-pods_k8s-1.35_minikube-containerd_nri-kubernetes.json";
  public static final String API_1_35 =
      "apiserver-pods_k8s-1.35_same-cluster_nri-kubernetes.converted.json";
  public static final String K8S_1_24 =
      "kubelet-pods_k8s-1.24_minikube-containerd_nri-kubernetes.json";
  public static final String K8S_1_16 = "kubelet-pods_k8s-1.16_minikube-docker_nri-kubernetes.json";
  public static final String EVICTED =
      "kubelet-pods_evicted-pod_minikube-docker_nri-kubernetes.json";
  public static final String K8S_1_10_INIT =
      "kubelet-pods_k8s-1.10_containerd_init-containers-restarts_datadog-agent.json";
  public static final String K8S_1_9_GKE =
      "kubelet-pods_k8s-1.9-gke_docker_static-pending_dup-name-uids_datadog-integrations-core.json";

  /** Every kubelet capture, oldest Kubernetes last. */
  public static final String[] KUBELET_CAPTURES = {
    K8S_1_35, K8S_1_24, K8S_1_16, EVICTED, K8S_1_10_INIT, K8S_1_9_GKE
  };

  private Fixtures() {}

  public static byte[] kubelet(String name) {
    String path = "/fixtures/kubelet/" + name;
    try (InputStream in = Fixtures.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
