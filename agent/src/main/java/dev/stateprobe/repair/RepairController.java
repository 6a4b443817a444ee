package dev.stateprobe.repair;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.RepairMode;
import dev.stateprobe.decode.PodIdentity;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.drift.Transition;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.catalog.Catalog;
import dev.stateprobe.repair.catalog.CatalogEntry;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.repair.exec.ScriptInvocation;
import dev.stateprobe.repair.exec.ScriptOutcome;
import dev.stateprobe.repair.exec.ScriptResult;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobStore;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.PlannerFacts;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.repair.planner.CircuitBreaker;
import dev.stateprobe.repair.planner.Decision;
import dev.stateprobe.repair.planner.Limits;
import dev.stateprobe.repair.planner.PlanInput;
import dev.stateprobe.repair.planner.PlanMode;
import dev.stateprobe.repair.planner.RepairHistory;
import dev.stateprobe.repair.planner.RepairOption;
import dev.stateprobe.repair.planner.RepairPlanner;
import dev.stateprobe.repair.planner.ScriptHistory;
import dev.stateprobe.repair.planner.ScriptKey;
import dev.stateprobe.repair.planner.Throttle;
import dev.stateprobe.report.Logfmt;
import dev.stateprobe.report.Reports;
import dev.stateprobe.view.PodRef;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the order of a repair (ARCHITECTURE.md, "Order of a repair") for this node: breaker,
 * planner, record, pause check, revalidation, script, outcome, verification.
 *
 * <p>Threading: {@link #onCycle} and every continuation that touches the fields below run on the
 * agent's Vert.x context (futures from the worker pool, and script results, complete back on it),
 * so the state needs no locks. Blocking API calls run on the worker pool, scripts on their own
 * threads (below).
 *
 * <p>Verification (settled here): after a script exits 0, each trusted cycle is looked at; the
 * drift absent from two trusted cycles in a row is {@code Resolved}; six trusted cycles without
 * that is {@code Unresolved}, which the planner treats as a failed attempt (back-off, then the next
 * matching entry once {@code maxAttempts} is used). Untrusted cycles do not count either way. A dry
 * run changed nothing on purpose: its verification stays {@code Pending} and it never escalates.
 * While a repair runs or waits for its verdict, its drift is not planned again. A drift held back
 * by {@code MAX_CONCURRENT_REPAIRS} starts when a slot frees, not at the next cycle: the end of a
 * repair plans again from the last trusted cycle (the planner stays a pure function of its input).
 *
 * <p>Memory: this node's records, cached after each write. They are the only history: a restarted
 * agent reads them back and plans from the same facts ({@link PlannerFacts}), and picks up the
 * verification of a success that was still Pending.
 *
 * <p>Scripts run on threads of their own ({@code state-probe-script-N}), never on the worker pool:
 * a script may hold its thread for its whole timeout, and the worker pool (two threads) carries
 * every API call of the agent; scripts on it would stall status writes, events, pause reads and
 * revalidation while they run, and would cap the real concurrency at the pool's size whatever
 * {@code MAX_CONCURRENT_REPAIRS} says. The planner bounds how many run at once.
 *
 * <p>Shutdown ({@link #close}): running scripts are interrupted (the executor ends their process
 * trees) and nothing is written afterwards; a record left Running is marked interrupted by the next
 * agent's {@link #start}, as after a crash.
 */
public final class RepairController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");
  public static final String PAUSE_ANNOTATION = "stateprobe.dev/paused";

  /** Trusted cycles in a row without the drift that make a success Resolved. */
  static final int VERIFY_CYCLES = 2;

  /** After this many trusted cycles without two clean ones in a row, a success is Unresolved. */
  static final int VERIFY_MAX_CYCLES = 6;

  private static final Duration GC_EVERY = Duration.ofHours(1);

  /** The longest wait before a person's approval or lifted pause is noticed. */
  static final Duration MAX_REFRESH = Duration.ofSeconds(30);

  private final AgentConfig config;
  private final KubernetesClient client;
  private final JobStore store;
  private final Supplier<Catalog> catalog;
  private final ScriptExecutor executor;
  private final EventRecorder events;
  private final Revalidator revalidator;
  private final Metrics metrics;
  private final Clock clock;
  private final WorkerExecutor worker;
  private final Reports reports;
  private final Map<String, String> scriptEnv;
  private final Duration refreshEvery;
  private final ExecutorService scripts =
      Executors.newThreadPerTaskExecutor(
          Thread.ofPlatform().name("state-probe-script-", 1).daemon(true).factory());

  /** Written on the agent's context; concurrent only so that tests and HTTP may read it. */
  private final Map<String, ConsistencyRepairJob> records = new ConcurrentHashMap<>();

  /** Targets (pod UIDs) with a repair between decision and outcome: one script at a time each. */
  private final Map<String, ScriptKey> inFlight = new HashMap<>();

  private final Map<String, Verifying> verifying = new HashMap<>();
  private final Map<DriftKey, Throttle> lastThrottle = new HashMap<>();
  private final Set<String> creatingPending = new HashSet<>();
  private final Set<DriftKey> refusedIdentities = new HashSet<>();

  /**
   * Outcomes and verdicts that the API server has not taken yet, by record: written again on each
   * trusted cycle until it does. The cache already holds them, so the planner plans from what
   * happened, not from the Running the server still shows (which would hold the target, and with
   * one concurrent repair the whole node, until a restart).
   */
  private final Map<String, RepairJobStatus> unwritten = new HashMap<>();

  private final Set<String> persisting = new HashSet<>();
  private CircuitBreaker breaker;
  private boolean started;
  private volatile boolean closed;
  private boolean paused;
  private Instant lastGc = Instant.EPOCH;
  private Instant lastApprovalRefresh = Instant.EPOCH;
  private Instant lastPauseRead = Instant.EPOCH;

  /** What the breaker counted when it last opened; null until it does. */
  private volatile CircuitReading lastOpening;

  /**
   * One step of the circuit breaker, as it counted it.
   *
   * @param drifts the drifts it counted, suspected or confirmed
   * @param confirmed of which confirmed
   * @param threshold what {@code drifts} was compared with: max(CIRCUIT_MIN, CIRCUIT_PERCENT ×
   *     pods)
   * @param nodePods the node's pods (the larger of the API server's and the kubelet's counts)
   */
  public record CircuitReading(int drifts, int confirmed, int threshold, int nodePods) {
    /** {@code 12 drifts (suspected or confirmed) > threshold 8}. */
    public String summary() {
      return drifts + " drifts (suspected or confirmed) > threshold " + threshold;
    }
  }

  /** The last trusted cycle planned from: a freed slot is planned again from it at once. */
  private CycleResult lastPlanned;

  /** The last plan held a drift back for want of a slot. */
  private boolean heldForSlot;

  /**
   * Drifts whose attempt ended since the last cycle: a re-plan between cycles does not start them
   * again (a failure waits for its back-off, a skip for the next cycle's evidence), which also
   * bounds the re-plans to one per drift and cycle whatever goes wrong.
   */
  private final Set<DriftKey> endedSinceCycle = new HashSet<>();

  /**
   * A success waiting for its verdict. {@code writing}: the verdict is drawn and being written;
   * until the write is done the drift stays out of planning, so that the cached Pending record is
   * not mistaken for a fresh success (cooldown) or the verdict for a new one.
   */
  private record Verifying(ScriptKey key, int clean, int seen, boolean writing) {}

  public RepairController(
      AgentConfig config,
      KubernetesClient client,
      JobStore store,
      Supplier<Catalog> catalog,
      ScriptExecutor executor,
      EventRecorder events,
      Revalidator revalidator,
      Metrics metrics,
      Clock clock,
      WorkerExecutor worker,
      Reports reports,
      Map<String, String> scriptEnv) {
    this.config = config;
    this.client = client;
    this.store = store;
    this.catalog = catalog;
    this.executor = executor;
    this.events = events;
    this.revalidator = revalidator;
    this.metrics = metrics;
    this.clock = clock;
    this.worker = worker;
    this.reports = reports;
    this.scriptEnv = Map.copyOf(scriptEnv);
    this.refreshEvery = refreshEvery(config.pollInterval());
    AgentConfig.Repair r = config.repair();
    this.breaker = CircuitBreaker.closed(r.circuitMin(), r.circuitPercent(), r.circuitRecovery());
  }

  /**
   * Restart safety first: records left Running by a previous process become Failed ("interrupted",
   * counted), then this node's records are read back. Until this completes no repair starts. Must
   * be called on the agent's context.
   */
  public Future<Void> start() {
    return store
        .markInterrupted()
        .compose(
            changed -> {
              changed.forEach(this::tellInterrupted);
              return store.listForNode();
            })
        .map(
            list -> {
              list.forEach(this::remember);
              list.forEach(this::resumeVerification);
              started = !closed;
              LOG.info(
                  "event=repair_ready records={} mode={}",
                  records.size(),
                  config.repair().mode().value());
              return (Void) null;
            })
        .onFailure(
            e -> LOG.error("event=repair_start_failed error=\"{}\"", Logfmt.escaped(e.toString())));
  }

  /** The pod's people learn that an attempt was cut off, as they learn of any failed attempt. */
  private void tellInterrupted(ConsistencyRepairJob job) {
    RepairJobSpec spec = job.getSpec();
    events.pod(
        spec.drift().target().toPodRef(),
        EventRecorder.Type.WARNING,
        "RepairFailed",
        "Repair",
        spec.script()
            + " attempt "
            + job.statusOrPending().attempts()
            + ": "
            + RepairJobStatus.INTERRUPTED
            + " (the agent stopped while it ran); counted, not resumed");
  }

  /**
   * How often a person's change is read back while the agent waits for it (an approval, the end of
   * a pause): six poll intervals, at most {@link #MAX_REFRESH}, at least one poll interval.
   */
  static Duration refreshEvery(Duration pollInterval) {
    Duration six = pollInterval.multipliedBy(6);
    Duration capped = six.compareTo(MAX_REFRESH) > 0 ? MAX_REFRESH : six;
    return pollInterval.compareTo(capped) > 0 ? pollInterval : capped;
  }

  /**
   * A success whose verdict a previous agent did not write is verified again from here: two clean
   * trusted cycles or six without, as if it had just finished. A dry run changed nothing and stays
   * Pending.
   */
  private void resumeVerification(ConsistencyRepairJob job) {
    RepairJobStatus s = job.getStatus();
    if (s != null
        && s.phase() == Phase.SUCCEEDED
        && s.verification() == Verification.PENDING
        && !job.getSpec().dryRun()) {
      verifying.put(
          job.name(),
          new Verifying(
              new ScriptKey(job.getSpec().driftKey(), job.getSpec().script()), 0, 0, false));
      LOG.info("event=verification_resumed record={}", job.name());
    }
  }

  /** One agent cycle: breaker, verification, planning. Runs on the agent's context. */
  public void onCycle(CycleResult cycle) {
    Instant now = cycle.snapshot().now();
    for (Transition t : cycle.transitions()) {
      if (t.type() == Transition.Type.CONFIRMED && !closed) {
        TrackedDrift d = t.drift();
        events.pod(
            d.drift().target(),
            EventRecorder.Type.WARNING,
            "DriftConfirmed",
            "Detect",
            d.drift().kind().wireName() + ": " + d.drift().detail());
      }
    }
    if (closed || !started || !cycle.trusted()) {
      // An untrusted cycle is no evidence either way: no breaker step, no verdict, no repair.
      return;
    }
    stepBreaker(cycle, now);
    writeUnwritten();
    verify(cycle, now);
    retireStaleApprovals(cycle, now);
    refreshApprovals(now);
    refreshPause(now);
    collectGarbage(now);
    if (config.repair().mode() == RepairMode.OFF) {
      return;
    }
    lastPlanned = cycle;
    endedSinceCycle.clear();
    plan(cycle, now);
  }

  /**
   * A repair ended (its outcome written, or its attempt given up): the slot it held under {@code
   * MAX_CONCURRENT_REPAIRS} is free now, so what the last cycle held back for it starts now rather
   * than a poll interval later. Planned from the last trusted cycle's drifts, at the current time;
   * a drift that went away since is caught by the fresh reads before any script runs (Skipped).
   */
  private void slotFreed(DriftKey ended) {
    endedSinceCycle.add(ended);
    if (!heldForSlot
        || closed
        || !started
        || lastPlanned == null
        || config.repair().mode() == RepairMode.OFF) {
      return;
    }
    LOG.info(
        "event=repair_replanned_on_slot cycle={} ended={}",
        lastPlanned.cycle(),
        ended.kind().wireName());
    plan(lastPlanned, clock.instant());
  }

  /**
   * The breaker counts every drift the tracker holds, suspected ones too, not only confirmed ones
   * as ARCHITECTURE.md first said: a kubelet whose list shrinks over a few polls confirms its first
   * drifts a cycle before the rest are even suspected, and those first few would be repaired before
   * a confirmed-only count ever crossed the threshold (seen in the demo's half-the-pods scenario).
   * A flood of suspicions is already evidence that the views are wrong.
   */
  private void stepBreaker(CycleResult cycle, Instant now) {
    int drifts = cycle.drifts().size();
    int pods =
        Math.max(
            cycle.snapshot().controlPlane().size(),
            cycle.snapshot().kubelet().map(k -> k.size()).orElse(0));
    CircuitBreaker.Step step = breaker.step(drifts, pods, now);
    breaker = step.state();
    metrics.circuit(breaker.open(), drifts, step.threshold());
    switch (step.transition()) {
      case OPENED -> {
        lastOpening = new CircuitReading(drifts, cycle.confirmed().size(), step.threshold(), pods);
        LOG.warn(
            "event=circuit_open cycle={} drifts={} confirmed={} threshold={} nodePods={}",
            cycle.cycle(),
            drifts,
            cycle.confirmed().size(),
            step.threshold(),
            pods);
        events.node(
            EventRecorder.Type.WARNING,
            "CircuitOpen",
            "Repair",
            drifts
                + " drifts ("
                + cycle.confirmed().size()
                + " confirmed) exceed the threshold of "
                + step.threshold()
                + ": the views are more likely wrong than the pods; no repairs until it stays under"
                + " it for "
                + config.repair().circuitRecovery());
      }
      case CLOSED ->
          LOG.info(
              "event=circuit_closed cycle={} drifts={} threshold={}",
              cycle.cycle(),
              drifts,
              step.threshold());
      case NONE -> {}
    }
  }

  private void verify(CycleResult cycle, Instant now) {
    Set<DriftKey> present = new HashSet<>();
    cycle.drifts().forEach(d -> present.add(d.key()));
    for (Map.Entry<String, Verifying> e : new ArrayList<>(verifying.entrySet())) {
      Verifying v = e.getValue();
      if (v.writing()) {
        continue;
      }
      boolean gone = !present.contains(v.key().drift());
      Verifying next = new Verifying(v.key(), gone ? v.clean() + 1 : 0, v.seen() + 1, false);
      Verification verdict =
          next.clean() >= VERIFY_CYCLES
              ? Verification.RESOLVED
              : next.seen() >= VERIFY_MAX_CYCLES ? Verification.UNRESOLVED : null;
      if (verdict == null) {
        verifying.put(e.getKey(), next);
        continue;
      }
      ConsistencyRepairJob job = records.get(e.getKey());
      if (job == null) {
        verifying.remove(e.getKey());
        continue;
      }
      verifying.put(e.getKey(), new Verifying(v.key(), next.clean(), next.seen(), true));
      persist(job, job.statusOrPending().verify(verdict, now))
          .onComplete(ar -> verifying.remove(e.getKey()));
      String script = job.getSpec().script();
      metrics.repair(script, verdict == Verification.RESOLVED ? "resolved" : "unresolved");
      LOG.info(
          "event=repair_verified cycle={} record={} verification={} kind={} uid={}",
          cycle.cycle(),
          e.getKey(),
          verdict.wireName(),
          v.key().drift().kind().wireName(),
          Logfmt.value(v.key().drift().target().uid()));
      if (verdict == Verification.UNRESOLVED) {
        events.pod(
            v.key().drift().target(),
            EventRecorder.Type.WARNING,
            "RepairFailed",
            "Verify",
            script + " succeeded but the drift still held afterwards: escalating");
      }
    }
  }

  private void plan(CycleResult cycle, Instant now) {
    Catalog cat = catalog.get();
    // A drift whose repair runs or waits for its verdict is being handled: asking the planner
    // about it would count a throttle (target busy, cooldown) for what is no hold at all, and with
    // cooldownSeconds 0 start the next attempt before the verdict of the last one.
    Set<DriftKey> handled = new HashSet<>();
    inFlight.values().forEach(k -> handled.add(k.drift()));
    verifying.values().forEach(v -> handled.add(v.key().drift()));
    handled.addAll(endedSinceCycle);
    List<TrackedDrift> confirmed =
        cycle.confirmed().stream().filter(d -> !handled.contains(d.key())).toList();
    Map<DriftKey, List<RepairOption>> options = new HashMap<>();
    for (TrackedDrift d : confirmed) {
      List<RepairOption> list = new ArrayList<>();
      for (CatalogEntry e : cat.matching(d.drift().kind(), d.drift().target().namespace())) {
        list.add(option(e));
      }
      options.put(d.key(), list);
    }
    PlanInput input =
        new PlanInput(
            confirmed,
            options,
            planMode(config.repair().mode()),
            paused,
            breaker.open(),
            new Limits(config.repair().maxConcurrent(), config.repair().maxPerHour()),
            history(),
            PlannerFacts.approvals(List.copyOf(records.values())),
            now);
    heldForSlot = false;
    for (Decision d : RepairPlanner.plan(input)) {
      heldForSlot |= d.throttle().orElse(null) == Throttle.CONCURRENCY;
      countThrottle(d);
      boolean writes =
          d.action() == Decision.Action.START
              || d.action() == Decision.Action.CREATE_PENDING_APPROVAL;
      if (writes && !validIdentity(d.key())) {
        continue;
      }
      switch (d.action()) {
        case START -> launch(d, cat, apiResourceVersion(cycle, d));
        case CREATE_PENDING_APPROVAL -> createPendingApproval(d);
        case WAIT, NONE -> {}
      }
    }
    lastThrottle.keySet().retainAll(options.keySet());
    refusedIdentities.retainAll(options.keySet());
  }

  /** The target's resourceVersion in the API view the drift was confirmed from, if it has one. */
  private static PlanMode planMode(RepairMode mode) {
    return switch (mode) {
      case ON -> PlanMode.ON;
      case DRY_RUN -> PlanMode.DRY_RUN;
      case OFF -> PlanMode.OFF;
    };
  }

  private static Optional<String> apiResourceVersion(CycleResult cycle, Decision d) {
    return Optional.ofNullable(
            cycle.snapshot().controlPlane().podsByUid().get(d.key().target().uid()))
        .map(p -> p.resourceVersion());
  }

  private static RepairOption option(CatalogEntry e) {
    RepairOption.Mode mode =
        switch (e.mode()) {
          case AUTO -> RepairOption.Mode.AUTO;
          case MANUAL -> RepairOption.Mode.MANUAL;
          case DRY_RUN -> RepairOption.Mode.DRY_RUN;
        };
    return new RepairOption(e.name(), mode, e.maxAttempts(), e.cooldown());
  }

  /** The records' history, plus the repairs between decision and first write. */
  private RepairHistory history() {
    RepairHistory h = PlannerFacts.history(List.copyOf(records.values()));
    if (inFlight.isEmpty()) {
      return h;
    }
    Map<ScriptKey, ScriptHistory> scripts = new HashMap<>(h.scripts());
    int running = h.running();
    for (ScriptKey k : inFlight.values()) {
      ScriptHistory prior = scripts.getOrDefault(k, ScriptHistory.NONE);
      if (!prior.running()) {
        scripts.put(k, ScriptHistory.running(prior.attempts(), clock.instant()));
        running++;
      }
    }
    return new RepairHistory(scripts, h.starts(), running);
  }

  /** Counts a held-back drift once per change of reason, not once per cycle. */
  private void countThrottle(Decision d) {
    Throttle t = d.throttle().orElse(null);
    Throttle before = t == null ? lastThrottle.remove(d.key()) : lastThrottle.put(d.key(), t);
    if (t != null && t != before) {
      metrics.throttled(t.tag());
      LOG.info(
          "event=repair_held kind={} uid={} reason={} detail=\"{}\"",
          d.key().kind().wireName(),
          Logfmt.value(d.key().target().uid()),
          t.tag(),
          Logfmt.escaped(d.reason()));
    }
  }

  /**
   * Whether the drift's pod can be named in a record, a URL and a script. The kubelet's entries are
   * validated when read; this catches what came another way (an API server that did not validate).
   * A name that cannot go into a URL made a record whose revalidation failed, and the next cycle
   * adopted that record and failed again, for good: refused here, before any record, once logged.
   */
  private boolean validIdentity(DriftKey key) {
    PodRef t = key.target();
    Optional<PodIdentity.Field> bad = PodIdentity.invalid(t.namespace(), t.name(), t.uid());
    if (bad.isEmpty()) {
      return true;
    }
    if (refusedIdentities.add(key)) {
      LOG.warn(
          "event=repair_refused kind={} uid={} reason=invalid_identity field={} value={}",
          key.kind().wireName(),
          Logfmt.value(Logfmt.shortened(t.uid())),
          bad.get().tag(),
          Logfmt.quoted(
              Logfmt.shortened(bad.get() == PodIdentity.Field.NAME ? t.name() : t.namespace())));
    }
    return false;
  }

  private void createPendingApproval(Decision d) {
    String script = d.script().orElseThrow();
    RepairJobSpec spec =
        RepairJobSpec.of(config.nodeName(), d.drift(), Optional.empty(), script, d.dryRun());
    String name = spec.jobName();
    if (records.containsKey(name) || !creatingPending.add(name)) {
      return;
    }
    store
        .createOrAdopt(spec)
        .compose(
            created -> {
              ConsistencyRepairJob job = created.job();
              if (job.getStatus() != null) {
                return Future.succeededFuture(job);
              }
              return store.updateStatus(
                  job, RepairJobStatus.pending("awaiting approval", clock.instant()));
            })
        .onComplete(
            ar -> {
              creatingPending.remove(name);
              if (closed) {
                return;
              }
              if (ar.succeeded()) {
                remember(ar.result());
                LOG.info(
                    "event=repair_awaiting_approval record={} script={} uid={}",
                    name,
                    script,
                    Logfmt.value(d.key().target().uid()));
              } else {
                LOG.warn(
                    "event=record_write_failed record={} error=\"{}\"",
                    name,
                    Logfmt.escaped(ar.cause().toString()));
              }
            });
  }

  /** While paused, the annotation is read again now and then, so that removing it resumes. */
  private void refreshPause(Instant now) {
    if (paused && Duration.between(lastPauseRead, now).compareTo(refreshEvery) >= 0) {
      lastPauseRead = now;
      readPaused();
    }
  }

  /**
   * A record awaiting approval whose drift a trusted cycle no longer shows ends Skipped ("drift
   * gone before approval"): nobody should approve a repair of something that healed, and garbage
   * collection takes only finished records, so it would otherwise wait forever.
   */
  private void retireStaleApprovals(CycleResult cycle, Instant now) {
    Set<DriftKey> present = new HashSet<>();
    cycle.drifts().forEach(d -> present.add(d.key()));
    for (ConsistencyRepairJob job : List.copyOf(records.values())) {
      RepairJobStatus s = job.statusOrPending();
      String name = job.name();
      if (job.getSpec().approved()
          || s.phase() != Phase.PENDING
          || job.getStatus() == null
          || present.contains(job.getSpec().driftKey())
          || persisting.contains(name)
          || creatingPending.contains(name)
          || inFlight.containsKey(job.getSpec().driftKey().target().uid())) {
        continue;
      }
      LOG.info("event=approval_retired record={} reason=\"drift gone before approval\"", name);
      metrics.repair(job.getSpec().script(), "skipped");
      persist(job, s.finish(Phase.SKIPPED, null, "", "drift gone before approval", now));
    }
  }

  private void refreshApprovals(Instant now) {
    if (Duration.between(lastApprovalRefresh, now).compareTo(refreshEvery) < 0) {
      return;
    }
    List<String> waiting =
        records.values().stream()
            .filter(j -> !j.getSpec().approved() && j.statusOrPending().phase() == Phase.PENDING)
            .map(ConsistencyRepairJob::name)
            .toList();
    if (waiting.isEmpty()) {
      return;
    }
    lastApprovalRefresh = now;
    for (String name : waiting) {
      store
          .get(name)
          .onSuccess(
              found -> {
                if (closed) {
                  return;
                }
                found.ifPresentOrElse(
                    this::remember,
                    () -> {
                      records.remove(name);
                      publishCounts();
                    });
              });
    }
  }

  private void collectGarbage(Instant now) {
    if (Duration.between(lastGc, now).compareTo(GC_EVERY) < 0) {
      return;
    }
    lastGc = now;
    store
        .collectGarbage(now, config.repair().jobTtl(), config.repair().maxJobsPerNode())
        .onSuccess(
            deleted -> {
              if (closed) {
                return;
              }
              deleted.forEach(records::remove);
              if (!deleted.isEmpty()) {
                LOG.info("event=records_collected count={}", deleted.size());
              }
              publishCounts();
            })
        .onFailure(e -> LOG.warn("event=gc_failed error=\"{}\"", Logfmt.escaped(e.toString())));
  }

  /**
   * START: pause check, record, revalidation, script, outcome, in the order of ARCHITECTURE.md
   * ("Order of a repair"). The record is created (or adopted) before the fresh reads, so that the
   * fresh reads are the last thing between the decision and the script: the gap in which the drift
   * could go away by itself is two API writes shorter than the other way round. Each step is a
   * future completing on the agent's context; any failure ends the attempt where it is and leaves
   * the record as last written (a Running one is marked interrupted at the next start).
   */
  private void launch(Decision d, Catalog cat, Optional<String> apiResourceVersion) {
    String script = d.script().orElseThrow();
    CatalogEntry entry = cat.entry(script).orElse(null);
    String uid = d.key().target().uid();
    if (entry == null || inFlight.containsKey(uid)) {
      return;
    }
    ScriptKey key = new ScriptKey(d.key(), script);
    inFlight.put(uid, key);
    TrackedDrift drift = d.drift();
    readPaused()
        .compose(this::live)
        .compose(
            isPaused -> {
              if (isPaused) {
                // Counted here once; the planner's hold in the next cycles has the same reason.
                metrics.throttled(Throttle.PAUSED.tag());
                lastThrottle.put(d.key(), Throttle.PAUSED);
                LOG.info("event=repair_paused uid={} script={}", Logfmt.value(uid), script);
                return Future.succeededFuture();
              }
              return record(drift, script, d, apiResourceVersion)
                  .compose(
                      rec -> rec == null ? Future.succeededFuture() : revalidate(rec, entry, d));
            })
        .onComplete(
            ar -> {
              inFlight.remove(uid);
              slotFreed(d.key());
              if (ar.failed()) {
                if (closed) {
                  LOG.info(
                      "event=repair_abandoned uid={} script={} reason=\"agent stopping\"",
                      Logfmt.value(uid),
                      script);
                } else {
                  LOG.warn(
                      "event=repair_aborted uid={} script={} error=\"{}\"",
                      Logfmt.value(uid),
                      script,
                      Logfmt.escaped(ar.cause().toString()));
                }
              }
            });
  }

  /** Fails the chain once the controller is closed: nothing is written after {@link #close}. */
  private <T> Future<T> live(T value) {
    return closed
        ? Future.failedFuture(new IllegalStateException("repair controller closed"))
        : Future.succeededFuture(value);
  }

  /**
   * The record, created or adopted. Null when the adopted record shows that this decision was made
   * from stale facts (its script runs, or more attempts were made than the planner knew, as when
   * another process of this agent wrote it): it is cached now and the next cycle plans from it.
   */
  private Future<ConsistencyRepairJob> record(
      TrackedDrift drift, String script, Decision d, Optional<String> apiResourceVersion) {
    RepairJobSpec spec =
        RepairJobSpec.of(config.nodeName(), drift, apiResourceVersion, script, d.dryRun());
    return store
        .createOrAdopt(spec)
        .compose(this::live)
        .map(
            created -> {
              ConsistencyRepairJob job = created.job();
              remember(job);
              RepairJobStatus s = job.statusOrPending();
              if (created.adopted()
                  && (s.phase() == Phase.RUNNING || s.attempts() >= d.attempt())) {
                LOG.info(
                    "event=repair_replanned record={} phase={} attempts={} plannedAttempt={}",
                    job.name(),
                    s.phase().wireName(),
                    s.attempts(),
                    d.attempt());
                return null;
              }
              return job;
            });
  }

  /** Fresh reads: act only if the same drift still holds for the same UID, else Skipped. */
  private Future<Void> revalidate(ConsistencyRepairJob job, CatalogEntry entry, Decision d) {
    TrackedDrift drift = d.drift();
    String script = entry.name();
    return revalidator
        .check(d.key())
        .compose(this::live)
        .compose(
            verdict -> {
              if (verdict.stillHolds()) {
                return run(job, entry, d);
              }
              metrics.repair(script, "skipped");
              events.pod(
                  drift.drift().target(),
                  EventRecorder.Type.NORMAL,
                  "RepairSkipped",
                  "Repair",
                  script + ": " + verdict.why());
              LOG.info(
                  "event=repair_skipped record={} reason=\"{}\"",
                  Logfmt.value(job.name()),
                  Logfmt.escaped(verdict.why()));
              RepairJobStatus s = job.statusOrPending();
              if (s.phase() != Phase.PENDING) {
                return Future.succeededFuture(); // an earlier attempt's outcome stays as it is
              }
              return persist(job, s.finish(Phase.SKIPPED, null, "", verdict.why(), clock.instant()))
                  .mapEmpty();
            });
  }

  private Future<Void> run(ConsistencyRepairJob job, CatalogEntry entry, Decision d) {
    Instant startAt = clock.instant();
    RepairJobStatus running = job.statusOrPending().start(d.attempt(), d.dryRun(), startAt);
    TrackedDrift drift = d.drift();
    return store
        .updateStatus(job, running)
        .compose(this::live)
        .compose(
            started -> {
              remember(started);
              if (drift.confirmedAt() != null) {
                metrics.repairStartLatency(Duration.between(drift.confirmedAt(), startAt));
              }
              events.pod(
                  drift.drift().target(),
                  EventRecorder.Type.NORMAL,
                  "RepairStarted",
                  "Repair",
                  entry.name() + " attempt " + d.attempt() + (d.dryRun() ? " (dry run)" : ""));
              LOG.info(
                  "event=repair_started record={} script={} attempt={} dryRun={} kind={} uid={}",
                  started.name(),
                  entry.name(),
                  d.attempt(),
                  d.dryRun(),
                  drift.drift().kind().wireName(),
                  Logfmt.value(drift.drift().target().uid()));
              ScriptInvocation inv =
                  new ScriptInvocation(
                      entry.name(),
                      entry.script(),
                      entry.timeout(),
                      drift.drift().kind(),
                      config.nodeName(),
                      drift.drift().target().namespace(),
                      drift.drift().target().name(),
                      drift.drift().target().uid(),
                      started.name(),
                      d.attempt(),
                      d.dryRun(),
                      reports.scriptDrift(config.nodeName(), started.name(), drift),
                      scriptEnv);
              return runScript(inv)
                  .compose(this::live)
                  .compose(result -> finish(started, entry, d, result));
            });
  }

  /**
   * Runs the script on a thread of its own and completes on the caller's Vert.x context. {@link
   * #close} interrupts the thread; the executor then ends the script's process tree.
   */
  private Future<ScriptResult> runScript(ScriptInvocation inv) {
    Context ctx = Vertx.currentContext();
    Promise<ScriptResult> done = Promise.promise();
    try {
      scripts.execute(
          () -> {
            ScriptResult result = null;
            Throwable failure = null;
            try {
              result = executor.run(inv);
            } catch (RuntimeException | Error e) {
              failure = e;
            }
            ScriptResult r = result;
            Throwable f = failure;
            Runnable complete =
                () -> {
                  if (f == null) {
                    done.complete(r);
                  } else {
                    done.fail(f);
                  }
                };
            if (ctx == null) {
              complete.run();
            } else {
              ctx.runOnContext(v -> complete.run());
            }
          });
    } catch (RejectedExecutionException e) {
      return Future.failedFuture(new IllegalStateException("repair controller closed", e));
    }
    return done.future();
  }

  private Future<Void> finish(
      ConsistencyRepairJob job, CatalogEntry entry, Decision d, ScriptResult r) {
    Phase phase =
        switch (r.outcome()) {
          case SUCCEEDED -> Phase.SUCCEEDED;
          case NOT_APPLICABLE -> Phase.SKIPPED;
          case TIMED_OUT -> Phase.TIMED_OUT;
          case RETRYABLE_FAILURE, PERMANENT_FAILURE, FAILED, NOT_EXECUTABLE, MISSING ->
              Phase.FAILED;
        };
    RepairJobStatus s =
        job.statusOrPending().finish(phase, r.exitCode(), r.output(), r.reason(), r.finishedAt());
    metrics.repair(entry.name(), outcomeTag(r.outcome()));
    metrics.repairDuration(entry.name(), r.duration());
    TrackedDrift drift = d.drift();
    String reason =
        switch (phase) {
          case SUCCEEDED -> "RepairSucceeded";
          case SKIPPED -> "RepairSkipped";
          default -> "RepairFailed";
        };
    events.pod(
        drift.drift().target(),
        phase == Phase.SUCCEEDED || phase == Phase.SKIPPED
            ? EventRecorder.Type.NORMAL
            : EventRecorder.Type.WARNING,
        reason,
        "Repair",
        entry.name() + " attempt " + d.attempt() + ": " + r.reason());
    LOG.info(
        "event=repair_finished record={} script={} attempt={} outcome={} exitCode={} seconds={}"
            + " processesEnded={}",
        job.name(),
        entry.name(),
        d.attempt(),
        r.outcome().tag(),
        r.exitCode(),
        r.duration().toMillis() / 1000.0,
        r.processesEnded());
    return persist(job, s)
        .map(
            updated -> {
              if (phase == Phase.SUCCEEDED && !d.dryRun()) {
                // A dry run changed nothing: its verification stays Pending, never Unresolved.
                verifying.put(
                    updated.name(),
                    new Verifying(new ScriptKey(d.key(), entry.name()), 0, 0, false));
              }
              return (Void) null;
            });
  }

  /**
   * Writes a finished attempt's status (outcome, verdict, skip). When the API server refuses it,
   * the status is cached anyway and written again on the next trusted cycles ({@link
   * #writeUnwritten}); the future then succeeds with the cached record. Not for the Running write:
   * a script runs only once its record says so.
   */
  private Future<ConsistencyRepairJob> persist(ConsistencyRepairJob job, RepairJobStatus status) {
    String name = job.name();
    unwritten.put(name, status);
    persisting.add(name);
    return store
        .updateStatus(job, status)
        .compose(this::live)
        .map(
            updated -> {
              unwritten.remove(name, status);
              remember(updated);
              return updated;
            })
        .recover(
            err -> {
              if (closed) {
                return Future.failedFuture(err);
              }
              LOG.warn(
                  "event=record_write_failed record={} phase={} retry=\"next trusted cycle\""
                      + " error=\"{}\"",
                  name,
                  status.phase().wireName(),
                  Logfmt.escaped(err.toString()));
              ConsistencyRepairJob cached = job.withStatus(status);
              remember(cached);
              return Future.succeededFuture(cached);
            })
        .andThen(ar -> persisting.remove(name));
  }

  /** Statuses the API server refused before, written again (the newest one per record). */
  private void writeUnwritten() {
    for (Map.Entry<String, RepairJobStatus> e : List.copyOf(unwritten.entrySet())) {
      ConsistencyRepairJob job = records.get(e.getKey());
      if (job == null) {
        unwritten.remove(e.getKey());
      } else if (!persisting.contains(e.getKey())) {
        persist(job, e.getValue());
      }
    }
  }

  private static String outcomeTag(ScriptOutcome o) {
    return switch (o) {
      case SUCCEEDED -> "succeeded";
      case NOT_APPLICABLE -> "skipped";
      case TIMED_OUT -> "timed_out";
      case RETRYABLE_FAILURE, PERMANENT_FAILURE, FAILED, NOT_EXECUTABLE, MISSING -> "failed";
    };
  }

  /** The pause annotation, read right before a repair starts: a person's stop takes at once. */
  private Future<Boolean> readPaused() {
    return worker
        .<Boolean>executeBlocking(
            () -> {
              Node node = client.nodes().withName(config.nodeName()).get();
              return node != null
                  && node.getMetadata().getAnnotations() != null
                  && "true".equals(node.getMetadata().getAnnotations().get(PAUSE_ANNOTATION));
            },
            false)
        .map(
            p -> {
              if (p != paused) {
                LOG.info(
                    "event=repairs_{} annotation={}", p ? "paused" : "resumed", PAUSE_ANNOTATION);
              }
              paused = p;
              metrics.paused(p);
              return p;
            });
  }

  private void remember(ConsistencyRepairJob job) {
    records.put(job.name(), job);
    publishCounts();
  }

  private void publishCounts() {
    metrics.recordsByPhase(PlannerFacts.countByPhase(List.copyOf(records.values())));
  }

  /** Records as cached (tests and the demo read it). */
  public List<ConsistencyRepairJob> records() {
    return List.copyOf(records.values());
  }

  public boolean circuitOpen() {
    return breaker.open();
  }

  /** What the breaker counted when it last opened (the demo prints it; so do the log and Event). */
  public Optional<CircuitReading> lastOpening() {
    return Optional.ofNullable(lastOpening);
  }

  /**
   * Stops acting: no new repair, no write after this returns; running scripts are interrupted
   * (their process trees ended) and, off the event loop, waited for briefly.
   */
  @Override
  public void close() {
    closed = true;
    started = false;
    scripts.shutdownNow();
    if (Context.isOnVertxThread()) {
      return;
    }
    try {
      if (!scripts.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("event=scripts_still_running after=10s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
