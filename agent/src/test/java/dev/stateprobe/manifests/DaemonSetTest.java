package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import dev.stateprobe.config.ConfigLoader;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DaemonSetTest {
  private final RepoFiles repo = new RepoFiles();
  private final DaemonSet ds =
      repo.object(repo.manifests().resolve("base/daemonset.yaml"), DaemonSet.class);
  private final PodSpec pod = ds.getSpec().getTemplate().getSpec();
  private final Container agent = onlyContainer();

  /**
   * The JVM flags, in order. The footprint harness must use exactly these; DockerfileTest holds the
   * image's ENV to the same string.
   */
  static final List<String> JVM_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:ActiveProcessorCount=2",
          "-Xms32m",
          "-Xmx64m",
          "-Xmn8m",
          "-XX:MinHeapFreeRatio=10",
          "-XX:MaxHeapFreeRatio=20",
          "-XX:TrimNativeHeapInterval=5000",
          "-Xss256k",
          "-XX:MaxMetaspaceSize=64m",
          "-XX:ReservedCodeCacheSize=32m",
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseCompactObjectHeaders",
          "-XX:-UsePerfData",
          "-XX:+ExitOnOutOfMemoryError");

  private Container onlyContainer() {
    List<Container> containers = pod.getContainers();
    assertEquals(1, containers.size(), "one container");
    assertEquals("agent", containers.get(0).getName());
    return containers.get(0);
  }

  private SecurityContext security() {
    assertNotNull(agent.getSecurityContext(), "container securityContext");
    return agent.getSecurityContext();
  }

  private Map<String, EnvVar> env() {
    return agent.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  private String envValue(String name) {
    EnvVar v = env().get(name);
    assertNotNull(v, "env " + name);
    return v.getValue();
  }

  private VolumeMount mountAt(String path) {
    return agent.getVolumeMounts().stream()
        .filter(m -> m.getMountPath().equals(path))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume mounted at " + path));
  }

  private Volume volume(String name) {
    return pod.getVolumes().stream()
        .filter(v -> v.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  // ---- security context, one setting at a time ----

  @Test
  void runsAsNonRoot() {
    assertEquals(Boolean.TRUE, security().getRunAsNonRoot());
  }

  @Test
  void runsAsTheImagesNumericUser() {
    assertEquals(65532L, security().getRunAsUser());
    assertEquals(65532L, security().getRunAsGroup());
  }

  @Test
  void hasAReadOnlyRootFilesystem() {
    assertEquals(Boolean.TRUE, security().getReadOnlyRootFilesystem());
  }

  @Test
  void cannotEscalatePrivileges() {
    assertEquals(Boolean.FALSE, security().getAllowPrivilegeEscalation());
    assertEquals(Boolean.FALSE, security().getPrivileged());
  }

  @Test
  void dropsAllCapabilitiesAndAddsNone() {
    assertEquals(List.of("ALL"), security().getCapabilities().getDrop());
    assertTrue(security().getCapabilities().getAdd().isEmpty());
  }

  @Test
  void usesTheRuntimeDefaultSeccompProfile() {
    assertEquals("RuntimeDefault", security().getSeccompProfile().getType());
  }

  @Test
  void usesNoHostNamespaceOrHostPath() {
    assertNull(pod.getHostPID());
    assertNull(pod.getHostNetwork());
    assertNull(pod.getHostIPC());
    assertTrue(pod.getVolumes().stream().allMatch(v -> v.getHostPath() == null));
  }

  @Test
  void aSharedProcessNamespaceReapsOrphanedScriptChildren() {
    assertEquals(Boolean.TRUE, pod.getShareProcessNamespace());
  }

  // ---- identity ----

  @Test
  void runsAsTheStateProbeServiceAccountWithItsToken() {
    ServiceAccount sa =
        repo.object(repo.manifests().resolve("base/serviceaccount.yaml"), ServiceAccount.class);
    assertEquals(sa.getMetadata().getName(), pod.getServiceAccountName());
    assertEquals(Boolean.TRUE, pod.getAutomountServiceAccountToken());
  }

  // ---- probes and ports ----

  @Test
  void livenessAsksHealthzAndReadinessAsksReadyz() {
    assertProbe(agent.getLivenessProbe(), "/healthz");
    assertProbe(agent.getReadinessProbe(), "/readyz");
    assertProbe(agent.getStartupProbe(), "/healthz");
  }

  private static void assertProbe(Probe probe, String path) {
    assertNotNull(probe, "probe for " + path);
    assertEquals(path, probe.getHttpGet().getPath());
    assertEquals("http-metrics", probe.getHttpGet().getPort().getStrVal());
  }

  @Test
  void servesHttpOnPort9808NamedHttpMetrics() {
    assertEquals(1, agent.getPorts().size());
    assertEquals("http-metrics", agent.getPorts().get(0).getName());
    assertEquals(9808, agent.getPorts().get(0).getContainerPort());
    assertEquals("9808", envValue("HTTP_PORT"));
  }

  // ---- rollout and placement ----

  @Test
  void rollsOutToAtMostTenPercentOfNodesAtOnce() {
    assertEquals("RollingUpdate", ds.getSpec().getUpdateStrategy().getType());
    assertEquals(
        "10%", ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable().getStrVal());
    assertEquals(0, ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxSurge().getIntVal());
  }

  @Test
  void toleratesEveryTaintSoItRunsOnControlPlaneNodesToo() {
    List<Toleration> tolerations = pod.getTolerations();
    assertEquals(1, tolerations.size());
    Toleration t = tolerations.get(0);
    assertEquals("Exists", t.getOperator());
    assertNull(t.getKey());
    assertNull(t.getEffect());
  }

  @Test
  void takesNoPriorityClassOnPurpose() {
    assertNull(pod.getPriorityClassName(), "see the comment in daemonset.yaml before adding one");
  }

  @Test
  void theSelectorMatchesThePodLabels() {
    Map<String, String> selector = ds.getSpec().getSelector().getMatchLabels();
    assertEquals(
        Map.of("app.kubernetes.io/name", "state-probe", "app.kubernetes.io/component", "agent"),
        selector);
    assertTrue(
        ds.getSpec()
            .getTemplate()
            .getMetadata()
            .getLabels()
            .entrySet()
            .containsAll(selector.entrySet()));
  }

  // ---- environment ----

  @Test
  void nodeNameAndNodeIpComeFromTheDownwardApi() {
    assertEquals(
        "spec.nodeName", env().get("NODE_NAME").getValueFrom().getFieldRef().getFieldPath());
    assertEquals("status.hostIP", env().get("NODE_IP").getValueFrom().getFieldRef().getFieldPath());
  }

  /** Read by the JVM and by glibc, not by the agent: the memory settings. */
  private static final List<String> RUNTIME_VARIABLES =
      List.of("JAVA_TOOL_OPTIONS", "MALLOC_ARENA_MAX");

  @Test
  void setsOnlyVariablesTheAgentReads() {
    for (String name : env().keySet()) {
      assertTrue(
          ConfigLoader.VARIABLES.contains(name) || RUNTIME_VARIABLES.contains(name),
          name + " is not a variable the agent reads");
    }
  }

  @Test
  void limitsGlibcToOneMallocArena() {
    assertEquals("1", envValue("MALLOC_ARENA_MAX"));
  }

  @Test
  void repairsStartInDryRun() {
    assertEquals("dry-run", envValue("REPAIR_MODE"));
  }

  @Test
  void verifiesTheKubeletAgainstAMountedCa() {
    assertFalse(env().containsKey("KUBELET_INSECURE_SKIP_TLS_VERIFY"));
    String caFile = envValue("KUBELET_CA_FILE");
    VolumeMount mount = mountAt("/etc/state-probe/kubelet-ca");
    assertEquals(Boolean.TRUE, mount.getReadOnly());
    Volume ca = volume(mount.getName());
    assertEquals("kube-root-ca.crt", ca.getConfigMap().getName());
    assertEquals(1, ca.getConfigMap().getItems().size());
    assertEquals(
        mount.getMountPath() + "/" + ca.getConfigMap().getItems().get(0).getPath(), caFile);
  }

  @Test
  void readsTheCatalogFromTheMountedRepairScripts() {
    String catalog = envValue("CATALOG_FILE");
    VolumeMount mount = mountAt(Path.of(catalog).getParent().toString());
    assertEquals("/etc/state-probe/repair-scripts/catalog.yaml", catalog);
    assertEquals(Boolean.TRUE, mount.getReadOnly());
    Volume scripts = volume(mount.getName());
    assertEquals("state-probe-repair-scripts", scripts.getConfigMap().getName());
    assertEquals(Integer.parseInt("555", 8), scripts.getConfigMap().getDefaultMode());
    assertTrue(
        scripts.getConfigMap().getItems().isEmpty(), "every key of the ConfigMap is mounted");
  }

  @Test
  void scriptsWorkInAWritableEmptyDirUnderTheReadOnlyRoot() {
    String tempDir = envValue("SCRIPT_TEMP_DIR");
    assertEquals("/tmp", tempDir);
    VolumeMount mount = mountAt(tempDir);
    assertFalse(Boolean.TRUE.equals(mount.getReadOnly()));
    Volume tmp = volume(mount.getName());
    assertNotNull(tmp.getEmptyDir(), "the temp dir is an emptyDir");
    assertEquals(new Quantity("64Mi"), tmp.getEmptyDir().getSizeLimit());
  }

  @Test
  void theJvmRunsWithTheFootprintFlags() {
    assertEquals(JVM_FLAGS, List.of(envValue("JAVA_TOOL_OPTIONS").split(" ")));
  }

  @Test
  void everyJvmFlagExistsInTheImagesJdk() {
    // The build runs on the image's JDK (25): a flag this JVM lacks is one the image lacks.
    assertTrue(Runtime.version().feature() >= 25, "the image runs JDK 25; this JVM is older");
    HotSpotDiagnosticMXBean hotspot =
        ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    for (String flag : JVM_FLAGS) {
      Optional<String> name = xxName(flag);
      // getVMOption throws for a flag this JVM does not know.
      name.ifPresent(n -> assertNotNull(hotspot.getVMOption(n), flag));
    }
  }

  /** {@code -XX:+Foo}, {@code -XX:-Foo}, {@code -XX:Foo=1} → Foo; other flags have no name. */
  static Optional<String> xxName(String flag) {
    if (!flag.startsWith("-XX:")) {
      return Optional.empty();
    }
    String rest = flag.substring(4);
    if (rest.startsWith("+") || rest.startsWith("-")) {
      rest = rest.substring(1);
    }
    int eq = rest.indexOf('=');
    return Optional.of(eq < 0 ? rest : rest.substring(0, eq));
  }

  // ---- resources ----

  @Test
  void requestsAndLimitsAreTheMeasuredOnes() {
    // README.md, Performance: ~145 MiB steady at 110 pods, ~175 MiB peak at 1000.
    var resources = agent.getResources();
    assertEquals(
        Map.of("cpu", new Quantity("20m"), "memory", new Quantity("160Mi")),
        resources.getRequests());
    assertEquals(Map.of("memory", new Quantity("256Mi")), resources.getLimits(), "no CPU limit");
  }

  @Test
  void theHeapAndMetaspaceCapsFitUnderTheMemoryLimit() {
    long limit =
        agent.getResources().getLimits().get("memory").getNumericalAmount().longValueExact();
    long heap = megabytes(flagValue("-Xmx"));
    long metaspace = megabytes(flagValue("-XX:MaxMetaspaceSize="));
    assertEquals(64L << 20, heap);
    assertTrue(
        heap + metaspace < limit,
        "the heap and metaspace caps (" + (heap + metaspace) + ") must leave room under " + limit);
  }

  private String flagValue(String prefix) {
    return List.of(envValue("JAVA_TOOL_OPTIONS").split(" ")).stream()
        .filter(f -> f.startsWith(prefix))
        .map(f -> f.substring(prefix.length()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + prefix + " flag"));
  }

  private static long megabytes(String value) {
    assertTrue(value.endsWith("m"), value + " should be in megabytes");
    return Long.parseLong(value.substring(0, value.length() - 1)) << 20;
  }
}
