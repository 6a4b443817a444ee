package dev.stateprobe.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.catalog.CatalogEntry;
import dev.stateprobe.repair.catalog.CatalogLoader;
import dev.stateprobe.repair.exec.ScriptEnv;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.repair.exec.ScriptInvocation;
import dev.stateprobe.repair.exec.ScriptResult;
import dev.stateprobe.sim.SimApiServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped catalog's scripts run as the image runs them ({@link ImageRoot}): uid 65532, a
 * read-only root laid out as the Dockerfile's runtime stage, only the DaemonSet's {@code /tmp}
 * writable, the scripts from the ConfigMap's mount, the real executor, and the image's real bash,
 * curl and jq against the simulated API server. Where ShippedScriptsIT checks each script's every
 * branch with fakes on a writable root as this machine's user, this proves that the image's user on
 * the image's root can run them at all.
 */
class ImageRootIT {
  private static final String UID = "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f";
  private static final String NS = "shop";
  private static final String SOCKET = "/run/host-repair/containerd.sock";
  private static final Path FAKEBIN =
      Path.of(System.getProperty("basedir", "."), "src/test/resources/repair/fakebin");

  /**
   * Outside JUnit's temporary folders, which warn about every link that leaves them (each applet
   * links to /bin/busybox); one per test JVM, as ScriptUserland's.
   */
  private static final Path ROOTS =
      Path.of(System.getProperty("basedir", "."))
          .resolve("target/image-root-" + ProcessHandle.current().pid());

  @TempDir static Path dir;
  private static ImageRoot image;
  private static SimApiServer sim;
  private static KubernetesClient cluster;

  private ScriptExecutor executor;

