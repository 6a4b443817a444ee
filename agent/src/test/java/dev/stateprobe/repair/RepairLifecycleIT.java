package dev.stateprobe.repair;

import static dev.stateprobe.repair.RepairNode.NODE;
import static dev.stateprobe.repair.RepairNode.NS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.RepairNode.Agent;
import dev.stateprobe.repair.RepairNode.Entry;
import dev.stateprobe.repair.job.AttemptRecord;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobNames;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.testing.SimClusterExtension;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The repair half end to end: a real agent ({@code AgentRuntime}, REPAIR_MODE=on) against the
 * simulated API server and the fake kubelet, with test catalogs whose scripts act on the fake
 * kubelet. Each test asserts the drift confirmed, exactly the records expected, the script runs
 * (and none that should not happen), and the events and metrics written.
 */
// A hung agent or watch fails the test instead of the build.
@Timeout(60)
class RepairLifecycleIT {
  private static final Duration WAIT = Duration.ofSeconds(15);

  @RegisterExtension
  static final SimClusterExtension<RepairNode> SIM = SimClusterExtension.of(RepairNode::new);

  private static RepairNode node() {
    return SIM.get();
  }

  @BeforeEach
  void reset() throws Exception {
    node().reset();
    node().healthyPod("web-1");
    node().healthyPod("web-2");
  }

  private static String jobName(String uid, String script) {
    return JobNames.of(NODE, DriftKind.ORPHANED_POD, uid, script);
  }

  private static ConsistencyRepairJob record(String name) {
    return node().records().stream().filter(j -> j.name().equals(name)).findFirst().orElse(null);
  }

  private static List<String> reasons(List<Event> events) {
    return events.stream().map(Event::getReason).sorted().toList();
  }

  /** Reason and how often it was seen (1 + the series' count beyond the first). */
  private static List<String> reasonCounts(List<Event> events) {
    return events.stream()
        .map(e -> e.getReason() + "x" + (e.getSeries() == null ? 1 : e.getSeries().getCount()))
        .sorted()
        .toList();
  }

  private static ConsistencyRepairJob awaitRecord(
      String name, Predicate<ConsistencyRepairJob> done) {
    return await().atMost(WAIT).until(() -> record(name), j -> j != null && done.test(j));
  }

  private static Predicate<ConsistencyRepairJob> verified(Verification v) {
    return j -> j.getStatus() != null && j.getStatus().verification() == v;
  }

  private static Predicate<ConsistencyRepairJob> phase(Phase p) {
    return j -> j.getStatus() != null && j.getStatus().phase() == p;
  }

  /** Lets the agent run {@code n} more cycles: time for anything that should not happen. */
  private static void cycles(Agent agent, int n) {
    long target = agent.runtime().agent().cycles() + n;
    await().atMost(WAIT).until(() -> agent.runtime().agent().cycles() >= target);
  }

  private static String orphanKey(String name, String uid) {
    return "OrphanedPod/" + NS + "/" + name + "/" + uid;
  }

