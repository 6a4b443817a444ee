package dev.stateprobe.demo;

import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * Plays scenarios on a simulated node, one after another, printing a line per step as it happens
 * (what was injected, what the agent suspected, confirmed, repaired and verified, with the time
 * since the injection), and judges each by what the agent and the API server show:
 *
 * <ul>
 *   <li>exactly the expected drifts were confirmed;
 *   <li>every repair record written belongs to an expected repair, and every expected repair's
 *       record is in the API server, once, with the expected phase, attempts and verdict;
 *   <li>the API server's records and the agent's agree (none lost, none unknown to the agent);
 *   <li>the node is clean again afterwards: trusted, no drift, no repair running, breaker closed.
 * </ul>
 *
 * <p>The demo and the scenario tests both run scenarios through here. Not thread-safe: one thread
 * runs the timeline.
 */
public final class TimelineRunner {
  private static final Duration TICK = Duration.ofMillis(200);

  private final SimNode node;
  private final Observer observer;
  private final Timing timing;
  private final PrintStream live;
  private final Clock clock;

  /**
   * @param live where the step lines go (the demo's stdout, or a test's log)
   */
  public TimelineRunner(DemoNode demo, PrintStream live, Clock clock) {
    this.node = demo.node();
    this.observer = demo.observer();
    this.timing = demo.timing();
    this.live = Objects.requireNonNull(live, "live");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Runs every scenario in order; each starts on a node the last one left clean. */
  public List<ScenarioResult> run(List<Scenario> scenarios) {
    List<ScenarioResult> results = new ArrayList<>();
    for (int i = 0; i < scenarios.size(); i++) {
      results.add(run(scenarios.get(i), (i + 1) + "/" + scenarios.size()));
    }
    return results;
  }

  public ScenarioResult run(Scenario scenario) {
    return run(scenario, "1/1");
  }

  private ScenarioResult run(Scenario scenario, String position) {
    live.println();
    live.println("[" + position + "] " + scenario.name() + ": " + scenario.title());
    live.println("       expect: " + scenario.expectation());
    Run run = new Run(scenario);
    try {
      run.awaitClean("the node to be clean before the scenario");
    } catch (ScenarioFailure e) {
      run.problems.add(e.getMessage());
      run.restore();
    }
    try {
      scenario.play(run);
    } catch (ScenarioFailure e) {
      run.problems.add(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      run.problems.add("interrupted");
    } catch (Exception | AssertionError e) {
      run.problems.add("the scenario failed: " + e);
    }
    try {
      scenario.cleanup(run);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception | AssertionError e) {
      run.problems.add("its cleanup failed: " + e);
    }
    try {
      run.awaitClean("the node to be clean again after the scenario");
    } catch (ScenarioFailure e) {
      run.problems.add(e.getMessage());
      run.restore();
    }
    ScenarioResult result = run.judge();
    live.printf(
        Locale.ROOT,
        "   %s  %s%n",
        result.passed() ? "PASS" : "FAIL",
        Observer.seconds(result.duration()));
    for (String p : result.problems()) {
      live.println("         - " + p);
    }
    return result;
  }

  /** A wait that ran out, or a scenario step that cannot go on. */
  static final class ScenarioFailure extends RuntimeException {
    ScenarioFailure(String message) {
      super(message);
    }
  }

  private record ExpectedRepair(String script, Phase phase, int attempts) {}

  /** One scenario's run: its expectations, what was seen, and the {@link Play} it is given. */
  private final class Run implements Play {
    private final Scenario scenario;
    private final Instant start = clock.instant();
    private Instant zero;
    private final Map<DriftKey, List<ExpectedRepair>> expected = new LinkedHashMap<>();
    private final Set<DriftKey> confirmed = new LinkedHashSet<>();
    private final Set<DriftKey> suspected = new LinkedHashSet<>();
    private final Set<String> untrustedReasons = new TreeSet<>();
    private final Set<String> touched = new LinkedHashSet<>();
    private final List<String> facts = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();

    /**
     * Lines not printed yet. A record's write lands a cycle after the drift it repaired cleared, so
     * lines wait a little and go out in time order.
     */
    private final List<Observer.Event> pending = new ArrayList<>();

    /** The pods of the last line about many pods: the next one about the same pods says so. */
    private Set<String> lastGroup = Set.of();

    Run(Scenario scenario) {
      this.scenario = scenario;
    }

    // ---- Play ----

    @Override
    public SimNode node() {
      return node;
    }

    @Override
    public Timing timing() {
      return timing;
    }

    @Override
    public Observer observer() {
      return observer;
    }

    @Override
    public Pod createSettledPod(String namespace, String name, UnaryOperator<Pod> edit) {
      Pod pod = node.createPod(namespace, name, edit);
      String uid = pod.getMetadata().getUid();
      await(
          "the agent to see " + namespace + "/" + name + " in the API server and the kubelet",
          () -> {
            CycleResult c = observer.last();
            return c != null
                && c.trusted()
                && c.drifts().isEmpty()
                && c.snapshot().controlPlane().podsByUid().containsKey(uid)
                && c.snapshot().kubelet().map(k -> k.podsByUid().containsKey(uid)).orElse(false);
          });
      return pod;
    }

    @Override
    public void inject(String what, Scenario.Step action) throws Exception {
      drain();
      flush(true);
      if (zero == null) {
        zero = clock.instant();
      }
      line(zero, "injected", what);
      action.run();
    }

    @Override
    public void act(String what, Scenario.Step action) throws Exception {
      drain();
      flush(true);
      line(clock.instant(), "act", what);
      action.run();
    }

    @Override
    public void note(String text) {
      drain();
      flush(true);
      line(clock.instant(), "note", text);
    }

    @Override
    public void expect(DriftKey drift, String script) {
      expectRepair(drift, script, Phase.SUCCEEDED, 1);
    }

    @Override
    public void expectRepair(DriftKey drift, String script, Phase phase, int attempts) {
      expected
          .computeIfAbsent(drift, k -> new ArrayList<>())
          .add(new ExpectedRepair(script, phase, attempts));
    }

    @Override
    public void expectUnrepaired(DriftKey drift) {
      expected.computeIfAbsent(drift, k -> new ArrayList<>());
    }

    @Override
    public void awaitConfirmed() {
      await(
          "the agent to confirm " + describe(expected.keySet()),
          () -> confirmed.containsAll(expected.keySet()));
    }

    @Override
    public void awaitRepairs() {
      await(
          "every expected repair to end as expected (" + expectedRepairs() + ")",
          this::repairsDone);
    }

    @Override
    public void awaitGone() {
      await(
          "the agent to stop seeing " + describe(expected.keySet()),
          () -> {
            CycleResult c = observer.last();
            return c != null
                && c.trusted()
                && c.drifts().stream().noneMatch(d -> expected.containsKey(d.key()));
          });
    }

    @Override
    public void awaitTrustedCycles(int n) {
      long target = observer.trustedCycles() + n;
      await(n + " more trusted cycles", () -> observer.trustedCycles() >= target);
    }

    @Override
    public void await(String what, BooleanSupplier condition) {
      await(what, timing().patience(), condition);
    }

    @Override
    public void await(String what, Duration timeout, BooleanSupplier condition) {
      Instant deadline = clock.instant().plus(timeout);
      try {
        while (true) {
          drain();
          if (condition.getAsBoolean()) {
            return;
          }
          Duration left = Duration.between(clock.instant(), deadline);
          if (left.isNegative() || left.isZero()) {
            throw new ScenarioFailure(
                "gave up after "
                    + Observer.seconds(timeout)
                    + " waiting for "
                    + what
                    + "; "
                    + state());
          }
          Observer.Event e = observer.next(left.compareTo(TICK) < 0 ? left : TICK);
          if (e != null) {
            consume(e);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ScenarioFailure("interrupted while waiting for " + what);
      }
    }

    @Override
    public Set<DriftKey> suspected() {
      drain();
      return Set.copyOf(suspected);
    }

    @Override
    public Set<String> untrustedReasons() {
      drain();
      return Set.copyOf(untrustedReasons);
    }

    @Override
    public void hold(String what, Duration duration) {
      Instant until = clock.instant().plus(duration);
      await(what, duration.plusSeconds(10), () -> !clock.instant().isBefore(until));
    }

    @Override
    public void check(boolean ok, String problem) {
      if (!ok) {
        drain();
        flush(true);
        problems.add(problem);
        line(clock.instant(), "PROBLEM", problem);
      }
    }

    @Override
    public void fact(String fact) {
      facts.add(fact);
    }

    // ---- events ----

    private void drain() {
      Observer.Event e;
      try {
        while ((e = observer.next(Duration.ZERO)) != null) {
          consume(e);
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      flush(false);
    }

    /**
     * Prints the waiting lines in time order: all of them, or those older than two polls. The same
     * change to many pods at once (a breaker's worth of drifts) is one line.
     */
    private void flush(boolean all) {
      Instant cut = clock.instant().minus(timing().poll().multipliedBy(2));
      pending.sort(java.util.Comparator.comparing(Observer.Event::at));
      while (!pending.isEmpty() && (all || pending.getFirst().at().isBefore(cut))) {
        Observer.Event first = pending.removeFirst();
        List<Observer.Event> same = new ArrayList<>(List.of(first));
        while (!pending.isEmpty() && sameChange(first, pending.getFirst())) {
          same.add(pending.removeFirst());
        }
        print(same);
      }
    }

    private static boolean sameChange(Observer.Event a, Observer.Event b) {
      return a.key() != null
          && b.key() != null
          && a.record() == null
          && b.record() == null
          && a.type() == b.type()
          && a.key().kind() == b.key().kind()
          && a.detail().equals(b.detail())
          && Duration.between(a.at(), b.at()).abs().compareTo(Duration.ofMillis(100)) < 0;
    }

    private void consume(Observer.Event e) {
      // A record is this scenario's when it was written or run during it; a late verdict on the
      // last scenario's record is not.
      if (e.record() != null
          && (e.type() == Observer.Type.RECORDED
              || e.type() == Observer.Type.REPAIR_STARTED
              || e.type() == Observer.Type.REPAIR_FINISHED)) {
        touched.add(e.record());
      }
      switch (e.type()) {
        case SUSPECTED -> {
          if (zero != null) {
            suspected.add(e.key());
          }
        }
        case CONFIRMED -> confirmed.add(e.key());
        default -> {}
      }
      if (e.type() == Observer.Type.CYCLE) {
        if (zero != null && !e.detail().isEmpty()) {
          untrustedReasons.addAll(List.of(e.detail().split(",")));
        }
        return;
      }
      // Before the fault, drifts that come and go belong to setting the stage (a new pod reaches
      // the API server a moment before the kubelet): not worth a line. Confirmations still are.
      if (zero == null
          && (e.type() == Observer.Type.SUSPECTED || e.type() == Observer.Type.DISMISSED)) {
        return;
      }
      pending.add(e);
    }

    private void print(List<Observer.Event> events) {
      Observer.Event e = events.getFirst();
      String verb =
          switch (e.type()) {
            case CYCLE -> "cycle";
            case SUSPECTED -> "suspected";
            case CONFIRMED -> "confirmed";
            case DISMISSED -> "dismissed";
            case CLEARED -> "cleared";
            case TRUST_LOST -> "untrusted";
            case TRUST_REGAINED -> "trusted";
            case RELISTED -> "re-listed";
            case RECORDED -> "recorded";
            case REPAIR_STARTED, REPAIR_FINISHED -> "repair";
            case VERIFIED -> "verified";
            case CIRCUIT_OPENED, CIRCUIT_CLOSED -> "breaker";
            case AGENT_STARTED -> "agent";
          };
      String what;
      if (events.size() > 1) {
        Set<String> group = new LinkedHashSet<>();
        events.forEach(
            x -> group.add(x.key().target().namespace() + "/" + x.key().target().name()));
        StringBuilder pods = new StringBuilder();
        int width = 0;
        for (Observer.Event x : group.equals(lastGroup) ? List.<Observer.Event>of() : events) {
          String pod = x.key().target().namespace() + "/" + x.key().target().name();
          if (width > 0 && width + pod.length() > 90) {
            pods.append(",\n");
            width = 0;
          } else if (width > 0) {
            pods.append(", ");
            width += 2;
          }
          pods.append(pod);
          width += pod.length();
        }
        what =
            events.size()
                + "× "
                + e.key().kind().wireName()
                + ": "
                + e.detail()
                + (group.equals(lastGroup) ? " (the same pods)" : "\n" + pods);
        lastGroup = group;
      } else if (e.key() == null || e.record() != null) {
        what = e.detail();
      } else {
        what = DemoText.drift(e.key()) + ": " + e.detail();
      }
      line(e.at(), verb, what);
    }

    private void line(Instant at, String verb, String text) {
      Instant base = zero != null ? zero : start;
      double s = Duration.between(base, at).toMillis() / 1000.0;
      String[] lines = text.split("\n");
      live.printf(Locale.ROOT, "   %+7.2fs  %-10s %s%n", s, verb, lines[0]);
      for (int i = 1; i < lines.length; i++) {
        live.printf(Locale.ROOT, "   %8s  %-10s   %s%n", "", "", lines[i]);
      }
    }

    // ---- repairs ----

    private List<ConsistencyRepairJob> recordsOf(DriftKey key, String script) {
      return observer.records().values().stream()
          .filter(j -> j.getSpec().driftKey().equals(key) && j.getSpec().script().equals(script))
          .toList();
    }

    private boolean repairsDone() {
      for (Map.Entry<DriftKey, List<ExpectedRepair>> e : expected.entrySet()) {
        for (ExpectedRepair r : e.getValue()) {
          List<ConsistencyRepairJob> jobs = recordsOf(e.getKey(), r.script());
          if (jobs.size() != 1) {
            return false;
          }
          RepairJobStatus s = jobs.getFirst().statusOrPending();
          if (s.phase() != r.phase() || s.attempts() != r.attempts()) {
            return false;
          }
          if (s.phase() == Phase.SUCCEEDED
              && (s.verification() == null || s.verification() == Verification.PENDING)) {
            return false;
          }
        }
      }
      return true;
    }

    private String expectedRepairs() {
      List<String> out = new ArrayList<>();
      expected.forEach(
          (k, rs) ->
              rs.forEach(
                  r ->
                      out.add(
                          r.script()
                              + " "
                              + r.phase().wireName()
                              + " after "
                              + r.attempts()
                              + " attempt"
                              + (r.attempts() == 1 ? "" : "s")
                              + " for "
                              + DemoText.drift(k))));
      return out.isEmpty() ? "none" : String.join("; ", out);
    }

    /** The agent's current view, for a wait that ran out. */
    private String state() {
      CycleResult c = observer.last();
      if (c == null) {
        return "the agent has not finished a cycle";
      }
      List<String> drifts = new ArrayList<>();
      for (TrackedDrift d : c.drifts()) {
        drifts.add(DemoText.drift(d.key()) + " (" + d.state().wireName() + ")");
      }
      List<String> recs = new ArrayList<>();
      for (ConsistencyRepairJob j : observer.records().values()) {
        if (touched.contains(j.name())) {
          RepairJobStatus s = j.statusOrPending();
          recs.add(
              j.getSpec().script()
                  + " "
                  + s.phase().wireName()
                  + " attempts="
                  + s.attempts()
                  + (s.verification() == null ? "" : " " + s.verification().wireName()));
        }
      }
      return "the agent's last cycle was "
          + (c.trusted() ? "trusted" : "untrusted (" + String.join(", ", c.trust().reasons()) + ")")
          + ", drifts: "
          + (drifts.isEmpty() ? "none" : String.join(", ", drifts))
          + ", this scenario's records: "
          + (recs.isEmpty() ? "none" : String.join(", ", recs));
    }

    // ---- cleanliness ----

    /** Trusted, no drift, no repair running, breaker closed: twice in a row. */
    void awaitClean(String what) {
      long[] cleanCycle = {-1};
      await(
          what,
          () -> {
            CycleResult c = observer.last();
            if (c == null || node.agent() == null) {
              return false;
            }
            boolean clean =
                c.trusted()
                    && c.drifts().isEmpty()
                    && !observer.circuitOpen()
                    && observer.records().values().stream()
                        .noneMatch(j -> j.statusOrPending().phase() == Phase.RUNNING);
            if (!clean) {
              cleanCycle[0] = -1;
              return false;
            }
            if (cleanCycle[0] < 0) {
              cleanCycle[0] = c.cycle();
            }
            return c.cycle() > cleanCycle[0];
          });
    }

    /** After a scenario that could not clean up: back to the node as built. */
    void restore() {
      line(clock.instant(), "reset", "restoring the node as it was built");
      try {
        node.reset();
        awaitClean("the node to be clean after a reset");
      } catch (RuntimeException e) {
        problems.add("the node could not be restored: " + e.getMessage());
      }
    }

    // ---- the verdict ----

    ScenarioResult judge() {
      drain();
      flush(true);
      Set<DriftKey> missing = new TreeSet<>(expected.keySet());
      missing.removeAll(confirmed);
      for (DriftKey k : missing) {
        problems.add("expected " + DemoText.drift(k) + " to be confirmed; it was not");
      }
      Set<DriftKey> extra = new TreeSet<>(confirmed);
      extra.removeAll(expected.keySet());
      for (DriftKey k : extra) {
        problems.add("confirmed a drift no one expected: " + DemoText.drift(k));
      }

      Map<String, ConsistencyRepairJob> seen = observer.records();
      Map<String, ConsistencyRepairJob> stored = new LinkedHashMap<>();
      for (ConsistencyRepairJob j :
          node.cluster().client().resources(ConsistencyRepairJob.class).list().getItems()) {
        if (node.name().equals(j.getSpec().nodeName())) {
          stored.put(j.name(), j);
        }
      }
      for (String name : stored.keySet()) {
        if (!seen.containsKey(name)) {
          problems.add("record " + name + " is in the API server but the agent never reported it");
        }
      }
      List<ScenarioResult.Repair> repairs = new ArrayList<>();
      for (String name : touched) {
        ConsistencyRepairJob j = stored.get(name);
        if (j == null) {
          problems.add("record " + name + " was lost: the API server does not have it");
          continue;
        }
        RepairJobStatus s = j.statusOrPending();
        DriftKey key = j.getSpec().driftKey();
        String script = j.getSpec().script();
        repairs.add(
            new ScenarioResult.Repair(
                name, script, key, s.phase(), s.attempts(), s.exitCode(), s.verification()));
        ConsistencyRepairJob cached = seen.get(name);
        if (cached != null) {
          RepairJobStatus c = cached.statusOrPending();
          if (c.phase() != s.phase() || c.attempts() != s.attempts()) {
            problems.add(
                "record "
                    + name
                    + ": the agent says "
                    + c.phase().wireName()
                    + "/"
                    + c.attempts()
                    + " attempts, the API server "
                    + s.phase().wireName()
                    + "/"
                    + s.attempts());
          }
        }
        boolean wanted =
            expected.getOrDefault(key, List.of()).stream().anyMatch(r -> r.script().equals(script));
        if (!wanted) {
          problems.add(
              "a repair no one expected: "
                  + script
                  + " for "
                  + DemoText.drift(key)
                  + " ("
                  + s.phase().wireName()
                  + ", "
                  + s.attempts()
                  + " attempts)");
        }
      }
      for (Map.Entry<DriftKey, List<ExpectedRepair>> e : expected.entrySet()) {
        for (ExpectedRepair r : e.getValue()) {
          List<ConsistencyRepairJob> jobs =
              stored.values().stream()
                  .filter(
                      j ->
                          j.getSpec().driftKey().equals(e.getKey())
                              && j.getSpec().script().equals(r.script()))
                  .toList();
          if (jobs.isEmpty()) {
            problems.add("no " + r.script() + " record for " + DemoText.drift(e.getKey()));
            continue;
          }
          if (jobs.size() > 1) {
            problems.add(
                jobs.size()
                    + " "
                    + r.script()
                    + " records for "
                    + DemoText.drift(e.getKey())
                    + "; one expected");
          }
          RepairJobStatus s = jobs.getFirst().statusOrPending();
          if (s.phase() != r.phase()) {
            problems.add(
                r.script()
                    + " for "
                    + DemoText.drift(e.getKey())
                    + " ended "
                    + s.phase().wireName()
                    + ", expected "
                    + r.phase().wireName()
                    + (s.reason() == null ? "" : " (" + s.reason() + ")"));
          }
          if (s.attempts() != r.attempts()) {
            problems.add(
                r.script()
                    + " for "
                    + DemoText.drift(e.getKey())
                    + " ran "
                    + s.attempts()
                    + " attempts, expected "
                    + r.attempts());
          }
          if (r.phase() == Phase.SUCCEEDED && s.verification() != Verification.RESOLVED) {
            problems.add(
                r.script()
                    + " for "
                    + DemoText.drift(e.getKey())
                    + " was verified "
                    + (s.verification() == null ? "never" : s.verification().wireName())
                    + ", expected Resolved");
          }
        }
      }
      return new ScenarioResult(
          scenario.name(),
          scenario.title(),
          scenario.expectation(),
          Duration.between(start, clock.instant()),
          List.copyOf(new TreeSet<>(expected.keySet())),
          List.copyOf(new TreeSet<>(confirmed)),
          repairs,
          facts,
          problems);
    }
  }

  private static String describe(Set<DriftKey> keys) {
    if (keys.isEmpty()) {
      return "nothing";
    }
    if (keys.size() > 3) {
      return keys.size() + " drifts";
    }
    return String.join(", ", keys.stream().map(DemoText::drift).toList());
  }
}