  @BeforeAll
  static void build() throws IOException {
    image = ImageRoot.create(ROOTS.resolve("image"));
    image.serviceAccountToken("s3cr3t-token");
    Path test = image.host(ImageRoot.TEST_DIR);
    Path fakes = Files.createDirectories(test.resolve("fakebin"));
    for (String tool : List.of("crictl", "nsenter", "systemctl")) {
      Files.copy(FAKEBIN.resolve(tool), fakes.resolve(tool), StandardCopyOption.COPY_ATTRIBUTES);
    }
    // The writer: what a script that keeps state beside itself or in $HOME would do.
    Path writer = test.resolve("write.sh");
    Files.writeString(
        writer,
        """
        #!/usr/bin/env bash
        set -euo pipefail
        echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) user=$(id -un)"
        to=${WRITE_TO/#HOME/$HOME}
        echo state > "$to"
        echo "wrote $to"
        """);
    Files.setPosixFilePermissions(writer, PosixFilePermissions.fromString("r-xr-xr-x"));
    // The host-repair overlay's runtime socket, bound before the root turns read-only inside.
    Path socket = image.host(SOCKET);
    Files.createDirectories(socket.getParent());
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
    }
    sim = new SimApiServer().start();
    cluster = sim.client();
  }

  @AfterAll
  static void stop() {
    if (sim != null) {
      sim.close();
    }
  }

  @BeforeEach
  void setUp() {
    executor = executor(ScriptEnv.DEFAULT_PATH);
  }

  private static ScriptExecutor executor(String path) {
    ScriptExecutor.Settings d = ScriptExecutor.Settings.defaults(image.tmp());
    return new ScriptExecutor(
        image.runner(),
        Clock.systemUTC(),
        new ScriptExecutor.Settings(d.tempBase(), d.killGrace(), path, d.captureInterval()));
  }

  private ScriptResult run(
      ScriptExecutor executor,
      String script,
      DriftKind kind,
      boolean dryRun,
      String pod,
      String uid,
      Map<String, String> env) {
    return executor.run(
        new ScriptInvocation(
            script.substring(script.lastIndexOf('/') + 1).replace(".sh", ""),
            image.host(script),
            Duration.ofSeconds(30),
            kind,
            "node-a",
            NS,
            pod,
            uid,
            "crj-test",
            1,
            dryRun,
            "{}",
            env));
  }

  /** A catalog script, from where the DaemonSet mounts the catalog. */
  private ScriptResult shipped(
      String name, DriftKind kind, boolean dryRun, Map<String, String> env) {
    return shipped(executor, name, kind, dryRun, "web-7d9f-abcde", UID, env);
  }

  private ScriptResult shipped(
      ScriptExecutor executor,
      String name,
      DriftKind kind,
      boolean dryRun,
      String pod,
      String uid,
      Map<String, String> env) {
    return run(
        executor, ImageRoot.CONFIGMAP_SCRIPTS + "/" + name + ".sh", kind, dryRun, pod, uid, env);
  }

  /** What the agent gives a script in a pod: the API server's URL and the mounted token. */
  private static Map<String, String> api() {
    String url = sim.url();
    Map<String, String> env = new HashMap<>();
    env.put("STATE_PROBE_API_URL", url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    env.put("STATE_PROBE_API_TOKEN_FILE", ImageRoot.SERVICE_ACCOUNT + "/token");
    return env;
  }

  private static Pod pod(String name, boolean controlled) {
    PodBuilder b =
        new PodBuilder().withNewMetadata().withName(name).withNamespace(NS).endMetadata();
    if (controlled) {
      b.editMetadata()
          .addNewOwnerReference()
          .withApiVersion("apps/v1")
          .withKind("ReplicaSet")
          .withName("web-7d9f")
          .withUid("11111111-2222-3333-4444-555555555555")
          .withController(true)
          .endOwnerReference()
          .endMetadata();
    }
    b.withNewSpec().addNewContainer().withName("app").withImage("app").endContainer().endSpec();
    return cluster.pods().inNamespace(NS).resource(b.build()).create();
  }

  private static boolean exists(String name) {
    return cluster.pods().inNamespace(NS).withName(name).get() != null;
  }

  private static void assertExit(int code, ScriptResult r) {
    assertThat(r.exitCode()).as(r.reason() + "\n" + r.output()).isEqualTo(code);
  }

  private ScriptResult write(String where) {
    return run(
        executor,
        ImageRoot.TEST_DIR + "/write.sh",
        DriftKind.ORPHANED_POD,
        false,
        "web",
        UID,
        Map.of("WRITE_TO", where));
  }

  @Test
  void scriptsRunAsUid65532AndMayWriteOnlyUnderTmp() throws IOException {
    ScriptResult tmp = write("/tmp/scratch");
    assertExit(0, tmp);
    assertThat(tmp.output())
        .isEqualTo("uid=65532 gid=65532 groups=65532 user=stateprobe\nwrote /tmp/scratch\n");
    assertThat(Files.readString(image.host("/tmp/scratch"))).isEqualTo("state\n");

    // The run's HOME and TMPDIR are its working directory under /tmp.
    ScriptResult home = write("HOME/state");
    assertExit(0, home);
    assertThat(home.output()).containsPattern("\nwrote /tmp/state-probe-write-[^/]+/state\n$");
  }

  @Test
  void aScriptThatWritesOutsideTheWritablePathsFailsWithAClearError() throws IOException {
    for (String where :
        List.of(
            "/state",
            ImageRoot.IMAGE_SCRIPTS + "/state",
            ImageRoot.CONFIGMAP_SCRIPTS + "/catalog.yaml",
            "/etc/passwd",
            ImageRoot.SERVICE_ACCOUNT + "/token",
            "/usr/bin/jq")) {
      ScriptResult r = write(where);
      assertExit(1, r);
      assertThat(r.output())
          .as(where)
          .startsWith("uid=65532 gid=65532")
          .contains(where + ": Read-only file system")
          .doesNotContain("wrote");
      Path onHost = image.host(where);
      assertThat(
              Files.exists(onHost)
                  && Files.size(onHost) == 6
                  && Files.readString(onHost).equals("state\n"))
          .as(where + " unchanged")
          .isFalse();
    }
    // The image user's passwd home does not exist and cannot be made.
    ScriptResult home = write("/nonexistent/state");
    assertExit(1, home);
    assertThat(home.output()).contains("/nonexistent/state: No such file or directory");
  }

  @Test
  void theRootHasTheDaemonSetsUserWritablePathsAndCatalogAndTheDockerfilesPaths()
      throws IOException {
    Path repo = Path.of(System.getProperty("basedir", "."), "..").normalize();
    DaemonSet ds =
        new KubernetesSerialization()
            .unmarshal(
                Files.readString(repo.resolve("manifests/base/daemonset.yaml")), DaemonSet.class);
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    Container agent = pod.getContainers().get(0);
    SecurityContext sc = agent.getSecurityContext();
    assertThat(sc.getRunAsUser()).isEqualTo((long) ImageRoot.UID);
    assertThat(sc.getRunAsGroup()).isEqualTo((long) ImageRoot.UID);
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    List<VolumeMount> writable =
        agent.getVolumeMounts().stream()
            .filter(m -> !Boolean.TRUE.equals(m.getReadOnly()))
            .toList();
    assertThat(writable).extracting(VolumeMount::getMountPath).containsExactly(ImageRoot.TMP);
    Map<String, String> env = new HashMap<>();
    agent.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
    assertThat(env.get("SCRIPT_TEMP_DIR")).isEqualTo(ImageRoot.TMP);
    assertThat(env.get("CATALOG_FILE")).isEqualTo(ImageRoot.CONFIGMAP_SCRIPTS + "/catalog.yaml");

    String dockerfile = Files.readString(repo.resolve("Dockerfile"));
    assertThat(dockerfile)
        .contains("USER " + ImageRoot.UID + ":" + ImageRoot.UID + "\n")
        .contains("-u " + ImageRoot.UID + " ")
        .contains("-h /nonexistent ")
        .contains("COPY --chmod=0555 repair-scripts/*.sh " + ImageRoot.IMAGE_SCRIPTS + "/\n")
        .contains(
            "COPY --chmod=0444 repair-scripts/catalog.yaml "
                + ImageRoot.IMAGE_SCRIPTS
                + "/catalog.yaml\n");
  }

  @Test
  void aKernelThatRefusesUserNamespacesFailsTheHarnessAndSaysSo() throws IOException {
    Path bin = Files.createDirectories(dir.resolve("refusing"));
    Path unshare = bin.resolve("unshare");
    Files.writeString(
        unshare,
        "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n");
    Files.setPosixFilePermissions(unshare, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThatThrownBy(() -> ImageRoot.create(ROOTS.resolve("refused"), unshare))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot enter the image root as uid 65532")
        .hasMessageContaining("refuses unprivileged user namespaces")
        .hasMessageContaining("unshare: unshare failed: Operation not permitted");
  }

  @Test
  void everyCatalogScriptIsRunHere() throws Exception {
    // A script added to the catalog must get a test below that runs it in the image root.
    Map<String, String> tested =
        new TreeMap<>(
            Map.of(
                "remove-orphaned-sandbox",
                    "removeOrphanedSandboxCannotRepairInTheDefaultImageAndUsesCrictlWithTheOverlay",
                "force-delete-stuck-pod", "forceDeleteStuckPodDeletesThroughTheRealCurl",
                "recreate-controlled-pod", "recreateControlledPodDeletesOnlyAControlledPod",
                "restart-kubelet", "restartKubeletCannotEnterTheHostAsTheImageUser"));
    List<CatalogEntry> entries =
        CatalogLoader.load(image.host(ImageRoot.CONFIGMAP_SCRIPTS + "/catalog.yaml")).entries();
    List<String> names = entries.stream().map(CatalogEntry::name).sorted().toList();
    assertThat(names).containsExactlyElementsOf(tested.keySet());
    for (String test : tested.values()) {
      assertThat(ImageRootIT.class.getDeclaredMethod(test)).isNotNull();
    }
  }

  @Test
  void removeOrphanedSandboxCannotRepairInTheDefaultImageAndUsesCrictlWithTheOverlay()
      throws IOException {
    // The default image: no crictl, no runtime socket at any of the usual paths.
    for (boolean dryRun : List.of(false, true)) {
      ScriptResult r = shipped("remove-orphaned-sandbox", DriftKind.ORPHANED_POD, dryRun, Map.of());
      assertExit(3, r);
      assertThat(r.output())
          .startsWith(
              "remove-orphaned-sandbox: cannot repair here: crictl not found on PATH ("
                  + ScriptEnv.DEFAULT_PATH
                  + ")")
          .endsWith("Needs the host-repair overlay (manifests/overlays/host-repair)\n");
    }
    // The host-repair image: crictl (a fake: no runtime here) and the mounted socket.
    String sandbox = "a".repeat(64);
    ScriptResult r =
        shipped(
            executor(ImageRoot.TEST_DIR + "/fakebin:" + ScriptEnv.DEFAULT_PATH),
            "remove-orphaned-sandbox",
            DriftKind.ORPHANED_POD,
            false,
            "web-7d9f-abcde",
            UID,
            Map.of(
                "CONTAINER_RUNTIME_ENDPOINT",
                "unix://" + SOCKET,
                "FAKE_CRICTL_PODS",
                sandbox,
                "FAKE_LOG",
                "/tmp/crictl.log"));
    assertExit(0, r);
    assertThat(Files.readAllLines(image.host("/tmp/crictl.log")))
        .containsExactly(
            "crictl\tpods\t--label\tio.kubernetes.pod.uid=" + UID + "\t-q",
            "crictl\tstopp\t" + sandbox,
            "crictl\trmp\t" + sandbox);
  }

  @Test
  void forceDeleteStuckPodDeletesThroughTheRealCurl() {
    Pod dry = pod("stuck-dry", false);
    ScriptResult dryRun =
        shipped(
            executor,
            "force-delete-stuck-pod",
            DriftKind.STUCK_TERMINATING,
            true,
            "stuck-dry",
            dry.getMetadata().getUid(),
            api());
    assertExit(0, dryRun);
    assertThat(dryRun.output()).startsWith("force-delete-stuck-pod: dry-run: would DELETE ");
    assertThat(exists("stuck-dry")).isTrue();

    Pod stuck = pod("stuck", false);
    ScriptResult r =
        shipped(
            executor,
            "force-delete-stuck-pod",
            DriftKind.STUCK_TERMINATING,
            false,
            "stuck",
            stuck.getMetadata().getUid(),
            api());
    assertExit(0, r);
    assertThat(exists("stuck")).isFalse();
  }

  @Test
  void recreateControlledPodDeletesOnlyAControlledPod() {
    Pod lone = pod("lone", false);
    ScriptResult uncontrolled =
        shipped(
            executor,
            "recreate-controlled-pod",
            DriftKind.CONTAINER_NOT_RUNNING,
            false,
            "lone",
            lone.getMetadata().getUid(),
            api());
    assertExit(2, uncontrolled);
    assertThat(uncontrolled.output())
        .isEqualTo(
            "recreate-controlled-pod: pod shop/lone is not controlled: deleting it would lose"
                + " it\n");
    assertThat(exists("lone")).isTrue();

    Pod web = pod("web-1", true);
    ScriptResult r =
        shipped(
            executor,
            "recreate-controlled-pod",
            DriftKind.CONTAINER_NOT_RUNNING,
            false,
            "web-1",
            web.getMetadata().getUid(),
            api());
    assertExit(0, r);
    assertThat(r.output())
        .startsWith(
            "recreate-controlled-pod: deleted pod shop/web-1 (uid "
                + web.getMetadata().getUid()
                + "); ReplicaSet/web-7d9f recreates it");
    assertThat(exists("web-1")).isFalse();
  }

  @Test
  void restartKubeletCannotEnterTheHostAsTheImageUser() {
    // BusyBox's real nsenter, as uid 65532 without capabilities: the default install's refusal.
    for (boolean dryRun : List.of(false, true)) {
      ScriptResult r = shipped("restart-kubelet", DriftKind.UNKNOWN_TO_KUBELET, dryRun, Map.of());
      assertExit(3, r);
      assertThat(r.output())
          .startsWith(
              "restart-kubelet: cannot repair here: no access to the host's systemd ('nsenter -t 1"
                  + " -m -u -i -n -p -- systemctl --version' failed: nsenter: ")
          .endsWith(
              "Needs the host-repair overlay (manifests/overlays/host-repair: hostPID and a"
                  + " privileged container)\n");
    }
  }
}
