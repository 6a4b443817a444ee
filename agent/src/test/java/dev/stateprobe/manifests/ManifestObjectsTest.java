package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ManifestObjectsTest {
  private final RepoFiles repo = new RepoFiles();

  /** The class fabric8 must produce for each kind; anything else is a typo or a new kind. */
  private static final Map<String, Class<? extends HasMetadata>> TYPED =
      Map.ofEntries(
          Map.entry("Namespace", Namespace.class),
          Map.entry("ServiceAccount", ServiceAccount.class),
          Map.entry("ClusterRole", ClusterRole.class),
          Map.entry("ClusterRoleBinding", ClusterRoleBinding.class),
          Map.entry("DaemonSet", DaemonSet.class),
          Map.entry("Service", Service.class),
          Map.entry("CustomResourceDefinition", CustomResourceDefinition.class),
          Map.entry("ValidatingAdmissionPolicy", ValidatingAdmissionPolicy.class),
          Map.entry("ValidatingAdmissionPolicyBinding", ValidatingAdmissionPolicyBinding.class),
          // The fleet storm brake's coordinator and the agents' read of the brake.
          Map.entry("Deployment", io.fabric8.kubernetes.api.model.apps.Deployment.class),
          Map.entry("Role", io.fabric8.kubernetes.api.model.rbac.Role.class),
          Map.entry("RoleBinding", io.fabric8.kubernetes.api.model.rbac.RoleBinding.class));

  /** YAML files that are generator inputs, not objects. */
  private static final Set<String> NOT_OBJECTS =
      Set.of("overlays/without-prometheus-operator/state-probe-rules.yaml");

  /** Kinds without a namespace. */
  static final Set<String> CLUSTER_SCOPED =
      Set.of(
          "Namespace",
          "ClusterRole",
          "ClusterRoleBinding",
          "CustomResourceDefinition",
          "ValidatingAdmissionPolicy",
          "ValidatingAdmissionPolicyBinding");

  /** Prometheus Operator kinds: fabric8 has no model for them. */
  private static final Set<String> GENERIC = Set.of("PodMonitor", "PrometheusRule");

  @Test
  void everyManifestParsesAsATypedKubernetesObjectWithoutUnknownFields() {
    List<String> problems = new ArrayList<>();
    int objects = 0;
    for (Path file : objectFiles()) {
      for (String doc : repo.documents(file)) {
        Object parsed;
        try {
          parsed = repo.serialization().unmarshal(doc);
        } catch (RuntimeException e) {
          problems.add(file + ": " + e.getMessage());
          continue;
        }
        objects++;
        if (!(parsed instanceof HasMetadata object)) {
          problems.add(file + ": not a Kubernetes object but " + parsed);
          continue;
        }
        String kind = object.getKind();
        if (TYPED.containsKey(kind)) {
          if (!TYPED.get(kind).isInstance(object)) {
            problems.add(
                file
                    + ": "
                    + kind
                    + " parsed as "
                    + object.getClass().getSimpleName()
                    + " (apiVersion "
                    + object.getApiVersion()
                    + "?)");
          }
          UnknownFields.of(object).forEach(u -> problems.add(file + ": " + kind + u));
        } else if (GENERIC.contains(kind)) {
          if (!(object instanceof GenericKubernetesResource)) {
            problems.add(file + ": " + kind + " parsed as " + object.getClass());
          }
        } else {
          problems.add(file + ": unexpected kind " + kind);
        }
        if (object.getMetadata() == null || object.getMetadata().getName() == null) {
          problems.add(file + ": " + kind + " has no metadata.name");
        }
      }
    }
    assertEquals(List.of(), problems);
    // 10 in base/, 2 in components/, 2 patches in overlays/, the two CRDs; then the cluster repair
    // budget's Role and binding, and the fleet storm brake's 8 in base/.
    assertEquals(16 + 2 + 8, objects);
  }

  @Test
  void theWalkerReportsAMisspeltField() {
    DaemonSet ds =
        repo.serialization()
            .unmarshal(
                """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: x}
                spec:
                  template:
                    spec:
                      containers:
                        - name: agent
                          securityContext:
                            readOnlyRootFileSystem: true
                """,
                DaemonSet.class);
    assertEquals(
        List.of(
            ".spec.template.spec.containers[0].securityContext has unknown fields"
                + " [readOnlyRootFileSystem]"),
        UnknownFields.of(ds));
  }

  @Test
  void namespacedObjectsLiveInTheStateProbeNamespace() {
    for (Path file : objectFiles()) {
      if (file.toString().contains("/overlays/")) {
        continue;
      }
      for (String doc : repo.documents(file)) {
        HasMetadata object = repo.serialization().unmarshal(doc);
        boolean clusterScoped = CLUSTER_SCOPED.contains(object.getKind());
        assertEquals(
            clusterScoped ? null : "state-probe",
            object.getMetadata().getNamespace(),
            file + " " + object.getKind());
      }
    }
  }

  @Test
  void thePodMonitorScrapesMetricsAndLabelsEverySeriesWithTheNode() {
    GenericKubernetesResource pm =
        repo.object(
            repo.manifests().resolve("base/podmonitor.yaml"), GenericKubernetesResource.class);
    assertEquals("monitoring.coreos.com/v1", pm.getApiVersion());
    assertEquals("PodMonitor", pm.getKind());
    assertEquals("app.kubernetes.io/name", pm.get("spec", "jobLabel"));
    assertEquals(
        Map.of("app.kubernetes.io/name", "state-probe", "app.kubernetes.io/component", "agent"),
        pm.get("spec", "selector", "matchLabels"));
    List<Map<String, Object>> endpoints = pm.get("spec", "podMetricsEndpoints");
    assertEquals(1, endpoints.size());
    Map<String, Object> endpoint = endpoints.get(0);
    assertEquals("http-metrics", endpoint.get("port"));
    assertEquals("/metrics", endpoint.get("path"));
    assertEquals(
        List.of(
            Map.of(
                "action", "replace",
                "sourceLabels", List.of("__meta_kubernetes_pod_node_name"),
                "targetLabel", "node")),
        endpoint.get("relabelings"));
  }

  @Test
  void theHeadlessServiceSelectsTheAgentPods() {
    Service svc = repo.object(repo.manifests().resolve("base/service.yaml"), Service.class);
    DaemonSet ds = repo.object(repo.manifests().resolve("base/daemonset.yaml"), DaemonSet.class);
    assertEquals("None", svc.getSpec().getClusterIP());
    // Not-ready agents (kubelet unreachable, informer not synced) are the ones to look at.
    assertEquals(Boolean.TRUE, svc.getSpec().getPublishNotReadyAddresses());
    assertEquals(ds.getSpec().getSelector().getMatchLabels(), svc.getSpec().getSelector());
    assertEquals(1, svc.getSpec().getPorts().size());
    assertEquals("http-metrics", svc.getSpec().getPorts().get(0).getName());
    assertEquals(9808, svc.getSpec().getPorts().get(0).getPort());
    assertEquals("http-metrics", svc.getSpec().getPorts().get(0).getTargetPort().getStrVal());
  }

  @Test
  void theNamespaceEnforcesTheRestrictedPodSecurityStandard() {
    Namespace ns = repo.object(repo.manifests().resolve("base/namespace.yaml"), Namespace.class);
    assertEquals("state-probe", ns.getMetadata().getName());
    for (String mode : List.of("enforce", "warn", "audit")) {
      assertEquals(
          "restricted", ns.getMetadata().getLabels().get("pod-security.kubernetes.io/" + mode));
    }
  }

  @Test
  void theCrdParses() {
    Path crd = repo.manifests().resolve(RepoFiles.CRD);
    CustomResourceDefinition parsed = repo.object(crd, CustomResourceDefinition.class);
    assertEquals("consistencyrepairjobs.stateprobe.dev", parsed.getMetadata().getName());
    assertEquals("stateprobe.dev", parsed.getSpec().getGroup());
    assertEquals("Cluster", parsed.getSpec().getScope());
    assertInstanceOf(CustomResourceDefinition.class, parsed);
    assertFalse(parsed.getSpec().getVersions().isEmpty());
  }

  /**
   * Every YAML file under manifests/ that holds objects or object patches; the Helm chart's
   * templates are not YAML until rendered (HelmChartTest checks what they render).
   */
  private List<Path> objectFiles() {
    List<Path> files = new ArrayList<>();
    for (String f : repo.filesUnder(repo.manifests())) {
      if (f.endsWith(".yaml")
          && !f.endsWith("kustomization.yaml")
          && !f.startsWith("helm/")
          && !NOT_OBJECTS.contains(f)) {
        files.add(repo.manifests().resolve(f));
      }
    }
    return files;
  }
}
