package dev.stateprobe.demo;

import dev.stateprobe.demo.FleetDemo.Sample;
import dev.stateprobe.demo.FleetDemo.Stamp;
import dev.stateprobe.fleet.StormSettings;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The fleet scenarios ({@code --nodes N}): many nodes break at once, and the cluster repair budget
 * and the fleet storm brake decide what runs. Each is judged from outside: the scripts' own
 * start/end stamps, the records in the API server, the slot Leases and the brake Lease (sampled
 * every 250 ms and printed when they change).
 */
public final class FleetScenarios {
  private FleetScenarios() {}

  /** One fleet scenario. */
  interface FleetScenario {
    String name();

    String title();

    String expectation();

    /** The coordinator's storm settings for this scenario, at this many nodes. */
    StormSettings storm(int nodes);

    void play(Run run) throws Exception;
  }

  /** The capture pod each scenario loses a delete of (renamed after its node). */
  static final String BUDGET_VICTIM = "e2e-deployment-79967c5968-8bnn8";

  static final String STORM_VICTIM = "e2e-deployment-79967c5968-zjslc";
  static final String AFTER_STORM_VICTIM = "e2e-hpa-6cd8d99884-tggnr";

  /** The storm share of the fleet-storm scenario. */
  static final int STORM_PERCENT = 40;

  static List<String> names() {
    return all().stream().map(FleetScenario::name).toList();
  }

  static Optional<FleetScenario> byName(String name) {
    return all().stream().filter(s -> s.name().equals(name)).findFirst();
  }

  static List<FleetScenario> all() {
    return List.of(new Budget(), new Storm(), new Levels());
  }

  /** The brake's window and hold in the demo: short, so that a storm clears in seconds. */
  static StormSettings demoStorm(int percent) {
    return new StormSettings(percent, 2, Duration.ofSeconds(12), Duration.ofSeconds(3));
  }

  /**
   * Every node loses a delete at once; the brake's threshold is set above 100 % for this scenario
   * (the fleet-wide storm is fleet-storm's), so only the budget paces the repairs.
   */
  static final class Budget implements FleetScenario {
    @Override
    public String name() {
      return "fleet-budget";
    }

    @Override
    public String title() {
      return "a delete lost on every node at once, the brake's threshold set out of reach";
    }

    @Override
    public String expectation() {
      return "every orphan repaired and verified; never more than CLUSTER_REPAIR_SLOTS scripts"
          + " at once; every slot given back";
    }

    @Override
    public StormSettings storm(int nodes) {
      return demoStorm(100);
    }

    @Override
    public void play(Run run) {
      FleetDemo fleet = run.fleet;
      Instant t = Instant.now();
      Map<String, String> orphans = FleetDemo.loseDeletes(fleet.nodes(), BUDGET_VICTIM);
      run.note(
          "injected   a lost delete of "
              + BUDGET_VICTIM
              + " on each of "
              + orphans.size()
              + " nodes (in "
              + Observer.seconds(Duration.between(t, Instant.now()))
              + ")");
      run.await(
          "every orphan repaired and verified",
          run.patience(orphans.size()),
          () -> run.unrepaired(orphans).isEmpty());
      run.note("repaired   all " + orphans.size() + " orphans, each verified Resolved");
      run.await(
          "every slot given back", Duration.ofSeconds(30), () -> run.last().holders().isEmpty());
      List<Stamp> stamps = fleet.stamps();
      run.checkStamps(stamps, orphans);
      if (run.samples.stream().anyMatch(s -> !s.brake().equals("off"))) {
        run.problem("the brake was not off throughout (its threshold is out of reach here)");
      }
    }
  }

  /**
   * {@link #STORM_PERCENT} % of the nodes lose a delete within seconds. The first ones (just over
   * the threshold) confirm and write records; each waits for a brake decision that counted it, and
   * the decision that counts them turns the brake on, so none of them starts; the rest of the
   * storm, arriving while it is on, writes nothing. Then the storm clears (the kubelets catch up,
   * as they do once the fault that lost the events ends) while one further node has a real lost
   * delete, which waits for the brake to go off and is then repaired under the budget.
   */
  static final class Storm implements FleetScenario {
    @Override
    public String name() {
      return "fleet-storm";
    }

    @Override
    public String title() {
      return STORM_PERCENT + " % of the nodes lose a delete within seconds (a storm)";
    }

