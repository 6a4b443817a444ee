package dev.stateprobe.repair.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.image.ScriptUserland;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts in repair-scripts/, run through the real executor with the image's userland as the
 * PATH ({@link ScriptUserland}: Alpine's BusyBox applets, bash, curl, jq; no Debian tools), and
 * fake crictl, curl, nsenter and systemctl before it (src/test/resources/repair/fakebin). The fakes
 * append each call, tab-separated, to a log these tests read.
 */
class ShippedScriptsIT {
  static final Path SHIPPED = Path.of("..", "repair-scripts").toAbsolutePath().normalize();
  static final Path FAKEBIN = Path.of("src/test/resources/repair/fakebin").toAbsolutePath();
  static final String UID = "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f";
  static final String API = "https://10.96.0.1:443";
  static final String TOKEN = "s3cr3t-token";

  @TempDir Path temp;
  private Path log;
  private Path tokenFile;
  private Path caFile;
  private ScriptExecutor executor;
  private ScriptUserland userland;
  private Path work;

  /** A container runtime socket, as the host-repair overlay mounts one. */
  private Path socket;

  @BeforeEach
  void setUp() throws IOException {
    work = Files.createDirectory(temp.resolve("work"));
    log = temp.resolve("calls.log");
    tokenFile = temp.resolve("token");
    Files.writeString(tokenFile, TOKEN + "\n");
    caFile = temp.resolve("ca.crt");
    Files.writeString(caFile, "-----BEGIN CERTIFICATE-----\n");
    userland = ScriptUserland.get();
    executor = executor(FAKEBIN + ":" + userland.path());
    socket = temp.resolve("containerd.sock");
    // The socket file stays once bound; crictl is a fake, nothing needs to answer on it.
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
    }
  }

  private ScriptExecutor executor(String path) {
    ScriptExecutor.Settings d = ScriptExecutor.Settings.defaults(work);
    return new ScriptExecutor(
        DefaultProcessRunner.create(),
        Clock.systemUTC(),
        new ScriptExecutor.Settings(d.tempBase(), d.killGrace(), path, d.captureInterval()));
  }

  /** What a run is about; tests change one field at a time. */
  record Target(String namespace, String name, String uid, String node) {
    static Target ok() {
      return new Target("shop", "web-7d9f-abcde", UID, "node-a.example.com");
    }
  }

  private ScriptResult run(
      String script, DriftKind kind, boolean dryRun, Target t, Map<String, String> env) {
    return run(executor, script, kind, dryRun, t, env);
  }

  private ScriptResult run(
      ScriptExecutor executor,
      String script,
      DriftKind kind,
      boolean dryRun,
      Target t,
      Map<String, String> env) {
    Map<String, String> extra = new HashMap<>(env);
    extra.put("FAKE_LOG", log.toString());
    return executor.run(
        new ScriptInvocation(
            script,
            SHIPPED.resolve(script + ".sh"),
            Duration.ofSeconds(30),
            kind,
            t.node(),
            t.namespace(),
            t.name(),
            t.uid(),
            "crj-test",
            1,
            dryRun,
            "{}",
            extra));
  }

  /** The recorded calls, each as its argv (the tool first). */
  private List<List<String>> calls() throws IOException {
    if (!Files.exists(log)) {
      return List.of();
    }
    List<List<String>> out = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      out.add(Arrays.asList(line.split("\t", -1)));
    }
    return out;
  }

  private List<List<String>> calls(String tool) throws IOException {
    return calls().stream().filter(c -> c.get(0).equals(tool)).toList();
  }

  private static void assertExit(int code, ScriptResult r) {
    assertEquals(code, r.exitCode(), r.reason() + "\n" + r.output());
  }

  @Nested
  class RemoveOrphanedSandbox {
    private static final String S = "remove-orphaned-sandbox";
    private final String a = "a".repeat(64);
    private final String b = "b".repeat(64);

    private ScriptResult run(DriftKind kind, boolean dryRun, Target t, Map<String, String> env) {
      Map<String, String> withSocket = new HashMap<>();
      withSocket.put("CONTAINER_RUNTIME_ENDPOINT", "unix://" + socket);
      withSocket.putAll(env);
      return ShippedScriptsIT.this.run(S, kind, dryRun, t, withSocket);
    }

    @Test
    void withoutCrictlAndTheRuntimeSocketItCannotRepairHereAndSaysWhy() throws IOException {
      // The default install: the default image (no crictl), no host-repair overlay (no socket).
      Path none = temp.resolve("run/containerd/containerd.sock");
      for (boolean dryRun : List.of(false, true)) {
        ScriptResult r =
            ShippedScriptsIT.this.run(
                executor(userland.path()),
                S,
                DriftKind.ORPHANED_POD,
                dryRun,
                Target.ok(),
                Map.of("CONTAINER_RUNTIME_ENDPOINT", "unix://" + none));
        assertExit(3, r);
        assertEquals(ScriptOutcome.PERMANENT_FAILURE, r.outcome());
        assertEquals(
            "remove-orphaned-sandbox: cannot repair here: crictl not found on PATH ("
                + userland.path()
                + "): the default image does not ship it, the host-repair image does; no"
                + " container runtime socket is mounted (looked for "
                + none
                + "). Needs the host-repair overlay (manifests/overlays/host-repair)\n",
            r.output());
      }
      assertEquals(List.of(), calls());
    }

    @Test
    void withCrictlButNoSocketItCannotRepairHere() throws IOException {
      Path none = temp.resolve("crio.sock");
      ScriptResult r =
          run(
              DriftKind.ORPHANED_POD,
              false,
              Target.ok(),
              Map.of("CONTAINER_RUNTIME_ENDPOINT", "unix://" + none, "FAKE_CRICTL_PODS", a));
      assertExit(3, r);
      assertEquals(
          "remove-orphaned-sandbox: cannot repair here: no container runtime socket is mounted"
              + " (looked for "
              + none
              + "). Needs the host-repair overlay (manifests/overlays/host-repair)\n",
          r.output());
      assertEquals(List.of(), calls());
    }

    @Test
    void stopsAndRemovesEverySandboxOfTheUid() throws IOException {
      ScriptResult r =
          run(DriftKind.ORPHANED_POD, false, Target.ok(), Map.of("FAKE_CRICTL_PODS", a + "\n" + b));
      assertExit(0, r);
      assertEquals(
          List.of(
              List.of("crictl", "pods", "--label", "io.kubernetes.pod.uid=" + UID, "-q"),
              List.of("crictl", "stopp", a),
              List.of("crictl", "rmp", a),
              List.of("crictl", "stopp", b),
              List.of("crictl", "rmp", b)),
          calls());
    }

    @Test
    void terminalButRunningIsRepairedTheSameWay() throws IOException {
      ScriptResult r =
          run(DriftKind.TERMINAL_BUT_RUNNING, false, Target.ok(), Map.of("FAKE_CRICTL_PODS", a));
      assertExit(0, r);
      assertEquals(3, calls().size());
    }

    @Test
    void noSandboxIsNotApplicable() throws IOException {
      ScriptResult r = run(DriftKind.ORPHANED_POD, false, Target.ok(), Map.of());
      assertExit(2, r);
      assertEquals(ScriptOutcome.NOT_APPLICABLE, r.outcome());
      assertEquals(
          List.of(List.of("crictl", "pods", "--label", "io.kubernetes.pod.uid=" + UID, "-q")),
          calls());
    }

    @Test
    void crictlFailureIsRetryable() throws IOException {
      ScriptResult r =
          run(
              DriftKind.ORPHANED_POD,
              false,
              Target.ok(),
              Map.of("FAKE_CRICTL_PODS", a, "FAKE_CRICTL_FAIL", "stopp"));
      assertExit(1, r);
      assertEquals(List.of("crictl", "stopp", a), calls().get(calls().size() - 1));
      assertTrue(r.output().contains("'crictl stopp " + a + "' failed"), r.output());

      Files.delete(log);
      assertExit(
          1, run(DriftKind.ORPHANED_POD, false, Target.ok(), Map.of("FAKE_CRICTL_FAIL", "pods")));
    }

    @Test
    void dryRunOnlyLooksAndChangesNothing() throws IOException {
      ScriptResult r =
          run(DriftKind.ORPHANED_POD, true, Target.ok(), Map.of("FAKE_CRICTL_PODS", a));
      assertExit(0, r);
      assertEquals(
          List.of(List.of("crictl", "pods", "--label", "io.kubernetes.pod.uid=" + UID, "-q")),
          calls());
      assertEquals(
          "remove-orphaned-sandbox: dry-run: would run 'crictl stopp "
              + a
              + "' and 'crictl rmp "
              + a
              + "' (pod UID "
              + UID
              + ")\n",
          r.output());
    }

    @Test
    void badUidIsPermanentAndRunsNothing() throws IOException {
      Target t = new Target("shop", "web", "$(reboot)", "node-a");
      ScriptResult r = run(DriftKind.ORPHANED_POD, false, t, Map.of("FAKE_CRICTL_PODS", a));
      assertExit(3, r);
      assertEquals(List.of(), calls());
      assertEquals(
          "remove-orphaned-sandbox: STATE_PROBE_POD_UID '$(reboot)' does not look like a pod"
              + " UID\n",
          r.output());
    }

    @Test
    void driftKindItDoesNotRepairIsPermanent() throws IOException {
      ScriptResult r = run(DriftKind.UID_MISMATCH, false, Target.ok(), Map.of());
      assertExit(3, r);
      assertEquals(List.of(), calls());
    }
  }

  @Nested
  class ForceDeleteStuckPod {
    private static final String S = "force-delete-stuck-pod";

    private Map<String, String> api(String... more) {
      Map<String, String> env = new HashMap<>();
      env.put("STATE_PROBE_API_URL", API);
      env.put("STATE_PROBE_API_TOKEN_FILE", tokenFile.toString());
      env.put("STATE_PROBE_API_CA_FILE", caFile.toString());
      for (int i = 0; i < more.length; i += 2) {
        env.put(more[i], more[i + 1]);
      }
      return env;
    }

    private ScriptResult run(boolean dryRun, Target t, Map<String, String> env) {
      return ShippedScriptsIT.this.run(S, DriftKind.STUCK_TERMINATING, dryRun, t, env);
    }

    @Test
    void deletesWithZeroGraceAndTheUidPreconditionTokenInAHeaderFile() throws IOException {
      ScriptResult r = run(false, Target.ok(), api());
      assertExit(0, r);
      List<List<String>> curl = calls("curl");
      assertEquals(1, curl.size());
      List<String> argv = curl.get(0);
      assertEquals(API + "/api/v1/namespaces/shop/pods/web-7d9f-abcde", argv.get(argv.size() - 1));
      assertEquals("DELETE", argv.get(argv.indexOf("-X") + 1));
      assertEquals(
          "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"gracePeriodSeconds\":0,"
              + "\"preconditions\":{\"uid\":\""
              + UID
              + "\"}}",
          argv.get(argv.indexOf("--data") + 1));
      assertEquals(caFile.toString(), argv.get(argv.indexOf("--cacert") + 1));
      assertFalse(String.join(" ", argv).contains(TOKEN), "token must not be on the command line");
      assertEquals(
          List.of(
              List.of(
                  "curl-headers",
                  "Authorization: Bearer " + TOKEN,
                  "Content-Type: application/json",
                  "Accept: application/json")),
          calls("curl-headers"));
    }

    @Test
    void statusDecidesTheExitCode() throws IOException {
      int[][] cases = {{200, 0}, {202, 0}, {404, 2}, {409, 2}, {403, 1}, {500, 1}};
      for (int[] c : cases) {
        ScriptResult r =
            run(false, Target.ok(), api("FAKE_CURL_DELETE_STATUS", Integer.toString(c[0])));
        assertEquals(c[1], r.exitCode(), "HTTP " + c[0] + ": " + r.output());
      }
    }

    @Test
    void connectionFailureIsRetryable() {
      assertExit(1, run(false, Target.ok(), api("FAKE_CURL_EXIT", "7")));
    }

    @Test
    void withoutCaFileNoCacertIsPassed() throws IOException {
      Map<String, String> env = api();
      env.remove("STATE_PROBE_API_CA_FILE");
      assertExit(0, run(false, Target.ok(), env));
      assertFalse(calls("curl").get(0).contains("--cacert"));
    }

    @Test
    void dryRunCallsNothing() throws IOException {
      ScriptResult r = run(true, Target.ok(), api());
      assertExit(0, r);
      assertEquals(List.of(), calls());
      assertEquals(
          "force-delete-stuck-pod: dry-run: would DELETE "
              + API
              + "/api/v1/namespaces/shop/pods/web-7d9f-abcde with gracePeriodSeconds=0 and"
              + " precondition uid="
              + UID
              + "\n",
          r.output());
    }

    @Test
    void badInputIsPermanentAndCallsNothing() throws IOException {
      Target ok = Target.ok();
      List<ScriptResult> results =
          List.of(
              run(false, new Target("shop", "Web_7", UID, "n"), api()),
              run(false, new Target("../kube-system", "web", UID, "n"), api()),
              run(false, new Target("shop", "web", "not-a-uid", "n"), api()),
              run(false, ok, api("STATE_PROBE_API_URL", "")),
              run(false, ok, api("STATE_PROBE_API_URL", "https://api/x?y")),
              run(false, ok, api("STATE_PROBE_API_TOKEN_FILE", temp.resolve("none").toString())),
              run(false, ok, api("STATE_PROBE_API_CA_FILE", temp.resolve("none").toString())));
      for (ScriptResult r : results) {
        assertExit(3, r);
      }
      assertEquals(List.of(), calls());
      assertEquals(
          "force-delete-stuck-pod: STATE_PROBE_POD_NAME 'Web_7' is not a pod name\n",
          results.get(0).output());
    }
  }

  @Nested
  class RecreateControlledPod {
    private static final String S = "recreate-controlled-pod";

    private String pod(String uid, String owners) {
      return "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-7d9f-abcde\",\"namespace\":\"shop\","
          + "\"uid\":\""
          + uid
          + "\",\"ownerReferences\":"
          + owners
          + "}}";
    }

    private final String controlled =
        "[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-7d9f\","
            + "\"uid\":\"11111111-2222-3333-4444-555555555555\",\"controller\":true}]";

    private Map<String, String> api(String getBody, String... more) {
      Map<String, String> env = new HashMap<>();
      env.put("STATE_PROBE_API_URL", API);
      env.put("STATE_PROBE_API_TOKEN_FILE", tokenFile.toString());
      env.put("FAKE_CURL_GET_BODY", getBody);
      for (int i = 0; i < more.length; i += 2) {
        env.put(more[i], more[i + 1]);
      }
      return env;
    }

    private ScriptResult run(boolean dryRun, Map<String, String> env) {
      return ShippedScriptsIT.this.run(
          S, DriftKind.CONTAINER_NOT_RUNNING, dryRun, Target.ok(), env);
    }

    private List<String> methods() throws IOException {
      return calls("curl").stream().map(c -> c.get(c.indexOf("-X") + 1)).toList();
    }

    @Test
    void deletesAControlledPodWithTheUidPreconditionAndItsOwnGrace() throws IOException {
      ScriptResult r = run(false, api(pod(UID, controlled)));
      assertExit(0, r);
      assertEquals(List.of("GET", "DELETE"), methods());
      List<String> delete = calls("curl").get(1);
      assertEquals(
          "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"preconditions\":{\"uid\":\""
              + UID
              + "\"}}",
          delete.get(delete.indexOf("--data") + 1));
      assertEquals(
          API + "/api/v1/namespaces/shop/pods/web-7d9f-abcde", delete.get(delete.size() - 1));
      assertEquals(
          "recreate-controlled-pod: deleted pod shop/web-7d9f-abcde (uid "
              + UID
              + "); ReplicaSet/web-7d9f recreates it: HTTP 200\n",
          r.output());
    }

    @Test
    void uncontrolledPodIsNotApplicable() throws IOException {
      String ownedNotControlled =
          "[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"name\":\"x\",\"uid\":\"u\"}]";
      for (String owners : List.of("[]", "null", ownedNotControlled)) {
        Files.deleteIfExists(log);
        ScriptResult r = run(false, api(pod(UID, owners)));
        assertExit(2, r);
        assertEquals(List.of("GET"), methods());
        assertEquals(
            "recreate-controlled-pod: pod shop/web-7d9f-abcde is not controlled: deleting it"
                + " would lose it\n",
            r.output());
      }
    }

    @Test
    void recreatedPodIsNotApplicable() throws IOException {
      ScriptResult r = run(false, api(pod("99999999-8888-7777-6666-555555555555", controlled)));
      assertExit(2, r);
      assertEquals(List.of("GET"), methods());
    }

    @Test
    void goneAndConflictAreNotApplicableServerErrorsRetryable() {
      assertExit(2, run(false, api("{}", "FAKE_CURL_GET_STATUS", "404")));
      assertExit(1, run(false, api("{}", "FAKE_CURL_GET_STATUS", "500")));
      assertExit(1, run(false, api("not json")));
      assertExit(2, run(false, api(pod(UID, controlled), "FAKE_CURL_DELETE_STATUS", "409")));
      assertExit(1, run(false, api(pod(UID, controlled), "FAKE_CURL_DELETE_STATUS", "500")));
    }

    @Test
    void dryRunOnlyReads() throws IOException {
      ScriptResult r = run(true, api(pod(UID, controlled)));
      assertExit(0, r);
      assertEquals(List.of("GET"), methods());
      assertEquals(
          "recreate-controlled-pod: dry-run: would DELETE "
              + API
              + "/api/v1/namespaces/shop/pods/web-7d9f-abcde with precondition uid="
              + UID
              + "; ReplicaSet/web-7d9f would recreate it\n",
          r.output());

      Files.delete(log);
      ScriptResult skip = run(true, api(pod(UID, "[]")));
      assertExit(0, skip);
      assertEquals(List.of("GET"), methods());
      assertTrue(skip.output().endsWith("a real run would exit 2\n"), skip.output());
    }

    @Test
    void badInputIsPermanentAndCallsNothing() throws IOException {
      Map<String, String> noToken = api(pod(UID, controlled));
      noToken.remove("STATE_PROBE_API_TOKEN_FILE");
      assertExit(3, run(false, noToken));
      assertExit(
          3,
          ShippedScriptsIT.this.run(
              S, DriftKind.ORPHANED_POD, false, Target.ok(), api(pod(UID, controlled))));
      assertEquals(List.of(), calls());
    }
  }

  @Nested
  class RestartKubelet {
    private static final String S = "restart-kubelet";
    private static final List<String> HOST =
        List.of("nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--");

    private ScriptResult run(DriftKind kind, boolean dryRun, Target t, Map<String, String> env) {
      return ShippedScriptsIT.this.run(S, kind, dryRun, t, env);
    }

    private static List<String> host(String... cmd) {
      List<String> l = new ArrayList<>(HOST);
      l.addAll(List.of(cmd));
      return l;
    }

    @Test
    void restartsTheKubeletInTheHostNamespacesAndWaitsUntilActive() throws IOException {
      ScriptResult r = run(DriftKind.MISSING_MIRROR_POD, false, Target.ok(), Map.of());
      assertExit(0, r);
      assertEquals(
          List.of(
              host("systemctl", "--version"),
              List.of("systemctl", "--version"),
              host("systemctl", "restart", "kubelet"),
              List.of("systemctl", "restart", "kubelet"),
              host("systemctl", "is-active", "kubelet"),
              List.of("systemctl", "is-active", "kubelet")),
          calls());
      assertEquals(
          "restart-kubelet: kubelet restarted on node node-a.example.com and is active\n",
          r.output());
    }

    @Test
    void failedRestartIsRetryable() throws IOException {
      ScriptResult r =
          run(
              DriftKind.UNKNOWN_TO_KUBELET,
              false,
              Target.ok(),
              Map.of("FAKE_SYSTEMCTL_RESTART_EXIT", "1"));
      assertExit(1, r);
      assertEquals(4, calls().size());
    }

    @Test
    void withoutAccessToTheHostItCannotRepairHereAndSaysWhy() throws IOException {
      // The default install: no hostPID, no privileges, so entering PID 1's namespaces fails.
      for (boolean dryRun : List.of(false, true)) {
        Files.deleteIfExists(log);
        ScriptResult r =
            run(
                DriftKind.UNKNOWN_TO_KUBELET,
                dryRun,
                Target.ok(),
                Map.of("FAKE_NSENTER_DENIED", "true"));
        assertExit(3, r);
        assertEquals(
            "restart-kubelet: cannot repair here: no access to the host's systemd ('nsenter -t 1"
                + " -m -u -i -n -p -- systemctl --version' failed: nsenter: reassociate to"
                + " namespace 'ns/ipc' failed: Operation not permitted). Needs the host-repair"
                + " overlay (manifests/overlays/host-repair: hostPID and a privileged container)\n",
            r.output());
        assertEquals(List.of(host("systemctl", "--version")), calls());
      }
    }

    @Test
    void kubeletThatStaysInactiveIsRetryable() throws IOException {
      ScriptResult r =
          run(
              DriftKind.STALE_KUBELET_VIEW,
              false,
              Target.ok(),
              Map.of(
                  "FAKE_SYSTEMCTL_STATE", "activating", "STATE_PROBE_KUBELET_WAIT_SECONDS", "2"));
      assertExit(1, r);
      assertEquals(
          2, calls("systemctl").stream().filter(c -> c.get(1).equals("is-active")).count());
      assertTrue(r.output().endsWith("(last state: activating)\n"), r.output());
    }

    @Test
    void dryRunOnlyChecksItCanReachTheHost() throws IOException {
      ScriptResult r = run(DriftKind.MISSING_MIRROR_POD, true, Target.ok(), Map.of());
      assertExit(0, r);
      assertEquals(
          List.of(host("systemctl", "--version"), List.of("systemctl", "--version")), calls());
      assertEquals(
          "restart-kubelet: dry-run: would run 'nsenter -t 1 -m -u -i -n -p -- systemctl restart"
              + " kubelet' on node node-a.example.com and wait up to 30s for it to be active\n",
          r.output());
    }

    @Test
    void badInputIsPermanentAndCallsNothing() throws IOException {
      Target badNode = new Target("shop", "web", UID, "node a");
      assertExit(3, run(DriftKind.MISSING_MIRROR_POD, false, badNode, Map.of()));
      assertExit(3, run(DriftKind.ORPHANED_POD, false, Target.ok(), Map.of()));
      for (String wait : List.of("0", "601", "08", "x")) {
        assertExit(
            3,
            run(
                DriftKind.MISSING_MIRROR_POD,
                false,
                Target.ok(),
                Map.of("STATE_PROBE_KUBELET_WAIT_SECONDS", wait)));
      }
      assertEquals(List.of(), calls());
    }
  }
}
