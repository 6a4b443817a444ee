package dev.stateprobe.demo;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.job.AttemptRecord;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The faults the scenario suite adds to the demo's timeline: the agent's inputs misbehaving
 * (kubelet auth, garbage, slowness, size; the API server going away) and its repairs misbehaving
 * (the agent killed mid-repair, scripts that hang or flood, a catalog replaced by a broken one).
 * Each runs through the demo's {@link TimelineRunner} and is judged the same way.
 */
final class FaultScenarios {
  static final String NS = TimelineScenarios.NS;

  private FaultScenarios() {}

  // ---- helpers ----

  static double pollFailures(SimNode node, String reason) {
    return node
        .agent()
        .runtime()
        .metrics()
        .registry()
        .find("stateprobe.kubelet.poll.failures")
        .tag("reason", reason)
        .counters()
        .stream()
        .mapToDouble(Counter::count)
        .sum();
  }

  static double catalogReloadFailures(SimNode node) {
    Counter c =
        node.agent()
            .runtime()
            .metrics()
            .registry()
            .find("stateprobe.catalog.reload.failures")
            .counter();
    return c == null ? 0 : c.count();
  }

  /** Copies test scripts next to the catalog's, executable. */
  static void installScripts(SimNode node, String... names) {
    Path dir = node.catalogFile().getParent().resolve("scripts");
    for (String name : names) {
      try (InputStream in = FaultScenarios.class.getResourceAsStream("/demo/scripts/" + name)) {
        if (in == null) {
          throw new IllegalStateException("no test script /demo/scripts/" + name);
        }
        Path file = dir.resolve(name);
        Files.write(file, in.readAllBytes());
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Replaces the agent's catalog file (as a ConfigMap update would) and waits until it is in force.
   */
  static void replaceCatalog(Play p, String yaml, String mustHave) throws Exception {
    DemoResources.writeAtomically(p.node().catalogFile(), yaml.getBytes(StandardCharsets.UTF_8));
    p.await(
        "the agent to load the new catalog",
        () -> p.node().agent().runtime().catalog().current().entry(mustHave).isPresent());
  }

  /** Puts the demo catalog and its scripts back. */
  static void restoreDemoCatalog(Play p) throws Exception {
    DemoResources.extractCatalog(p.node().catalogFile().getParent());
    p.await(
        "the agent to load the demo catalog again",
        () ->
            p.node().agent().runtime().catalog().current().entries().stream()
                .map(e -> e.name())
                .toList()
                .equals(List.of("stop-sandbox", "recreate-controlled-pod", "restart-kubelet")));
  }

  static Optional<ConsistencyRepairJob> storedRecord(SimNode node, DriftKey key, String script) {
    return node.cluster().client().resources(ConsistencyRepairJob.class).list().getItems().stream()
        .filter(j -> j.getSpec().driftKey().equals(key) && j.getSpec().script().equals(script))
        .findFirst();
  }

  static boolean processRuns(String scriptName) {
    return ProcessHandle.allProcesses()
        .anyMatch(ph -> ph.info().commandLine().map(c -> c.contains(scriptName)).orElse(false));
  }

  /** An orphan made on purpose: a settled pod deleted while the kubelet loses the event. */
  static DriftKey orphan(TimelineScenarios.Base s, Play p, String name) throws Exception {
    Pod pod = s.settled(p, name);
    String uid = pod.getMetadata().getUid();
    DriftKey key = TimelineScenarios.key(DriftKind.ORPHANED_POD, pod);
    p.inject(
        "shop/"
            + name
            + " deleted in the API server; the kubelet loses the event and keeps running it",
        () -> {
          p.node().kubeletSim().loseEventsOf(uid);
          p.node().deletePod(NS, name);
        });
    return key;
  }

  /** The kubelet misbehaves for a while; the agent must draw no verdict and count why. */
  abstract static class KubeletMisbehaves extends TimelineScenarios.Base {
    private final String reason;

    KubeletMisbehaves(String name, String title, String reason) {
      super(
          name,
          title,
          "cycles untrusted (kubelet_poll_failed, counted as "
              + reason
              + "); no drift suspected; no repair");
      this.reason = reason;
    }

    abstract void misbehave(Play p) throws Exception;

    abstract void recover(Play p) throws Exception;

    @Override
    public void play(Play p) throws Exception {
      double before = pollFailures(p.node(), reason);
      misbehave(p);
      recover(p);
      p.await("trusted cycles again", () -> p.observer().last().trusted());
      p.awaitTrustedCycles(p.timing().cyclesPastWindow());
      double failures = pollFailures(p.node(), reason) - before;
      p.check(failures > 0, "no kubelet poll failure was counted as " + reason);
      p.check(
          p.untrustedReasons().contains("kubelet_poll_failed"),
          "no cycle was untrusted for kubelet_poll_failed: " + p.untrustedReasons());
      p.check(p.suspected().isEmpty(), "drifts were suspected: " + p.suspected());
      p.fact(String.format(java.util.Locale.ROOT, "%.0f polls failed as %s", failures, reason));
    }

    @Override
    public void cleanup(Play p) throws Exception {
      p.node().kubelet().clearFaults();
      super.cleanup(p);
    }
  }

  // ---- the agent's inputs ----

  static final class KubeletTokenRotated extends KubeletMisbehaves {
    KubeletTokenRotated() {
      super(
          "kubelet-401-then-rotation",
          "the kubelet answers 401, then the new token arrives",
          "http_401");
    }

    @Override
    void misbehave(Play p) throws Exception {
      p.inject(
          "the kubelet's credentials rotate: it accepts only the new token; the agent's file still"
              + " holds the old one",
          () -> p.node().kubelet().acceptToken("demo-kubelet-token-2"));
      p.hold(
          "a window and a half of refused polls", p.timing().window().multipliedBy(3).dividedBy(2));
    }

    @Override
    void recover(Play p) throws Exception {
      p.act(
          "the new token lands in the agent's token file (a new file swapped in)",
          () ->
              DemoResources.writeAtomically(
                  p.node().kubeletTokenFile(),
                  "demo-kubelet-token-2\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void cleanup(Play p) throws Exception {
      super.cleanup(p);
      p.node().kubelet().acceptToken("demo-kubelet-token-2");
    }
  }

  static final class KubeletGarbage extends KubeletMisbehaves {
    KubeletGarbage() {
      super("kubelet-garbage", "the kubelet answers garbage", "decode");
    }

    @Override
    void misbehave(Play p) throws Exception {
      p.inject(
          "the kubelet answers 200 with a body that is not JSON",
          () -> p.node().kubelet().inject(null, KubeletFault.garbage(), 1_000_000));
      p.hold("a window and a half of garbage", p.timing().window().multipliedBy(3).dividedBy(2));
    }

    @Override
    void recover(Play p) throws Exception {
      p.act("the kubelet answers properly again", () -> p.node().kubelet().clearFaults());
    }
  }

  static final class KubeletSlow extends KubeletMisbehaves {
    private int requestsWhileSlow;
    private long slowMillis;

    KubeletSlow() {
      super("kubelet-slow", "the kubelet answers too slowly", "timeout");
    }

    @Override
    void misbehave(Play p) throws Exception {
      Duration delay = p.timing().kubeletTimeout().plusMillis(500);
      int before = p.node().kubelet().requests("/pods").size();
      long start = System.nanoTime();
      p.inject(
          "the kubelet waits "
              + Observer.seconds(delay)
              + " before it answers, longer than the agent's timeout",
          () -> p.node().kubelet().inject(null, KubeletFault.delay(delay), 1_000_000));
      p.hold(
          "a window and a half of slow replies", p.timing().window().multipliedBy(3).dividedBy(2));
      requestsWhileSlow = p.node().kubelet().requests("/pods").size() - before;
      slowMillis = (System.nanoTime() - start) / 1_000_000;
      // One poll at a time: a new one only after the last timed out, not one per tick.
      long most = slowMillis / p.timing().kubeletTimeout().toMillis() + 2;
      p.check(
          requestsWhileSlow <= most,
          requestsWhileSlow
              + " /pods requests in "
              + slowMillis
              + "ms of a slow kubelet: they pile up (at most "
              + most
              + ")");
    }

    @Override
    void recover(Play p) throws Exception {
      p.act("the kubelet answers quickly again", () -> p.node().kubelet().clearFaults());
    }
  }

  static final class KubeletOversize extends KubeletMisbehaves {
    KubeletOversize() {
      super("kubelet-oversize", "the kubelet answers with an over-size body", "too_large");
    }

    @Override
    void misbehave(Play p) throws Exception {
      double before = pollFailures(p.node(), "too_large");
      p.inject(
          "the kubelet's next 6 replies to /pods are 64 MiB, chunked (the agent reads at most 4"
              + " MiB)",
          () -> p.node().kubelet().inject("/pods", KubeletFault.oversize(64L << 20, false), 6));
      p.await(
          "the 6 over-size replies to be refused",
          () -> pollFailures(p.node(), "too_large") >= before + 6);
      // Written as fast as the agent reads: had it read to the end, all 64 MiB would have gone
      // out; loopback socket buffers take a few MiB past the point where it hung up.
      p.await(
          "the last over-size reply to end",
          Duration.ofSeconds(10),
          () -> p.node().kubelet().lastOversize().isPresent());
      p.check(
          p.node()
              .kubelet()
              .lastOversize()
              .map(o -> !o.completed() && o.bytesWritten() < (32L << 20))
              .orElse(false),
          "the agent read an over-size reply to its end: " + p.node().kubelet().lastOversize());
    }

    @Override
    void recover(Play p) {}
  }

  static final class ApiOutage extends TimelineScenarios.Base {
    ApiOutage() {
      super(
          "api-outage-and-return",
          "the API server goes away and comes back",
          "cycles untrusted while the informer cannot watch; it re-lists on return; no drift"
              + " suspected; no repair");
    }

    @Override
    public void play(Play p) throws Exception {
      Pod ledger = settled(p, "ledger-1");
      long relists = p.observer().relists();
      p.inject(
          "the API server becomes unreachable for the agent (503)",
          () -> p.node().cluster().api().down());
      p.act(
          "meanwhile shop/ledger-1 is deleted by a client that still gets through; the kubelet"
              + " stops it",
          () -> p.node().deletePod(NS, "ledger-1"));
      p.hold("the outage to last two windows", p.timing().window().multipliedBy(2));
      p.act(
          "the API server is back; the agent's old resourceVersion is gone (410)",
          () -> p.node().cluster().api().up());
      p.await("the informer to re-list", () -> p.observer().relists() > relists);
      p.await("trusted cycles again", () -> p.observer().last().trusted());
      p.awaitTrustedCycles(p.timing().cyclesPastWindow());
      p.check(
          !p.observer()
              .last()
              .snapshot()
              .controlPlane()
              .podsByUid()
              .containsKey(ledger.getMetadata().getUid()),
          "the agent's view still has the pod deleted during the outage");
      p.check(
          p.untrustedReasons().contains("informer_relisting"),
          "no cycle was untrusted while the informer could not watch: " + p.untrustedReasons());
      p.check(p.suspected().isEmpty(), "drifts were suspected: " + p.suspected());
      p.fact("re-listed " + (p.observer().relists() - relists) + "×");
    }

    @Override
    public void cleanup(Play p) throws Exception {
      if (p.node().cluster().api().isDown()) {
        p.node().cluster().api().up();
      }
      super.cleanup(p);
    }
  }

  // ---- the agent's repairs ----

  static final class AgentKilledMidRepair extends TimelineScenarios.Base {
    static final String CATALOG =
        """
        scripts:
          - name: slow-stop-sandbox
            path: scripts/slow-stop-sandbox.sh
            drifts: [OrphanedPod]
            timeoutSeconds: 60
            maxAttempts: 3
            cooldownSeconds: 1
        """;

    AgentKilledMidRepair() {
      super(
          "agent-killed-mid-repair",
          "the agent is killed while a repair script runs, and starts again",
          "the record of attempt 1 ends Failed (interrupted); the new agent runs attempt 2 on the"
              + " same record; Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      installScripts(p.node(), "slow-stop-sandbox.sh");
      replaceCatalog(p, CATALOG, "slow-stop-sandbox");
      DriftKey key = orphan(this, p, "orders-5f6d7c8b9-r2d4x");
      p.expectRepair(key, "slow-stop-sandbox", Phase.SUCCEEDED, 2);
      p.await(
          "attempt 1 to run",
          () ->
              p.observer().records().values().stream()
                  .anyMatch(
                      j ->
                          j.getSpec().driftKey().equals(key)
                              && j.statusOrPending().phase() == Phase.RUNNING));
      p.act("the agent's process is killed", () -> p.node().stopAgent());
      p.check(
          storedRecord(p.node(), key, "slow-stop-sandbox")
                  .map(j -> j.statusOrPending().phase())
                  .orElse(null)
              == Phase.RUNNING,
          "the record of the killed attempt is not left Running");
      p.act("a new agent process starts on the node", () -> p.node().startAgent());
      p.awaitConfirmed();
      p.awaitRepairs();
      RepairJobStatus s =
          storedRecord(p.node(), key, "slow-stop-sandbox").orElseThrow().statusOrPending();
      List<AttemptRecord> h = s.history();
      p.check(h.size() == 2, "the record's history has " + h.size() + " attempts, not 2: " + h);
      if (h.size() == 2) {
        p.check(
            h.get(0).phase() == Phase.FAILED
                && RepairJobStatus.INTERRUPTED.equals(h.get(0).reason()),
            "attempt 1 did not end Failed (interrupted): " + h.get(0));
        p.check(h.get(1).phase() == Phase.SUCCEEDED, "attempt 2 did not succeed: " + h.get(1));
      }
    }

    @Override
    public void cleanup(Play p) throws Exception {
      if (p.node().agent() == null) {
        p.node().startAgent();
      }
      super.cleanup(p);
      restoreDemoCatalog(p);
    }
  }

  static final class ScriptHangs extends TimelineScenarios.Base {
    static final String CATALOG =
        """
        scripts:
          - name: hang-forever
            path: scripts/hang-forever.sh
            drifts: [OrphanedPod]
            timeoutSeconds: 1
            maxAttempts: 1
          - name: stop-sandbox
            path: scripts/stop-sandbox.sh
            drifts: [OrphanedPod]
            timeoutSeconds: 20
        """;

    ScriptHangs() {
      super(
          "script-hangs",
          "a repair script that hangs and ignores SIGTERM",
          "hang-forever ends TimedOut (SIGKILL after the grace), nothing of it left running; the"
              + " catalog escalates to stop-sandbox; Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      installScripts(p.node(), "hang-forever.sh");
      replaceCatalog(p, CATALOG, "hang-forever");
      DriftKey key = orphan(this, p, "mailer-7c9d8b6f5-z8k3n");
      p.expectRepair(key, "hang-forever", Phase.TIMED_OUT, 1);
      p.expectRepair(key, "stop-sandbox", Phase.SUCCEEDED, 1);
      p.awaitConfirmed();
      p.awaitRepairs();
      p.await(
          "no process of hang-forever.sh to be left",
          Duration.ofSeconds(10),
          () -> !processRuns("hang-forever.sh"));
    }

    @Override
    public void cleanup(Play p) throws Exception {
      super.cleanup(p);
      restoreDemoCatalog(p);
    }
  }

  static final class ScriptFloods extends TimelineScenarios.Base {
    static final String CATALOG =
        """
        scripts:
          - name: flood-output
            path: scripts/flood-output.sh
            drifts: [OrphanedPod]
            timeoutSeconds: 30
        """;

    ScriptFloods() {
      super(
          "script-floods-output",
          "a repair script that floods its output",
          "flood-output succeeds; its record keeps only the last 16 KiB, ending with its last line;"
              + " Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      installScripts(p.node(), "flood-output.sh");
      replaceCatalog(p, CATALOG, "flood-output");
      DriftKey key = orphan(this, p, "banner-6b7c8d9e5-t5y6u");
      p.expect(key, "flood-output");
      p.awaitConfirmed();
      p.awaitRepairs();
      String output =
          storedRecord(p.node(), key, "flood-output").orElseThrow().statusOrPending().output();
      int bytes = output.getBytes(StandardCharsets.UTF_8).length;
      p.check(
          bytes <= 16 * 1024, "the record keeps " + bytes + " bytes of output, more than 16 KiB");
      p.check(bytes > 8 * 1024, "the record keeps only " + bytes + " bytes of output");
      p.check(
          output.strip().endsWith("gone from /pods: yes)"),
          "the record's output does not end with the script's last line: ..."
              + output.substring(Math.max(0, output.length() - 200)));
      p.fact(bytes + " bytes of output kept");
    }

    @Override
    public void cleanup(Play p) throws Exception {
      super.cleanup(p);
      restoreDemoCatalog(p);
    }
  }

  static final class CatalogBrokenThenFixed extends TimelineScenarios.Base {
    static final String BROKEN =
        """
        scripts:
          - name: stop-sandbox
            path: scripts/stop-sandbox.sh
            drifts: [OrphanPod]
          - name: missing
            path: scripts/no-such-script.sh
            drifts: [OrphanedPod]
        """;
    static final String FIXED =
        """
        scripts:
          - name: stop-sandbox-v2
            path: scripts/stop-sandbox.sh
            drifts: [OrphanedPod]
            timeoutSeconds: 20
        """;

    CatalogBrokenThenFixed() {
      super(
          "catalog-invalid-then-valid",
          "the catalog is replaced by an invalid one, then by a valid one",
          "the invalid catalog is refused and the last good one repairs; the valid one is taken and"
              + " its script repairs");
    }

    @Override
    public void play(Play p) throws Exception {
      double failures = catalogReloadFailures(p.node());
      p.act(
          "the catalog is replaced by one with an unknown drift kind and a missing script",
          () ->
              DemoResources.writeAtomically(
                  p.node().catalogFile(), BROKEN.getBytes(StandardCharsets.UTF_8)));
      p.await("the agent to refuse it", () -> catalogReloadFailures(p.node()) > failures);
      p.check(
          p.node()
              .agent()
              .runtime()
              .catalog()
              .current()
              .entry("stop-sandbox")
              .map(e -> e.drifts().contains(DriftKind.ORPHANED_POD))
              .orElse(false),
          "the last good catalog is not in force after a refused reload");
      DriftKey first = orphan(this, p, "ads-5d6e7f8a9-b1c2d");
      p.expect(first, "stop-sandbox");
      p.awaitConfirmed();
      p.awaitRepairs();

      p.act(
          "the catalog is replaced by a valid one that names the script stop-sandbox-v2",
          () -> replaceCatalog(p, FIXED, "stop-sandbox-v2"));
      DriftKey second = orphan(this, p, "ads-5d6e7f8a9-e3f4g");
      p.expect(second, "stop-sandbox-v2");
      p.awaitConfirmed();
      p.awaitRepairs();
      p.check(
          catalogReloadFailures(p.node()) == failures + 1,
          "the broken catalog was counted more than once");
    }

    @Override
    public void cleanup(Play p) throws Exception {
      super.cleanup(p);
      restoreDemoCatalog(p);
    }
  }
}