    @Override
    public String expectation() {
      return "the first ones turn the brake on; no repair starts after it; it turns off once the"
          + " storm clears; a real drift held meanwhile is then repaired";
    }

    @Override
    public StormSettings storm(int nodes) {
      return demoStorm(10);
    }

    /** The fewest drifting nodes that are a storm: over 10 % and at least the minimum. */
    static int overThreshold(int nodes, StormSettings s) {
      return Math.max(s.minNodes(), nodes * s.percent() / 100 + 1);
    }

    @Override
    public void play(Run run) {
      FleetDemo fleet = run.fleet;
      List<SimNode> nodes = fleet.nodes();
      int storming = Math.min(nodes.size() - 1, (nodes.size() * STORM_PERCENT + 99) / 100);
      int first = Math.min(storming, overThreshold(nodes.size(), storm(nodes.size())));
      Map<String, String> storm = FleetDemo.loseDeletes(nodes.subList(0, first), STORM_VICTIM);
      run.note(
          "injected   a lost delete of "
              + STORM_VICTIM
              + " on "
              + first
              + " of "
              + nodes.size()
              + " nodes (the storm's first, just over the threshold)");
      run.await("the brake on", run.patience(1), () -> run.last().brake().equals("on"));
      Instant on = run.last().at();
      Instant published = run.last().since().orElse(on);
      run.note(
          "brake on   published "
              + Observer.seconds(Duration.between(published, on))
              + " before the demo saw it");
      Map<String, String> rest =
          FleetDemo.loseDeletes(nodes.subList(first, storming), STORM_VICTIM);
      SimNode real = nodes.get(storming);
      String realUid = FleetDemo.loseDelete(real, AFTER_STORM_VICTIM);
      run.note(
          "injected   the rest of the storm on "
              + rest.size()
              + " nodes, and a real lost delete of "
              + AFTER_STORM_VICTIM
              + " on "
              + real.name());
      // Long enough for every one of them to be confirmed and held by the brake.
      run.hold("the held drifts' confirmation", fleet.timing().window().multipliedBy(3));
      int cleared = 0;
      for (Map.Entry<String, String> e : storm.entrySet()) {
        if (fleet.cluster().node(e.getKey()).kubelet().stopSandbox(e.getValue()).isPresent()) {
          cleared++;
        }
      }
      for (Map.Entry<String, String> e : rest.entrySet()) {
        if (fleet.cluster().node(e.getKey()).kubelet().stopSandbox(e.getValue()).isPresent()) {
          cleared++;
        }
      }
      int total = storm.size() + rest.size();
      run.note(
          "cleared    the storm: "
              + cleared
              + " of "
              + total
              + " kubelets caught up by themselves"
              + (cleared < total ? " (the others had been repaired)" : ""));
      run.await(
          "the brake off", run.patience(1).plusSeconds(30), () -> run.last().brake().equals("off"));
      // The agents may see it before the demo's next sample: the Lease says when it turned off.
      Instant off = run.last().since().orElse(run.last().at());
      run.note("brake off  after " + Observer.seconds(Duration.between(published, off)));
      Map<String, String> realOrphan = Map.of(real.name(), realUid);
      run.await(
          "the held repair on " + real.name(),
          run.patience(1),
          () -> run.unrepaired(realOrphan).isEmpty());
      run.note("repaired   " + real.name() + "'s orphan, after the brake went off");
      run.await(
          "every slot given back", Duration.ofSeconds(30), () -> run.last().holders().isEmpty());
      judge(run, fleet.stamps(), published, off, rest, realUid);
    }

