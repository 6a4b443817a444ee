package dev.stateprobe.demo;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.repair.RepairController;
import dev.stateprobe.sim.KubeletFault;
import dev.stateprobe.sim.SimCluster;
import dev.stateprobe.sim.SimNode;
import dev.stateprobe.sim.SimulatedKubelet;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The demo's timeline: the ways a node and its control plane drift apart that the agent must catch
 * and repair, and the faults of its own inputs it must not mistake for drift. Each scenario works
 * on pods of its own (namespace {@value #NS}) or puts back what it changed.
 */
public final class TimelineScenarios {
  /** Where the scenarios' own pods live. */
  public static final String NS = "shop";

  private TimelineScenarios() {}

  /** Fresh instances of the whole timeline, in the order it plays. */
  public static List<Scenario> all() {
    return FACTORIES.values().stream().map(Supplier::get).toList();
  }

  /** The timeline's scenario names, in order. */
  public static List<String> names() {
    return List.copyOf(FACTORIES.keySet());
  }

  /** A fresh instance of the named scenario. */
  public static Optional<Scenario> byName(String name) {
    return Optional.ofNullable(FACTORIES.get(name)).map(Supplier::get);
  }

  private static final Map<String, Supplier<Scenario>> FACTORIES = factories();

  private static Map<String, Supplier<Scenario>> factories() {
    Map<String, Supplier<Scenario>> m = new LinkedHashMap<>();
    for (Supplier<Scenario> s :
        List.<Supplier<Scenario>>of(
            DeleteLost::new,
            PodNeverReceived::new,
            LabelChangeMissed::new,
            PodRecreated::new,
            StuckTerminating::new,
            MirrorPodDeleted::new,
            ContainerDied::new,
            TerminalButRunning::new,
            WatchExpired::new,
            KubeletDown::new,
            HalfThePodsVanish::new)) {
      m.put(s.get().name(), s);
    }
    return m;
  }

  static DriftKey key(DriftKind kind, Pod pod) {
    return new DriftKey(
        kind,
        new PodRef(
            pod.getMetadata().getNamespace(),
            pod.getMetadata().getName(),
            pod.getMetadata().getUid()));
  }

  /** Name, title and expectation, and the pods to delete afterwards. */
  abstract static class Base implements Scenario {
    private final String name;
    private final String title;
    private final String expectation;
    final List<String> pods = new ArrayList<>();

    Base(String name, String title, String expectation) {
      this.name = name;
      this.title = title;
      this.expectation = expectation;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String title() {
      return title;
    }

    @Override
    public String expectation() {
      return expectation;
    }

    Pod settled(Play p, String podName) {
      pods.add(podName);
      return p.createSettledPod(NS, podName, pod -> pod);
    }

    /** Ends the kubelet's faults and deletes this scenario's pods; the kubelet follows. */
    @Override
    public void cleanup(Play p) throws Exception {
      SimNode node = p.node();
      node.kubeletSim().clearFaults();
      for (String pod : pods) {
        if (node.pod(NS, pod) != null) {
          node.deletePod(NS, pod);
        }
      }
      node.kubeletSim().sync();
    }
  }

  /** The API server deletes a pod; the kubelet never hears of it and keeps running it. */
  static final class DeleteLost extends Base {
    DeleteLost() {
      super(
          "delete-lost",
          "a delete that never reaches the kubelet",
          "OrphanedPod confirmed; stop-sandbox stops it through the kubelet; verified Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      Pod pod = settled(p, "cart-7d9f8b6c5-hx2kq");
      String uid = pod.getMetadata().getUid();
      p.expect(key(DriftKind.ORPHANED_POD, pod), "stop-sandbox");
      p.inject(
          "shop/cart-7d9f8b6c5-hx2kq deleted in the API server; the kubelet's watch loses the"
              + " event, and it keeps running the pod",
          () -> {
            p.node().kubeletSim().loseEventsOf(uid);
            p.node().deletePod(NS, "cart-7d9f8b6c5-hx2kq");
          });
      p.awaitConfirmed();
      p.awaitRepairs();
      p.check(
          !p.node().kubelet().podUids().contains(uid), "the kubelet still lists the orphaned pod");
      p.check(
          !p.node().kubelet().runningUids().contains(uid),
          "the runtime still runs the orphaned pod");
    }
  }

  /** A pod bound to the node never reaches its kubelet. */
  static final class PodNeverReceived extends Base {
    PodNeverReceived() {
      super(
          "pod-never-received",
          "a pod the kubelet never receives",
          "UnknownToKubelet confirmed; restart-kubelet makes the kubelet list it again; verified"
              + " Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      String name = "checkout-5c7d9b8f4-m4r7w";
      pods.add(name);
      Pod[] pod = new Pod[1];
      p.inject(
          "shop/" + name + " created and bound to the node; the kubelet's watch never delivers it",
          () -> {
            p.node().kubeletSim().missNewPod(NS, name);
            pod[0] = p.node().createPod(NS, name, x -> x);
          });
      p.expect(key(DriftKind.UNKNOWN_TO_KUBELET, pod[0]), "restart-kubelet");
      p.awaitConfirmed();
      p.awaitRepairs();
      p.check(
          p.node().kubelet().podUids().contains(pod[0].getMetadata().getUid()),
          "the kubelet still does not list the pod after its restart");
    }
  }

  /** A label changes in the API server; the kubelet's copy keeps the old labels. */
  static final class LabelChangeMissed extends Base {
    LabelChangeMissed() {
      super(
          "label-change-missed",
          "a label change the kubelet missed",
          "StaleKubeletView (metadata.labels) confirmed; restart-kubelet refreshes its copy;"
              + " verified Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      String name = "catalog-6f8d7c9b5-p9t3z";
      Pod pod = settled(p, name);
      DriftKey key = key(DriftKind.STALE_KUBELET_VIEW, pod);
      p.expect(key, "restart-kubelet");
      p.inject(
          "label release=canary added to shop/"
              + name
              + " in the API server; the kubelet's watch loses the update",
          () -> {
            p.node().kubeletSim().loseEventsOf(pod.getMetadata().getUid());
            p.node()
                .editPod(
                    NS,
                    name,
                    x -> {
                      x.getMetadata().getLabels().put("release", "canary");
                      return x;
                    });
          });
      p.awaitConfirmed();
      // The drift as the agent confirmed it: exactly the labels, nothing more, nothing less.
      Optional<TrackedDrift> seen = p.observer().confirmed(key);
      p.check(
          seen.isPresent()
              && seen.get().drift() instanceof Drift.StaleKubeletView stale
              && stale.fields().equals(List.of("metadata.labels")),
          "the confirmed drift does not name exactly metadata.labels: "
              + seen.map(d -> d.drift().detail()).orElse("no such drift confirmed"));
      p.awaitRepairs();
    }
  }

  /** A pod is deleted and created again under its name; the kubelet misses both events. */
  static final class PodRecreated extends Base {
    PodRecreated() {
      super(
          "pod-recreated",
          "a pod recreated with the same name",
          "one UidMismatch confirmed (no orphan, no unknown pod); no script repairs it; cleared"
              + " when the kubelet catches up");
    }

    @Override
    public void play(Play p) throws Exception {
      String name = "payments-0";
      Pod old = settled(p, name);
      Pod[] fresh = new Pod[1];
      p.inject(
          "shop/payments-0 deleted and created again (new UID); the kubelet's watch loses both"
              + " events",
          () -> {
            p.node().kubeletSim().loseEventsOf(old.getMetadata().getUid());
            p.node().kubeletSim().missNewPod(NS, name);
            p.node().deletePod(NS, name);
            fresh[0] =
                p.node()
                    .createPod(
                        NS,
                        name,
                        x -> {
                          x.getMetadata()
                              .setOwnerReferences(
                                  List.of(
                                      new OwnerReferenceBuilder()
                                          .withApiVersion("apps/v1")
                                          .withKind("StatefulSet")
                                          .withName("payments")
                                          .withUid(
                                              UUID.nameUUIDFromBytes("payments".getBytes())
                                                  .toString())
                                          .withController(true)
                                          .build()));
                          return x;
                        });
          });
      p.expectUnrepaired(key(DriftKind.UID_MISMATCH, fresh[0]));
      p.awaitConfirmed();
      p.awaitTrustedCycles(4);
      p.act(
          "the kubelet's watch catches up: it stops the old pod and starts the new one",
          () -> {
            p.node().kubeletSim().clearFaults();
            p.node().kubeletSim().sync();
          });
      p.awaitGone();
    }
  }

  /** A deleted pod's grace period is over; the kubelet cannot stop its container. */
  static final class StuckTerminating extends Base {
    StuckTerminating() {
      super(
          "stuck-terminating",
          "a pod stuck terminating",
          "StuckTerminating confirmed; stop-sandbox stops its container, the kubelet completes the"
              + " deletion; verified Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      String name = "search-74b9c6d8f5-w2n6j";
      Pod pod = settled(p, name);
      String uid = pod.getMetadata().getUid();
      p.expect(key(DriftKind.STUCK_TERMINATING, pod), "stop-sandbox");
      p.inject(
          "shop/"
              + name
              + " was deleted 31s ago with a 30s grace period; the kubelet cannot stop its"
              + " container",
          () -> {
            p.node().kubeletSim().cannotStop(uid);
            p.node()
                .deleteGracefully(NS, name, Duration.ofSeconds(30), Instant.now().minusSeconds(1));
          });
      p.awaitConfirmed();
      p.awaitRepairs();
      p.check(p.node().pod(NS, name) == null, "the pod is still in the API server");
      p.check(!p.node().kubelet().podUids().contains(uid), "the kubelet still lists the pod");
    }
  }

  /** A static pod's mirror pod is deleted and the kubelet does not post it again. */
  static final class MirrorPodDeleted extends Base {
    private static final String STATIC = "kube-scheduler-" + SimCluster.CAPTURE_NODE;

    MirrorPodDeleted() {
      super(
          "mirror-pod-deleted",
          "a static pod whose mirror pod was deleted",
          "MissingMirrorPod confirmed; restart-kubelet makes the kubelet post the mirror pod again;"
              + " verified Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      String hash = p.node().kubeletSim().staticPodUids().get(STATIC);
      Pod mirror = p.node().mirrorPodOf(hash);
      p.check(mirror != null, "the static pod " + STATIC + " has no mirror pod to start with");
      if (mirror == null) {
        return;
      }
      p.expect(
          new DriftKey(DriftKind.MISSING_MIRROR_POD, new PodRef("kube-system", STATIC, hash)),
          "restart-kubelet");
      p.inject(
          "mirror pod kube-system/"
              + STATIC
              + " deleted in the API server; the kubelet does not post it again",
          () -> {
            p.node().kubeletSim().holdMirror(hash);
            p.node().deletePod("kube-system", STATIC);
          });
      p.awaitConfirmed();
      p.awaitRepairs();
      p.check(p.node().mirrorPodOf(hash) != null, "the mirror pod was not posted again");
    }
  }

  /** A container exits; the kubelet's status update is lost, so the API server says Running. */
  static final class ContainerDied extends Base {
    ContainerDied() {
      super(
          "container-died",
          "a container that died while the API says Running",
          "ContainerNotRunning confirmed; recreate-controlled-pod deletes the pod for its"
              + " ReplicaSet; verified Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      String name = "frontend-5b6c7d8e9f-k7l2m";
      Pod pod = settled(p, name);
      p.expect(key(DriftKind.CONTAINER_NOT_RUNNING, pod), "recreate-controlled-pod");
      p.inject(
          "the container of shop/"
              + name
              + " exits; the kubelet's status update is lost, the API server still says Running",
          () -> p.node().kubelet().stopSandbox(pod.getMetadata().getUid()));
      p.awaitConfirmed();
      p.awaitRepairs();
      p.check(
          p.node().pod(NS, name) == null, "the pod was not deleted for its controller to recreate");
    }
  }

  /** The API server says a pod failed; its container still runs. */
  static final class TerminalButRunning extends Base {
    TerminalButRunning() {
      super(
          "terminal-but-running",
          "a terminal pod whose containers still run",
          "TerminalButRunning confirmed; stop-sandbox stops the leftover container; verified"
              + " Resolved");
    }

    @Override
    public void play(Play p) throws Exception {
      String name = "nightly-report-29707815-q4v8s";
      Pod pod = settled(p, name);
      String uid = pod.getMetadata().getUid();
      p.expect(key(DriftKind.TERMINAL_BUT_RUNNING, pod), "stop-sandbox");
      p.inject(
          "shop/"
              + name
              + " is marked Failed in the API server and dropped by the kubelet, but its container"
              + " keeps running",
          () -> {
            p.node().kubeletSim().loseEventsOf(uid);
            p.node().kubelet().forgetPod(uid);
            p.node()
                .editPodStatus(
                    NS,
                    name,
                    x -> {
                      x.getStatus().setPhase("Failed");
                      for (ContainerStatus c : x.getStatus().getContainerStatuses()) {
                        c.setReady(false);
                        c.setStarted(false);
                        c.setState(
                            new ContainerStateBuilder()
                                .withNewTerminated()
                                .withExitCode(1)
                                .withReason("Error")
                                .withFinishedAt(
                                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString())
                                .endTerminated()
                                .build());
                      }
                      return x;
                    });
          });
      p.awaitConfirmed();
      p.awaitRepairs();
      p.check(
          !p.node().kubelet().runningUids().contains(uid),
          "the runtime still runs the failed pod's container");
    }
  }

  /** The agent's pod watch expires (410 Gone) while pods change; the informer must re-list. */
  static final class WatchExpired extends Base {
    WatchExpired() {
      super(
          "watch-410-relist",
          "a watch that answers 410 Gone and re-lists",
          "the informer re-lists; no drift suspected or confirmed; no repair");
    }

    @Override
    public void play(Play p) throws Exception {
      Pod ledger = settled(p, "ledger-0");
      long relists = p.observer().relists();
      p.inject(
          "the API server closes the agent's pod watch and refuses new ones for a while",
          () -> p.node().cluster().api().refuseWatches());
      p.act(
          "meanwhile shop/ledger-0 is deleted and shop/inventory-0 created; the kubelet follows"
              + " both",
          () -> {
            p.node().deletePod(NS, "ledger-0");
            pods.add("inventory-0");
            p.node().createPod(NS, "inventory-0", x -> x);
          });
      p.act(
          "watches are accepted again, but the agent's resourceVersion is gone: the API server"
              + " answers 410",
          () -> {
            p.node().cluster().api().failNextPodWatch();
            p.node().cluster().api().acceptWatches();
          });
      p.await("the informer to re-list", () -> p.observer().relists() > relists);
      p.await("trusted cycles again", () -> p.observer().last().trusted());
      p.awaitTrustedCycles(p.timing().cyclesPastWindow());
      Set<String> inApi =
          Set.copyOf(p.observer().last().snapshot().controlPlane().podsByUid().keySet());
      p.check(
          !inApi.contains(ledger.getMetadata().getUid()),
          "the agent's view still has the deleted pod");
      p.check(
          p.node().pod(NS, "inventory-0") != null
              && inApi.contains(p.node().pod(NS, "inventory-0").getMetadata().getUid()),
          "the agent's view lacks the pod created while it could not watch");
      p.check(p.suspected().isEmpty(), "drifts were suspected: " + p.suspected());
      // A re-list can finish between two cycles; then only its quiet period is seen. Either
      // proves the re-listed view was not trusted at once.
      p.check(
          p.untrustedReasons().contains("informer_relisting")
              || p.untrustedReasons().contains("quiet_period"),
          "no cycle was untrusted during or right after the re-list: " + p.untrustedReasons());
      p.fact("re-listed " + (p.observer().relists() - relists) + "×");
    }
  }

  /** The kubelet answers 503 for two windows; the agent must not read that as missing pods. */
  static final class KubeletDown extends Base {
    KubeletDown() {
      super(
          "kubelet-down",
          "the kubelet down for a while",
          "cycles untrusted while it is down; no drift suspected or confirmed; no repair");
    }

    @Override
    public void play(Play p) throws Exception {
      Duration down = p.timing().window().multipliedBy(2);
      p.inject(
          "the kubelet answers 503 to every request for " + Observer.seconds(down),
          () -> p.node().kubelet().inject(null, KubeletFault.status(503), 1_000_000));
      p.act(
          "meanwhile shop/reports-0 is created; the kubelet starts it",
          () -> {
            pods.add("reports-0");
            p.node().createPod(NS, "reports-0", x -> x);
          });
      p.hold("the outage to last " + Observer.seconds(down), down);
      p.act("the kubelet answers again", () -> p.node().kubelet().clearFaults());
      p.await("trusted cycles again", () -> p.observer().last().trusted());
      p.awaitTrustedCycles(p.timing().cyclesPastWindow());
      p.check(
          p.untrustedReasons().contains("kubelet_poll_failed"),
          "no cycle was untrusted for kubelet_poll_failed while the kubelet was down: "
              + p.untrustedReasons());
      p.check(p.suspected().isEmpty(), "drifts were suspected: " + p.suspected());
    }

    @Override
    public void cleanup(Play p) throws Exception {
      p.node().kubelet().clearFaults();
      super.cleanup(p);
    }
  }

  /** Half the node's pods vanish from the kubelet's list at once (an incomplete list). */
  static final class HalfThePodsVanish extends Base {
    HalfThePodsVanish() {
      super(
          "half-pods-vanish",
          "half the pods vanishing from the kubelet at once",
          "every vanished pod confirmed as UnknownToKubelet; the circuit breaker opens; no repair;"
              + " it closes after the pods return");
    }

    @Override
    public void play(Play p) throws Exception {
      SimNode node = p.node();
      int listed = node.kubelet().podUids().size();
      List<Pod> victims =
          node.apiPods().stream()
              .filter(x -> SimulatedKubelet.annotation(x, SimulatedKubelet.CONFIG_MIRROR) == null)
              .filter(x -> "Running".equals(x.getStatus().getPhase()))
              .filter(x -> x.getMetadata().getDeletionTimestamp() == null)
              .sorted(
                  Comparator.comparing((Pod x) -> x.getMetadata().getNamespace())
                      .thenComparing(x -> x.getMetadata().getName()))
              .limit(listed / 2)
              .toList();
      for (Pod v : victims) {
        p.expectUnrepaired(key(DriftKind.UNKNOWN_TO_KUBELET, v));
      }
      p.inject(
          "the kubelet restarts and its /pods lists only "
              + (listed - victims.size())
              + " of its "
              + listed
              + " pods",
          () ->
              node.kubeletSim()
                  .dropFromList(victims.stream().map(v -> v.getMetadata().getUid()).toList()));
      p.awaitConfirmed();
      p.await("the circuit breaker to open", () -> p.observer().circuitOpen());
      p.awaitTrustedCycles(4);
      p.act("the kubelet's list is complete again", () -> node.kubeletSim().resync());
      p.awaitGone();
      p.await("the circuit breaker to close", () -> !p.observer().circuitOpen());
      p.fact(
          "breaker: "
              + p.observer()
                  .lastCircuitOpening()
                  .map(RepairController.CircuitReading::summary)
                  .orElse("no count from the agent"));
    }

    @Override
    public void cleanup(Play p) throws Exception {
      p.node().kubeletSim().resync();
      super.cleanup(p);
    }
  }
}