  @Test
  void aConfirmedOrphanGetsOneRecordThatRunsSucceedsAndIsVerifiedResolved() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of());
    String name = jobName(uid, "stop-sandbox");

    await()
        .atMost(WAIT)
        .until(
            () -> {
              ConsistencyRepairJob j = record(name);
              return j != null
                  && j.getStatus() != null
                  && j.getStatus().verification() == Verification.RESOLVED;
            });

    assertThat(agent.confirmed()).containsExactly("OrphanedPod/" + NS + "/cart-1/" + uid);
    List<ConsistencyRepairJob> records = node().records();
    assertThat(records).extracting(ConsistencyRepairJob::name).containsExactly(name);
    ConsistencyRepairJob job = records.getFirst();
    assertThat(job.getMetadata().getLabels())
        .containsEntry("stateprobe.dev/node", NODE)
        .containsEntry("stateprobe.dev/kind", "OrphanedPod")
        .containsEntry("stateprobe.dev/script", "stop-sandbox")
        .containsEntry("app.kubernetes.io/managed-by", "state-probe");
    OwnerReference owner = job.getMetadata().getOwnerReferences().getFirst();
    assertThat(owner.getKind()).isEqualTo("Node");
    assertThat(owner.getName()).isEqualTo(NODE);
    assertThat(owner.getUid())
        .isEqualTo(node().cluster.nodes().withName(NODE).get().getMetadata().getUid());
    assertThat(job.getSpec().script()).isEqualTo("stop-sandbox");
    assertThat(job.getSpec().dryRun()).isFalse();
    assertThat(job.getSpec().drift().target().uid()).isEqualTo(uid);
    assertThat(job.getStatus().phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(job.getStatus().attempts()).isEqualTo(1);
    assertThat(job.getStatus().exitCode()).isEqualTo(0);
    assertThat(job.getStatus().output()).contains("\"removedFromPods\":true");

    assertThat(node().states(name))
        .containsExactly("-", "Running", "Succeeded/Pending", "Succeeded/Resolved");
    assertThat(job.getStatus().history()).hasSize(1);
    assertThat(node().runs()).hasSize(1);
    assertThat(node().runs().getFirst().uid()).isEqualTo(uid);
    assertThat(node().runs().getFirst().attempt()).isEqualTo(1);
    assertThat(node().kubelet.podUids()).doesNotContain(uid);

    assertThat(
            agent.counter("stateprobe.repairs", "script", "stop-sandbox", "outcome", "succeeded"))
        .isEqualTo(1);
    assertThat(agent.counter("stateprobe.repairs", "script", "stop-sandbox", "outcome", "resolved"))
        .isEqualTo(1);
    assertThat(agent.gauge("stateprobe.repair.records", "phase", "Succeeded")).isEqualTo(1);
    assertThat(agent.gauge("stateprobe.repair.records", "phase", "Running")).isEqualTo(0);
    // The repair in flight and its verification are no holds: nothing counted as throttled.
    assertThat(agent.registry().find("stateprobe.repairs.throttled").counters())
        .allSatisfy(c -> assertThat(c.count()).isZero());
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(uid)))
                    .containsExactly("DriftConfirmed", "RepairStarted", "RepairSucceeded"));
  }

  @Test
  void aDriftWhosePodNameKubernetesWouldRefuseGetsNoRecordAndNoScript() {
    // Only the API side can bring such a name (the kubelet's entries are validated when read):
    // a server that did not validate it. It must not become a record, a URL or a script run.
    node()
        .catalog(
            new Entry("no-op", "no-op.sh", "UnknownToKubelet", "auto", 10, 3, 600),
            Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    io.fabric8.kubernetes.api.model.Pod bad =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("Cart_1.")
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withNodeName(NODE)
            .addNewContainer()
            .withName("app")
            .withImage("registry.example/app:1")
            .endContainer()
            .endSpec()
            .build();
    node().cluster.pods().inNamespace(NS).resource(bad).create();
    String uid = node().orphan("cart-1"); // a valid drift alongside, repaired as usual
    Agent agent = node().start(Map.of());

    await()
        .atMost(WAIT)
        .until(
            () ->
                agent.confirmed().stream()
                    .anyMatch(c -> c.startsWith("UnknownToKubelet/" + NS + "/Cart_1./")));
    // The valid one's whole repair, many cycles after the invalid one was confirmed.
    awaitRecord(jobName(uid, "stop-sandbox"), verified(Verification.RESOLVED));
    assertThat(node().records())
        .extracting(ConsistencyRepairJob::name)
        .containsExactly(jobName(uid, "stop-sandbox"));
    assertThat(node().calls()).noneMatch(c -> c.job().contains("unknowntokubelet"));
  }

  @Test
  void aDriftGoneBetweenConfirmationAndStartEndsSkippedAndTheScriptNeverRuns() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of());
    String name = jobName(uid, "stop-sandbox");
    // Every kubelet reply (/pods and /runningpods/) from now on is rendered 600 ms after its
    // request: the fresh polls of the revalidation see what the kubelet has once the record
    // exists, not what it had before.
    await()
        .atMost(WAIT)
        .until(
            () ->
                agent.runtime().agent().last() != null
                    && agent.runtime().agent().last().drifts().stream()
                        .anyMatch(d -> d.key().target().uid().equals(uid)));
    node().kubelet.inject(new KubeletFault.Delay(Duration.ofMillis(600)), 1000);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> record(name) != null);
    node().kubelet.removePod(uid); // the sandbox went away by itself

    ConsistencyRepairJob job = awaitRecord(name, phase(Phase.SKIPPED));
    node().kubelet.clearFaults();
    cycles(agent, 5);

    assertThat(agent.confirmed()).containsExactly(orphanKey("cart-1", uid));
    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    job = record(name);
    assertThat(job.getStatus().phase()).isEqualTo(Phase.SKIPPED);
    assertThat(job.getStatus().reason()).isEqualTo("drift gone before repair");
    assertThat(job.getStatus().attempts()).isEqualTo(0);
    assertThat(job.getStatus().verification()).isNull();
    assertThat(node().states(name)).containsExactly("-", "Skipped");
    assertThat(node().runs()).isEmpty();
    assertThat(agent.counter("stateprobe.repairs", "script", "stop-sandbox", "outcome", "skipped"))
        .isEqualTo(1);
    assertThat(agent.gauge("stateprobe.repair.records", "phase", "Skipped")).isEqualTo(1);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(uid)))
                    .containsExactly("DriftConfirmed", "RepairSkipped"));
  }

  @Test
  void aSuccessThatChangesNothingIsUnresolvedAndEscalatesToTheNextScript() {
    // Cooldown 0: the second no-op waits for the verdict of the first, not for a clock.
    node()
        .catalog(
            Entry.auto("no-op", "no-op.sh").maxAttempts(2).cooldown(0),
            Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of());
    String first = jobName(uid, "no-op");
    String second = jobName(uid, "stop-sandbox");

    awaitRecord(second, verified(Verification.RESOLVED));
    cycles(agent, 3);

    assertThat(agent.confirmed()).containsExactly(orphanKey("cart-1", uid));
    assertThat(node().records())
        .extracting(ConsistencyRepairJob::name)
        .containsExactlyInAnyOrder(first, second);
    ConsistencyRepairJob noop = record(first);
    assertThat(noop.getStatus().phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(noop.getStatus().verification()).isEqualTo(Verification.UNRESOLVED);
    assertThat(noop.getStatus().attempts()).isEqualTo(2);
    assertThat(noop.getStatus().history())
        .extracting(AttemptRecord::verification)
        .containsExactly(Verification.UNRESOLVED, Verification.UNRESOLVED);
    assertThat(node().states(first))
        .containsExactly(
            "-",
            "Running",
            "Succeeded/Pending",
            "Succeeded/Unresolved",
            "Running",
            "Succeeded/Pending",
            "Succeeded/Unresolved");
    ConsistencyRepairJob stop = record(second);
    assertThat(stop.getStatus().phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(stop.getStatus().verification()).isEqualTo(Verification.RESOLVED);
    assertThat(stop.getStatus().attempts()).isEqualTo(1);
    assertThat(node().runs())
        .extracting(r -> r.job() + "#" + r.attempt())
        .containsExactly(first + "#1", first + "#2", second + "#1");
    assertThat(agent.counter("stateprobe.repairs", "script", "no-op", "outcome", "unresolved"))
        .isEqualTo(2);
    assertThat(agent.counter("stateprobe.repairs", "script", "stop-sandbox", "outcome", "resolved"))
        .isEqualTo(1);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasonCounts(node().eventsAbout(uid)))
                    .containsExactly(
                        "DriftConfirmedx1",
                        "RepairFailedx2",
                        "RepairStartedx3",
                        "RepairSucceededx3"));
  }

  @Test
  void aRecordThatExistsAlreadyIsAdoptedNotDuplicated() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String uid = node().orphan("cart-1");
    String name = jobName(uid, "stop-sandbox");
    // Made by the agent before this one, which died right after creating it.
    RepairJobSpec spec = RepairNode.previousSpec("cart-1", uid, "stop-sandbox");
    ConsistencyRepairJob existing = node().previousRecord(spec, null);
    Agent agent = node().start(Map.of());

    ConsistencyRepairJob job = awaitRecord(name, verified(Verification.RESOLVED));
    cycles(agent, 3);

    assertThat(agent.confirmed()).containsExactly(orphanKey("cart-1", uid));
    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    assertThat(job.getMetadata().getUid()).isEqualTo(existing.getMetadata().getUid());
    assertThat(job.getSpec()).isEqualTo(spec);
    assertThat(job.getStatus().phase()).isEqualTo(Phase.SUCCEEDED);
    assertThat(job.getStatus().attempts()).isEqualTo(1);
    assertThat(node().states(name))
        .containsExactly("-", "Running", "Succeeded/Pending", "Succeeded/Resolved");
    assertThat(node().runs()).hasSize(1);
  }

  @Test
  void aRepairCutOffByARestartIsMarkedInterruptedAndRerunOnlyAfterRevalidationAndBackOff()
      throws Exception {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh").cooldown(1));
    Path hang = node().file("hang");
    Files.writeString(hang, "");
    String uid = node().orphan("cart-1");
    String name = jobName(uid, "stop-sandbox");
    Agent first = node().start(Map.of(), Map.of("HANG_FILE", hang.toString()));
    awaitRecord(name, phase(Phase.RUNNING));
    await().atMost(WAIT).until(() -> Files.exists(Path.of(hang + ".pid")));

    long pid = Long.parseLong(Files.readString(Path.of(hang + ".pid")).trim());
    first.close();
    // Closing the agent ended the script it ran; it wrote nothing more.
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive))
        .isNotEqualTo(java.util.Optional.of(true));
    Files.delete(hang);
    assertThat(record(name).getStatus().phase()).isEqualTo(Phase.RUNNING);
    Agent second = node().start(Map.of(), Map.of("HANG_FILE", hang.toString()));

    ConsistencyRepairJob job = awaitRecord(name, verified(Verification.RESOLVED));
    cycles(second, 3);

    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    assertThat(node().states(name))
        .containsExactly(
            "-", "Running", "Failed", "Running", "Succeeded/Pending", "Succeeded/Resolved");
    assertThat(job.getStatus().attempts()).isEqualTo(2);
    List<AttemptRecord> history = job.getStatus().history();
    assertThat(history).extracting(AttemptRecord::attempt).containsExactly(1, 2);
    assertThat(history.get(0).phase()).isEqualTo(Phase.FAILED);
    assertThat(history.get(0).reason()).isEqualTo("interrupted");
    assertThat(history.get(1).phase()).isEqualTo(Phase.SUCCEEDED);
    // Attempt 2 waited for the back-off of attempt 1: cooldown × 2^0 = 1 s after it was marked.
    assertThat(Duration.between(history.get(0).finishedAt(), history.get(1).startedAt()))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    assertThat(second.counter("stateprobe.repairs.throttled", "reason", "backoff")).isEqualTo(1);
    assertThat(node().runs()).extracting(RepairNode.Call::attempt).containsExactly(1, 2);
    // The first run never got to its end: it was killed when its agent stopped.
    assertThat(node().calls().stream().filter(c -> c.event().equals("end")))
        .extracting(RepairNode.Call::attempt)
        .containsExactly(2);
    // Each attempt was preceded by a direct read of the pod (an orphan: 404), one per agent.
    assertThat(
            node()
                .api
                .count(
                    r ->
                        r.verb().equals("get")
                            && "pods".equals(r.resource())
                            && "cart-1".equals(r.name())
                            && !r.backstage()))
        .isEqualTo(2);
    // The second agent continues the first one's Event series (one Event per reason, counted
    // twice), and says the first attempt was cut off.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasonCounts(node().eventsAbout(uid)))
                    .containsExactly(
                        "DriftConfirmedx2",
                        "RepairFailedx1",
                        "RepairStartedx2",
                        "RepairSucceededx1"));
    assertThat(
            node().eventsAbout(uid).stream()
                .filter(e -> e.getReason().equals("RepairFailed"))
                .findFirst()
                .orElseThrow()
                .getNote())
        .startsWith("stop-sandbox attempt 1: interrupted");
  }

  @Test
  void aBadCatalogReloadKeepsTheLastGoodOneAndAGoodOneIsUsedForTheNextRepair() {
    node().catalog(Entry.auto("first", "stop-sandbox.sh"));
    Agent agent = node().start(Map.of());
    node()
        .catalog(
            "scripts:\n  - name: Not_A_Label\n    path: missing.sh\n    drifts: [NoSuchDrift]\n");
    await().atMost(WAIT).until(() -> agent.counter("stateprobe.catalog.reload.failures") == 1);
    String a = node().orphan("cart-1");
    awaitRecord(jobName(a, "first"), verified(Verification.RESOLVED));

    node().catalog(Entry.auto("second", "stop-sandbox.sh"));
    await()
        .atMost(WAIT)
        .until(() -> agent.runtime().catalog().current().entry("second").isPresent());
    String b = node().orphan("cart-2");
    awaitRecord(jobName(b, "second"), verified(Verification.RESOLVED));
    cycles(agent, 3);

    assertThat(agent.confirmed()).containsExactly(orphanKey("cart-1", a), orphanKey("cart-2", b));
    assertThat(node().records())
        .extracting(ConsistencyRepairJob::name)
        .containsExactlyInAnyOrder(jobName(a, "first"), jobName(b, "second"));
    assertThat(node().runs())
        .extracting(RepairNode.Call::job)
        .containsExactly(jobName(a, "first"), jobName(b, "second"));
    assertThat(agent.counter("stateprobe.catalog.reload.failures")).isEqualTo(1);
    assertThat(agent.counter("stateprobe.catalog.reloads")).isEqualTo(2);
    for (String uid : List.of(a, b)) {
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(reasons(node().eventsAbout(uid)))
                      .containsExactly("DriftConfirmed", "RepairStarted", "RepairSucceeded"));
    }
  }

  @Test
  void dryRunRecordsAndCallsTheScriptWithDryRunAndLeavesVerificationPending() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of("REPAIR_MODE", "dry-run"));
    String name = jobName(uid, "stop-sandbox");

    awaitRecord(name, phase(Phase.SUCCEEDED));
    // Longer than verification takes (six trusted cycles) while the drift stays.
    cycles(agent, 8);

    assertThat(agent.confirmed()).containsExactly(orphanKey("cart-1", uid));
    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    ConsistencyRepairJob job = record(name);
    assertThat(job.getSpec().dryRun()).isTrue();
    assertThat(job.getStatus().verification()).isEqualTo(Verification.PENDING);
    assertThat(job.getStatus().attempts()).isEqualTo(1);
    assertThat(job.getStatus().output()).contains("dry run: would stop the sandbox of pod " + uid);
    assertThat(node().states(name)).containsExactly("-", "Running", "Succeeded/Pending");
    assertThat(node().runs()).hasSize(1);
    assertThat(node().runs().getFirst().dryRun()).isTrue();
    assertThat(node().kubelet.podUids()).contains(uid);
    assertThat(agent.runtime().agent().last().confirmed())
        .extracting(d -> d.key().target().uid())
        .containsExactly(uid);
    assertThat(
            agent.counter("stateprobe.repairs", "script", "stop-sandbox", "outcome", "unresolved"))
        .isZero();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(uid)))
                    .containsExactly("DriftConfirmed", "RepairStarted", "RepairSucceeded"));
  }

  @Test
  void aManualEntryWaitsForApprovalAndRunsOnceAPersonApproves() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh").mode("manual"));
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of());
    String name = jobName(uid, "stop-sandbox");

    ConsistencyRepairJob pending = awaitRecord(name, phase(Phase.PENDING));
    cycles(agent, 6);
    assertThat(pending.getSpec().approved()).isFalse();
    assertThat(record(name).getStatus().reason()).isEqualTo("awaiting approval");
    assertThat(node().runs()).isEmpty();
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "awaiting_approval"))
        .isEqualTo(1);
    assertThat(reasons(node().eventsAbout(uid))).containsExactly("DriftConfirmed");

    node().approve(name);
    ConsistencyRepairJob job = awaitRecord(name, verified(Verification.RESOLVED));
    cycles(agent, 3);

    assertThat(agent.confirmed()).containsExactly(orphanKey("cart-1", uid));
    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    assertThat(job.getSpec().approved()).isTrue();
    assertThat(job.getStatus().attempts()).isEqualTo(1);
    assertThat(node().states(name))
        .containsExactly("-", "Pending", "Running", "Succeeded/Pending", "Succeeded/Resolved");
    assertThat(node().runs()).hasSize(1);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(uid)))
                    .containsExactly("DriftConfirmed", "RepairStarted", "RepairSucceeded"));
  }

  @Test
  void aRecordAwaitingApprovalEndsSkippedWhenItsDriftHealsFirst() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh").mode("manual"));
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of());
    String name = jobName(uid, "stop-sandbox");
    awaitRecord(name, phase(Phase.PENDING));

    node().kubelet.removePod(uid);
    ConsistencyRepairJob job = awaitRecord(name, phase(Phase.SKIPPED));
    cycles(agent, 3);

    assertThat(job.getStatus().reason()).isEqualTo("drift gone before approval");
    assertThat(job.getStatus().attempts()).isZero();
    assertThat(node().runs()).isEmpty();
    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    assertThat(agent.counter("stateprobe.repairs", "script", "stop-sandbox", "outcome", "skipped"))
        .isEqualTo(1);
  }

  @Test
  void aPausedNodeGetsNoRecordUntilThePauseIsLifted() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    node().pause(true);
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of());
    String name = jobName(uid, "stop-sandbox");

    await().atMost(WAIT).until(() -> agent.gauge("stateprobe.paused") == 1);
    cycles(agent, 6);
    assertThat(agent.confirmed()).containsExactly(orphanKey("cart-1", uid));
    assertThat(node().records()).isEmpty();
    assertThat(node().runs()).isEmpty();
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "paused")).isEqualTo(1);
    assertThat(reasons(node().eventsAbout(uid))).containsExactly("DriftConfirmed");

    node().pause(false);
    awaitRecord(name, verified(Verification.RESOLVED));
    assertThat(agent.gauge("stateprobe.paused")).isZero();
    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    assertThat(node().runs()).hasSize(1);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(uid)))
                    .containsExactly("DriftConfirmed", "RepairStarted", "RepairSucceeded"));
  }

  @Test
  void tooManyConfirmedDriftsOpenTheCircuitAndRepairsWaitUntilItCloses() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    // 2 pods in the API, 6 in the kubelet's list: threshold max(3, ceil(30% of 6)) = 3 < 4.
    List<String> uids =
        List.of(
            node().orphan("cart-1"),
            node().orphan("cart-2"),
            node().orphan("cart-3"),
            node().orphan("cart-4"));
    Agent agent = node().start(Map.of());

    await().atMost(WAIT).until(() -> agent.gauge("stateprobe.circuit.open") == 1);
    cycles(agent, 5);
    assertThat(agent.confirmed()).hasSize(4);
    assertThat(node().records()).isEmpty();
    assertThat(node().runs()).isEmpty();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(reasons(node().nodeEvents())).containsExactly("CircuitOpen"));
    Event open = node().nodeEvents().getFirst();
    assertThat(open.getRegarding().getName()).isEqualTo(NODE);
    assertThat(open.getType()).isEqualTo("Warning");

    Instant calm = Instant.now();
    node().kubelet.removePod(uids.get(0));
    node().kubelet.removePod(uids.get(1));
    ConsistencyRepairJob c =
        awaitRecord(jobName(uids.get(2), "stop-sandbox"), verified(Verification.RESOLVED));
    ConsistencyRepairJob d =
        awaitRecord(jobName(uids.get(3), "stop-sandbox"), verified(Verification.RESOLVED));
    // Two drifts are under the threshold; the breaker closed only after CIRCUIT_RECOVERY (1 s).
    Instant firstStart =
        c.getStatus().startedAt().isBefore(d.getStatus().startedAt())
            ? c.getStatus().startedAt()
            : d.getStatus().startedAt();
    assertThat(Duration.between(calm, firstStart)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));

    assertThat(agent.gauge("stateprobe.circuit.open")).isZero();
    assertThat(node().records())
        .extracting(ConsistencyRepairJob::name)
        .containsExactlyInAnyOrder(
            jobName(uids.get(2), "stop-sandbox"), jobName(uids.get(3), "stop-sandbox"));
    assertThat(node().runs())
        .extracting(RepairNode.Call::uid)
        .containsExactlyInAnyOrder(uids.get(2), uids.get(3));
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "circuit_open"))
        .isEqualTo(4);
    assertThat(reasons(node().nodeEvents())).containsExactly("CircuitOpen");
    assertThat(reasons(node().eventsAbout(uids.get(0)))).containsExactly("DriftConfirmed");
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(uids.get(2))))
                    .containsExactly("DriftConfirmed", "RepairStarted", "RepairSucceeded"));
  }

  @Test
  void oneScriptAtATimeAndARepairedPodCoolsDownBeforeItsNextRepair() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh").cooldown(3));
    String a = node().orphan("cart-1");
    String b = node().orphan("cart-2");
    Agent agent =
        node().start(Map.of("MAX_CONCURRENT_REPAIRS", "1"), Map.of("SCRIPT_DELAY", "0.5"));

    // Whichever goes first, the other waits for it.
    await()
        .atMost(WAIT)
        .until(() -> node().records().stream().anyMatch(verified(Verification.RESOLVED)));
    String first =
        node().records().stream()
            .filter(verified(Verification.RESOLVED))
            .findFirst()
            .orElseThrow()
            .getSpec()
            .drift()
            .target()
            .uid();
    String second = first.equals(a) ? b : a;
    // Its sandbox comes back at once: confirmed again, it must wait for the cooldown of 3 s.
    node().orphanAgain(first);
    awaitRecord(jobName(second, "stop-sandbox"), verified(Verification.RESOLVED));
    await()
        .atMost(WAIT)
        .until(() -> agent.counter("stateprobe.repairs.throttled", "reason", "cooldown") == 1);

    List<RepairNode.Call> calls = node().calls().subList(0, 4);
    assertThat(calls)
        .extracting(c -> c.event() + " " + c.uid())
        .containsExactly("start " + first, "end " + first, "start " + second, "end " + second);
    assertThat(node().mostAtOnce()).isEqualTo(1);
    // The second waited for the first; the first's return may wait for the second too, when its
    // cooldown ends while the second's script still runs (a loaded machine runs scripts slowly).
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "concurrency"))
        .isBetween(1.0, 2.0);

    ConsistencyRepairJob again =
        awaitRecord(
            jobName(first, "stop-sandbox"),
            j ->
                j.getStatus().attempts() == 2
                    && j.getStatus().verification() == Verification.RESOLVED);
    List<AttemptRecord> history = again.getStatus().history();
    assertThat(Duration.between(history.get(0).finishedAt(), history.get(1).startedAt()))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(3));
    assertThat(node().runs())
        .extracting(RepairNode.Call::uid)
        .containsExactly(first, second, first);
    // The same agent saw the same things twice on that pod: one event each, counted twice.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasonCounts(node().eventsAbout(first)))
                    .containsExactly("DriftConfirmedx2", "RepairStartedx2", "RepairSucceededx2"));
    assertThat(node().records()).hasSize(2);
  }

  @Test
  void aRepairHeldForASlotStartsWhenTheSlotFreesNotAtTheNextCycle() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String a = node().orphan("cart-1");
    String b = node().orphan("cart-2");
    Map<String, String> env = new HashMap<>();
    // The timer's next cycle is an hour away: only cycles this test runs by hand happen.
    env.put("POLL_INTERVAL", "1h");
    env.put("QUIET_PERIOD", "0s");
    env.put("MIN_OBSERVATIONS", "1");
    env.put("MAX_CONCURRENT_REPAIRS", "1");
    for (DriftKind k : DriftKind.values()) {
      env.put(k.windowVariable(), "0s");
    }
    Agent agent = node().start(env, Map.of("SCRIPT_DELAY", "0.3"));

    // Cycles by hand until one cycle confirmed both orphans, started one and held the other.
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              // Fails when the start-up cycle is still running; the next try runs one.
              agent.runtime().agent().runCycle().await(5, TimeUnit.SECONDS);
              return agent.counter("stateprobe.repairs.throttled", "reason", "concurrency") == 1;
            });
    long cyclesWhenHeld = agent.runtime().agent().cycles();

    await()
        .atMost(WAIT)
        .until(() -> node().calls().stream().filter(c -> c.event().equals("start")).count() == 2);
    assertThat(agent.runtime().agent().cycles()).isEqualTo(cyclesWhenHeld);
    assertThat(node().calls())
        .extracting(RepairNode.Call::event)
        .startsWith("start", "end", "start");
    assertThat(node().runs()).extracting(RepairNode.Call::uid).containsExactlyInAnyOrder(a, b);
    assertThat(node().mostAtOnce()).isEqualTo(1);
  }

  @Test
  void asManyScriptsRunAtOnceAsTheLimitAllows() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    List<String> uids =
        List.of(node().orphan("cart-1"), node().orphan("cart-2"), node().orphan("cart-3"));
    Agent agent =
        node()
            .start(
                Map.of("MAX_CONCURRENT_REPAIRS", "3", "CIRCUIT_MIN", "10"),
                Map.of("SCRIPT_DELAY", "1"));

    for (String uid : uids) {
      awaitRecord(jobName(uid, "stop-sandbox"), verified(Verification.RESOLVED));
    }

    assertThat(node().runs())
        .extracting(RepairNode.Call::uid)
        .containsExactlyInAnyOrderElementsOf(uids);
    assertThat(node().mostAtOnce()).isEqualTo(3);
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "concurrency")).isZero();
  }

  @Test
  void aTerminalPodWhoseContainerStillRunsIsRepairedAfterADirectReadOfThePod() {
    node()
        .catalog(
            new Entry(
                "stop-sandbox",
                "stop-sandbox.sh",
                "OrphanedPod, TerminalButRunning",
                "auto",
                10,
                3,
                600));
    Pod pod = node().terminalButRunning("batch-1");
    String uid = pod.getMetadata().getUid();
    String name = JobNames.of(NODE, DriftKind.TERMINAL_BUT_RUNNING, uid, "stop-sandbox");
    Agent agent = node().start(Map.of());

    ConsistencyRepairJob job = awaitRecord(name, verified(Verification.RESOLVED));
    cycles(agent, 3);

    assertThat(agent.confirmed()).containsExactly("TerminalButRunning/" + NS + "/batch-1/" + uid);
    assertThat(node().records()).extracting(ConsistencyRepairJob::name).containsExactly(name);
    assertThat(job.getSpec().drift().apiResourceVersion())
        .isEqualTo(pod.getMetadata().getResourceVersion());
    assertThat(job.getStatus().attempts()).isEqualTo(1);
    assertThat(node().runs()).extracting(RepairNode.Call::uid).containsExactly(uid);
    assertThat(node().kubelet.runningUids()).doesNotContain(uid);
    // The revalidation read the pod itself, not only the informer's cache.
    assertThat(
            node()
                .api
                .count(
                    r ->
                        r.verb().equals("get")
                            && "pods".equals(r.resource())
                            && "batch-1".equals(r.name())
                            && !r.backstage()))
        .isEqualTo(1);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(uid)))
                    .containsExactly("DriftConfirmed", "RepairStarted", "RepairSucceeded"));
  }

  @Test
  void successesLeftPendingByAPreviousAgentAreVerifiedByTheNextOne() {
    node()
        .catalog(
            Entry.auto("no-op", "no-op.sh").maxAttempts(1),
            Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    // Two successes whose verdict the previous agent never wrote: one drift is gone since, the
    // other (its script changed nothing) still holds.
    String gone = UUID.randomUUID().toString();
    String stays = node().orphan("cart-2");
    String goneName = node().succeededLeftPending("cart-1", gone, "stop-sandbox");
    String staysName = node().succeededLeftPending("cart-2", stays, "no-op");
    Agent agent = node().start(Map.of());

    awaitRecord(goneName, verified(Verification.RESOLVED));
    awaitRecord(staysName, verified(Verification.UNRESOLVED));
    // Unresolved counts as the failed attempt of no-op: the next entry repairs it.
    awaitRecord(jobName(stays, "stop-sandbox"), verified(Verification.RESOLVED));
    cycles(agent, 3);

    assertThat(node().records())
        .extracting(ConsistencyRepairJob::name)
        .containsExactlyInAnyOrder(goneName, staysName, jobName(stays, "stop-sandbox"));
    assertThat(node().runs())
        .extracting(RepairNode.Call::job)
        .containsExactly(jobName(stays, "stop-sandbox"));
    assertThat(agent.counter("stateprobe.repairs", "script", "stop-sandbox", "outcome", "resolved"))
        .isEqualTo(2);
    assertThat(agent.counter("stateprobe.repairs", "script", "no-op", "outcome", "unresolved"))
        .isEqualTo(1);
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(reasons(node().eventsAbout(stays)))
                    .containsExactly(
                        "DriftConfirmed", "RepairFailed", "RepairStarted", "RepairSucceeded"));
    assertThat(node().eventsAbout(gone)).isEmpty();
  }

  @Test
  void anOutcomeTheApiServerRefusedIsWrittenOnceItIsBackAndRepairsGoOn() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String a = node().orphan("cart-1");
    Agent agent = node().start(Map.of(), Map.of("SCRIPT_DELAY", "1"));
    String name = jobName(a, "stop-sandbox");
    awaitRecord(name, phase(Phase.RUNNING));

    // The API server goes away while the script runs: its outcome cannot be written.
    node().api.down();
    await()
        .atMost(WAIT)
        .until(
            () ->
                node()
                        .api
                        .count(
                            r ->
                                "status".equals(r.subresource())
                                    && r.code() == 503
                                    && !r.backstage())
                    >= 1);
    String b = node().orphan("cart-2");
    node().api.up();

    awaitRecord(name, verified(Verification.RESOLVED));
    // The refused write wedged nothing: the next drift is repaired too.
    awaitRecord(jobName(b, "stop-sandbox"), verified(Verification.RESOLVED));
    cycles(agent, 3);

    assertThat(node().states(name))
        .startsWith("-", "Running")
        .endsWith("Succeeded/Resolved")
        .doesNotContain("Failed");
    assertThat(record(name).getStatus().attempts()).isEqualTo(1);
    assertThat(node().runs()).extracting(RepairNode.Call::uid).containsExactly(a, b);
    assertThat(node().records()).hasSize(2);
  }

  // ---- the cluster repair budget ---------------------------------------------------------------

  /**
   * Another node holds the only cluster slot and dies (stops renewing): the repair waits with its
   * record Pending and saying why, runs no script, and runs once the dead holder's Lease expires
   * (its duration plus the tolerated skew after its last renewal); then it gives the slot back
   * itself, its start counted on the Lease.
   */
  @Test
  @Timeout(120)
  void aRepairWithoutAClusterSlotWaitsAndRunsWhenTheDeadHoldersLeaseExpires() {
    node().catalog(Entry.auto("stop-sandbox", "stop-sandbox.sh"));
    String ns = "state-probe";
    java.time.ZonedDateTime now = java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC);
    node()
        .cluster
        .leases()
        .inNamespace(ns)
        .resource(
            new io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder()
                .withNewMetadata()
                .withName("state-probe-slot-0")
                .withNamespace(ns)
                .endMetadata()
                .withNewSpec()
                .withHolderIdentity("node-9")
                .withAcquireTime(now)
                .withRenewTime(now)
                .withLeaseDurationSeconds(10)
                .endSpec()
                .build())
        .create();
    String uid = node().orphan("cart-1");
    Agent agent = node().start(Map.of("CLUSTER_REPAIR_SLOTS", "1", "POD_NAMESPACE", ns));
    String name = jobName(uid, "stop-sandbox");

    ConsistencyRepairJob waiting =
        awaitRecord(
            name,
            j ->
                j.getStatus() != null
                    && "waiting for cluster_budget: no_free_slot".equals(j.getStatus().reason()));
    assertThat(waiting.getStatus().phase()).isEqualTo(Phase.PENDING);
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "cluster_budget"))
        .isEqualTo(1.0);
    assertThat(agent.counter("stateprobe.cluster.budget.waits", "reason", "no_free_slot"))
        .isEqualTo(1.0);
    cycles(agent, 5);
    assertThat(node().runs()).isEmpty();
    assertThat(agent.gauge("stateprobe.cluster.slot.held")).isZero();

    // 10 s + 10 s of skew after node-9's last renewal the slot is free.
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> record(name), j -> j != null && verified(Verification.RESOLVED).test(j));
    assertThat(node().runs()).hasSize(1);
    // Counted once per repair, not once per try.
    assertThat(agent.counter("stateprobe.repairs.throttled", "reason", "cluster_budget"))
        .isEqualTo(1.0);
    await()
        .atMost(WAIT)
        .until(
            () -> node().cluster.leases().inNamespace(ns).withName("state-probe-slot-0").get(),
            l ->
                l.getSpec().getHolderIdentity() == null
                    && dev.stateprobe.repair.budget.Starts.parse(
                                l.getMetadata()
                                    .getAnnotations()
                                    .get(dev.stateprobe.repair.budget.Starts.ANNOTATION))
                            .size()
                        == 1);
    assertThat(agent.gauge("stateprobe.cluster.slot.held")).isZero();
  }
}