    /**
     * From outside ({@code on}: when the brake was published): no script started while it was on,
     * but for repairs whose record was made before it (they had passed the brake and waited for a
     * slot); none for the storm's later nodes at all; the held one after the brake went off; never
     * more at once than the slots.
     */
    private static void judge(
        Run run,
        List<Stamp> stamps,
        Instant on,
        Instant off,
        Map<String, String> rest,
        String realUid) {
      FleetDemo fleet = run.fleet;
      Map<String, Instant> recordMade = new LinkedHashMap<>();
      for (ConsistencyRepairJob j : fleet.records()) {
        String created = j.getMetadata().getCreationTimestamp();
        if (created != null) {
          recordMade.put(j.getSpec().drift().target().uid(), Instant.parse(created));
        }
      }
      int beforeBrake = 0;
      for (Stamp s : stamps) {
        boolean whileOn =
            s.startMillis() > on.toEpochMilli() && s.startMillis() < off.toEpochMilli();
        if (whileOn) {
          // No exemption: a script starts only under a decision that counted its record
          // (FLEET_BRAKE_SETTLE), checked again just before the script, so a repair recorded
          // before the brake and still waiting when it turns on must be held too.
          run.problem("a script started on " + s.node() + " while the brake was on: " + s);
        } else if (s.startMillis() <= on.toEpochMilli()) {
          beforeBrake++;
        }
      }
      for (String uid : rest.values()) {
        if (recordMade.containsKey(uid)) {
          run.problem("a repair was recorded while the brake was on, for " + uid);
        }
      }
      if (stamps.stream()
          .noneMatch(s -> s.uid().equals(realUid) && s.startMillis() >= off.toEpochMilli() - 500)) {
        run.problem("the held repair did not run after the brake went off");
      }
      int most = FleetDemo.mostAtOnce(stamps);
      if (most > fleet.slots()) {
        run.problem(most + " scripts ran at once, over the " + fleet.slots() + " slots");
      }
      run.fact(beforeBrake + " script(s) started before the brake (counted under the threshold)");
      run.fact(rest.size() + " later storm nodes held, none recorded");
      run.fact("brake on for " + Observer.seconds(Duration.between(on, off)));
    }
  }

  /**
   * ConsistencyPolicy levels on a fleet: two policies (by pod label) make one capture pod Critical
   * and another Eventual; a third stays Strict (no policy). Each node loses a delete of all three
   * at once. The Critical orphan is confirmed in half the window and repaired before the Strict one
   * on every node; the Eventual one is reported and never repaired on its own.
   */
  static final class Levels implements FleetScenario {
    static final String CRITICAL = "e2e-scraper-5f97dc94d8-vkcjl";
    static final String STRICT = "e2e-statefulset-0";
    static final String EVENTUAL = "metrics-server-9d74bb658-c6nnt";
    private static final ResourceDefinitionContext POLICIES =
        new ResourceDefinitionContext.Builder()
            .withGroup("stateprobe.dev")
            .withVersion("v1alpha1")
            .withPlural("consistencypolicies")
            .withKind("ConsistencyPolicy")
            .withNamespaced(false)
            .build();

    @Override
    public String name() {
      return "fleet-levels";
    }

    @Override
    public String title() {
      return "a Critical, a Strict and an Eventual pod lose a delete on every node at once";
    }

    @Override
    public String expectation() {
      return "on every node the Critical orphan is repaired before the Strict one; the Eventual"
          + " one is never repaired on its own";
    }

    @Override
    public StormSettings storm(int nodes) {
      return demoStorm(100);
    }

    private static GenericKubernetesResource policy(
        String name, String labelKey, String labelValue, String level) {
      return new GenericKubernetesResourceBuilder()
          .withApiVersion("stateprobe.dev/v1alpha1")
          .withKind("ConsistencyPolicy")
          .withNewMetadata()
          .withName(name)
          .endMetadata()
          .withAdditionalProperties(
              Map.of(
                  "spec",
                  Map.of(
                      "selector",
                      Map.of("podSelector", Map.of("matchLabels", Map.of(labelKey, labelValue))),
                      "consistencyLevel",
                      level)))
          .build();
    }

    @Override
    public void play(Run run) {
      FleetDemo fleet = run.fleet;
      var policies = fleet.cluster().client().genericKubernetesResources(POLICIES);
      policies.resource(policy("demo-critical", "app", "scraper", "Critical")).create();
      policies.resource(policy("demo-eventual", "k8s-app", "metrics-server", "Eventual")).create();
      run.note(
          "policies   demo-critical (app=scraper): Critical; demo-eventual"
              + " (k8s-app=metrics-server): Eventual; app=statefulset: no policy, Strict");
      Map<String, String> eventual = Map.of();
      try {
        run.hold("the agents' policy watches", Duration.ofSeconds(2));
        Instant t = Instant.now();
        List<SimNode> nodes = fleet.nodes();
        // The Strict pod's delete is lost first on each node: the Critical one still goes first.
        Map<String, Map<String, String>> lost =
            FleetDemo.loseDeletes(nodes, List.of(STRICT, CRITICAL, EVENTUAL));
        Map<String, String> strict = lost.get(STRICT);
        Map<String, String> critical = lost.get(CRITICAL);
        eventual = lost.get(EVENTUAL);
        run.note(
            "injected   lost deletes of "
                + STRICT
                + " (Strict), then "
                + CRITICAL
                + " (Critical) and "
                + EVENTUAL
                + " (Eventual) on each of "
                + nodes.size()
                + " nodes (in "
                + Observer.seconds(Duration.between(t, Instant.now()))
                + ")");
        List<Map<String, String>> byNode = new ArrayList<>();
        for (String node : critical.keySet()) {
          byNode.add(Map.of(node, critical.get(node)));
          byNode.add(Map.of(node, strict.get(node)));
        }
        run.await(
            "every Critical and Strict orphan repaired and verified",
            run.patience(2 * nodes.size()),
            () -> byNode.stream().allMatch(m -> run.unrepaired(m).isEmpty()));
        run.note("repaired   every Critical and Strict orphan");
        // The Eventual orphans have been confirmed by now (their window is 2x); a few more
        // windows show that nothing repairs them.
        run.hold("the Eventual orphans left alone", fleet.timing().window().multipliedBy(3));
        run.await(
            "every slot given back", Duration.ofSeconds(30), () -> run.last().holders().isEmpty());
        judge(run, fleet.stamps(), critical, strict, eventual);
      } finally {
        for (Map.Entry<String, String> e : eventual.entrySet()) {
          fleet.cluster().node(e.getKey()).kubelet().stopSandbox(e.getValue());
        }
        policies.withName("demo-critical").delete();
        policies.withName("demo-eventual").delete();
      }
    }

    private static void judge(
        Run run,
        List<Stamp> stamps,
        Map<String, String> critical,
        Map<String, String> strict,
        Map<String, String> eventual) {
      Map<String, Stamp> byUid = new LinkedHashMap<>();
      stamps.forEach(s -> byUid.put(s.uid(), s));
      int criticalFirst = 0;
      for (String node : critical.keySet()) {
        Stamp c = byUid.get(critical.get(node));
        Stamp s = byUid.get(strict.get(node));
        if (c == null || s == null) {
          run.problem(node + ": a Critical or Strict repair left no stamp");
        } else if (c.startMillis() > s.startMillis()) {
          run.problem(node + ": the Strict orphan was repaired before the Critical one");
        } else {
          criticalFirst++;
        }
      }
      for (String uid : eventual.values()) {
        if (byUid.containsKey(uid)) {
          run.problem("an Eventual orphan was repaired: " + byUid.get(uid));
        }
      }
      for (ConsistencyRepairJob j : run.fleet.records()) {
        if (eventual.containsValue(j.getSpec().drift().target().uid())
            && j.getStatus() != null
            && j.getStatus().attempts() > 0) {
          run.problem("an Eventual orphan's record has attempts: " + j.getMetadata().getName());
        }
      }
      int most = FleetDemo.mostAtOnce(stamps);
      if (most > run.fleet.slots()) {
        run.problem(most + " scripts ran at once, over the " + run.fleet.slots() + " slots");
      }
      run.fact(criticalFirst + " of " + critical.size() + " nodes repaired Critical first");
      run.fact(eventual.size() + " Eventual orphans left alone");
      run.fact(stamps.size() + " scripts, at most " + most + " at once");
    }
  }

  /** Runs fleet scenarios on one fleet, printing the brake and the slot holders as they change. */
  static final class Runner {
    private final FleetDemo fleet;
    private final PrintStream live;

    Runner(FleetDemo fleet, PrintStream live) {
      this.fleet = fleet;
      this.live = live;
    }

    List<ScenarioResult> run(List<FleetScenario> scenarios) {
      List<ScenarioResult> out = new ArrayList<>();
      for (int i = 0; i < scenarios.size(); i++) {
        out.add(run(scenarios.get(i), (i + 1) + "/" + scenarios.size()));
      }
      return out;
    }

    private ScenarioResult run(FleetScenario s, String position) {
      live.println();
      live.println("[" + position + "] " + s.name() + ": " + s.title());
      live.println("       expect: " + s.expectation());
      Run run = new Run(fleet, live);
      Instant t0 = Instant.now();
      try {
        fleet.clearRecordsAndStamps();
        fleet.coordinator(s.storm(fleet.nodes().size()));
        run.startSampling();
        run.await(
            "the coordinator's brake off",
            Duration.ofSeconds(60),
            () -> run.last().brake().equals("off"));
        run.markStart();
        s.play(run);
      } catch (ScenarioFailure e) {
        run.problem(e.getMessage());
      } catch (Exception | AssertionError e) {
        run.problem("the scenario failed: " + e);
      } finally {
        run.stopSampling();
      }
      Duration took = Duration.between(t0, Instant.now());
      ScenarioResult result =
          new ScenarioResult(
              s.name(),
              s.title(),
              s.expectation(),
              took,
              List.of(),
              List.of(),
              run.repairs(),
              run.facts,
              run.problems);
      live.printf(
          Locale.ROOT, "   %s  %s%n", result.passed() ? "PASS" : "FAIL", Observer.seconds(took));
      for (String p : result.problems()) {
        live.println("         - " + p);
      }
      return result;
    }
  }

  /** A wait that ran out. */
  static final class ScenarioFailure extends RuntimeException {
    ScenarioFailure(String message) {
      super(message);
    }
  }

  /** One scenario's run: the samples, the findings and the problems. */
  static final class Run {
    final FleetDemo fleet;
    private final PrintStream live;
    final List<Sample> samples = java.util.Collections.synchronizedList(new ArrayList<>());
    final List<String> facts = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    private final BlockingQueue<Sample> fresh = new LinkedBlockingQueue<>();
    private ScheduledExecutorService sampler;
    private volatile Instant start = Instant.now();
    private volatile Sample last =
        new Sample(Instant.now(), List.of(), "missing", Optional.empty());
    private volatile String printed = "";
    private volatile boolean printing;
    private int mostHolders;

    Run(FleetDemo fleet, PrintStream live) {
      this.fleet = fleet;
      this.live = live;
    }

    void startSampling() {
      sampler =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "state-probe-demo-fleet-sampler");
                t.setDaemon(true);
                return t;
              });
      sampler.scheduleWithFixedDelay(this::sampleSafely, 0, 250, TimeUnit.MILLISECONDS);
    }

    void stopSampling() {
      if (sampler != null) {
        sampler.shutdownNow();
        try {
          sampler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    private void sampleSafely() {
      try {
        Sample s = fleet.sample();
        last = s;
        samples.add(s);
        synchronized (this) {
          mostHolders = Math.max(mostHolders, s.holders().size());
        }
        String line = s.line();
        if (printing && !line.equals(printed)) {
          printed = line;
          live.printf(
              Locale.ROOT,
              "     %+7.2fs  %s%n",
              Duration.between(start, s.at()).toMillis() / 1000.0,
              "brake "
                  + s.brake()
                  + "  slots "
                  + s.holders().size()
                  + "/"
                  + fleet.slots()
                  + (s.holders().isEmpty() ? "" : ": " + String.join(" ", s.holders())));
        }
        fresh.offer(s);
      } catch (RuntimeException e) {
        live.println("     (sample failed: " + e + ")");
      }
    }

    /** From now on the timeline counts from zero, and only this scenario's samples count. */
    void markStart() {
      start = Instant.now();
      samples.clear();
      samples.add(last);
      printed = "";
      printing = true;
    }

    Sample last() {
      return last;
    }

    void note(String text) {
      live.printf(
          Locale.ROOT,
          "     %+7.2fs  %s%n",
          Duration.between(start, Instant.now()).toMillis() / 1000.0,
          text);
    }

    void fact(String text) {
      facts.add(text);
    }

    void problem(String text) {
      problems.add(text);
    }

    /** A wait scaled to the repairs that must run one budget round after the other. */
    Duration patience(int repairs) {
      int rounds = (repairs + fleet.slots() - 1) / fleet.slots();
      return fleet.timing().patience().plus(Duration.ofSeconds(30L * rounds));
    }

    /** Waits for the sampler's next samples until {@code condition}; throws when it runs out. */
    void await(String what, Duration timeout, BooleanSupplier condition) {
      Instant deadline = Instant.now().plus(timeout);
      try {
        while (!condition.getAsBoolean()) {
          Duration left = Duration.between(Instant.now(), deadline);
          if (left.isNegative() || left.isZero()) {
            throw new ScenarioFailure(
                "gave up after "
                    + Observer.seconds(timeout)
                    + " waiting for "
                    + what
                    + "; last seen: "
                    + last.line());
          }
          fresh.poll(Math.min(left.toMillis(), 500), TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ScenarioFailure("interrupted while waiting for " + what);
      }
    }

    /** Lets the fleet run on for {@code duration}, sampling meanwhile. */
    void hold(String what, Duration duration) {
      Instant until = Instant.now().plus(duration);
      await(what, duration.plusSeconds(10), () -> !Instant.now().isBefore(until));
    }

    /**
     * The orphans (pod UID by node) without a record Succeeded and verified Resolved on their own
     * node, or still run by their kubelet.
     */
    Map<String, String> unrepaired(Map<String, String> orphans) {
      Map<String, ConsistencyRepairJob> byUid = new LinkedHashMap<>();
      for (ConsistencyRepairJob j : fleet.records()) {
        byUid.put(j.getSpec().drift().target().uid(), j);
      }
      Map<String, String> out = new LinkedHashMap<>();
      orphans.forEach(
          (node, uid) -> {
            ConsistencyRepairJob j = byUid.get(uid);
            RepairJobStatus st = j == null ? null : j.getStatus();
            boolean done =
                st != null
                    && st.phase() == Phase.SUCCEEDED
                    && st.verification() == Verification.RESOLVED
                    && node.equals(j.getSpec().nodeName())
                    && !fleet.cluster().node(node).kubelet().runningUids().contains(uid);
            if (!done) {
              out.put(
                  node, j == null ? "no record" : String.valueOf(st == null ? null : st.phase()));
            }
          });
      return out;
    }

    /** One run per orphan on its own node, never more at once than there are slots. */
    void checkStamps(List<Stamp> stamps, Map<String, String> orphans) {
      int most = FleetDemo.mostAtOnce(stamps);
      if (stamps.size() != orphans.size()) {
        problem(stamps.size() + " script runs for " + orphans.size() + " orphans");
      }
      for (Stamp s : stamps) {
        if (!s.uid().equals(orphans.get(s.node()))) {
          problem("a script ran on " + s.node() + " for " + s.uid() + ", not its orphan");
        }
      }
      if (most > fleet.slots()) {
        problem(
            most + " scripts ran at once by their stamps, over the " + fleet.slots() + " slots");
      }
      int held;
      synchronized (this) {
        held = mostHolders;
      }
      if (held > fleet.slots()) {
        problem(held + " slot holders at once, over " + fleet.slots());
      }
      long first = stamps.stream().mapToLong(Stamp::startMillis).min().orElse(0);
      long lastEnd = stamps.stream().mapToLong(Stamp::endMillis).max().orElse(0);
      fact(
          stamps.size()
              + " scripts, at most "
              + most
              + " at once ("
              + fleet.slots()
              + " slots), over "
              + Observer.seconds(Duration.ofMillis(lastEnd - first)));
    }

    List<ScenarioResult.Repair> repairs() {
      List<ScenarioResult.Repair> out = new ArrayList<>();
      try {
        for (ConsistencyRepairJob j : fleet.records()) {
          RepairJobStatus st = j.getStatus();
          out.add(
              new ScenarioResult.Repair(
                  j.getMetadata().getName(),
                  j.getSpec().script(),
                  j.getSpec().driftKey(),
                  st == null ? Phase.PENDING : st.phase(),
                  st == null ? 0 : st.attempts(),
                  st == null ? null : st.exitCode(),
                  st == null ? null : st.verification()));
        }
      } catch (RuntimeException e) {
        problem("the records could not be read: " + e);
      }
      return out;
    }
  }

  /** The fleet summary: one row per scenario, its findings, then the problems. */
  static String table(List<ScenarioResult> results, Duration total, int nodes) {
    StringBuilder out = new StringBuilder();
    int i = 0;
    for (ScenarioResult r : results) {
      out.append(
          String.format(
              Locale.ROOT,
              "%2d  %-13s %s  %6s  %d records  %s%n",
              ++i,
              r.name(),
              r.passed() ? "PASS" : "FAIL",
              Observer.seconds(r.duration()),
              r.repairs().size(),
              String.join("; ", r.facts())));
    }
    long passed = results.stream().filter(ScenarioResult::passed).count();
    out.append('\n')
        .append(passed)
        .append(" of ")
        .append(results.size())
        .append(" fleet scenarios behaved as expected on ")
        .append(nodes)
        .append(" nodes in ")
        .append(Observer.seconds(total))
        .append(".\n");
    for (ScenarioResult r : results) {
      for (String p : r.problems()) {
        out.append("  ").append(r.name()).append(": ").append(p).append('\n');
      }
    }
    return out.toString();
  }
}
