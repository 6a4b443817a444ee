package dev.stateprobe.repair;

import dev.stateprobe.agent.CycleResult;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.RepairMode;
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
import dev.stateprobe.repair.planner.RepairHistory;
import dev.stateprobe.repair.planner.RepairOption;
import dev.stateprobe.repair.planner.RepairPlanner;
import dev.stateprobe.repair.planner.ScriptHistory;
import dev.stateprobe.repair.planner.ScriptKey;
import dev.stateprobe.repair.planner.Throttle;
import dev.stateprobe.report.Reports;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the order of a repair (ARCHITECTURE.md, "Order of a repair") for this node: breaker,
 * planner, record, pause check, revalidation, script, outcome, verification.
 *
 * <p>Threading: {@link #onCycle} and every continuation that touches the fields below run on the
 * agent's Vert.x context (futures from the worker pool complete back on it), so the state needs
 * no locks. Blocking work (fabric8, scripts) happens only on the worker pool.
 *
 * <p>Memory: this node's records, cached after each write. They are the only history: a
 * restarted agent reads them back and plans from the same facts ({@link PlannerFacts}).
 */
public final class RepairController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");
  public static final String PAUSE_ANNOTATION = "stateprobe.dev/paused";
  static final int VERIFY_CYCLES = 2;
  /** After this many trusted cycles without two clean ones in a row, a success is Unresolved. */
  static final int VERIFY_MAX_CYCLES = 6;
  private static final Duration GC_EVERY = Duration.ofHours(1);
  private static final Duration APPROVAL_REFRESH = Duration.ofSeconds(30);

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

  /** Written on the agent's context; concurrent only so that tests and HTTP may read it. */
  private final Map<String, ConsistencyRepairJob> records = new ConcurrentHashMap<>();
  /** Targets (pod UIDs) with a repair between decision and outcome: one script at a time each. */
  private final Map<String, ScriptKey> inFlight = new HashMap<>();
  private final Map<String, Verifying> verifying = new HashMap<>();
  private final Map<DriftKey, Throttle> lastThrottle = new HashMap<>();
  private final Set<String> creatingPending = new HashSet<>();
  private CircuitBreaker breaker;
  private boolean started;
  private boolean paused;
  private Instant lastGc = Instant.EPOCH;
  private Instant lastApprovalRefresh = Instant.EPOCH;
  private Instant lastPauseRead = Instant.EPOCH;

  /** A success waiting for its verdict. */
  private record Verifying(ScriptKey key, int clean, int seen) {}

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
    AgentConfig.Repair r = config.repair();
    this.breaker = CircuitBreaker.closed(r.circuitMin(), r.circuitPercent(), r.circuitRecovery());
  }

  /**
   * Restart safety first: records left Running by a previous process become Failed
   * ("interrupted", counted), then this node's records are read back. Until this completes no
   * repair starts. Must be called on the agent's context.
   */
  public Future<Void> start() {
    return store
        .markInterrupted()
        .compose(changed -> store.listForNode())
        .map(
            list -> {
              list.forEach(this::remember);
              started = true;
              LOG.info("event=repair_ready records={} mode={}", records.size(), config.repair().mode().value());
              return (Void) null;
            })
        .onFailure(e -> LOG.error("event=repair_start_failed error=\"{}\"", e.toString()));
  }

  /** One agent cycle: breaker, verification, planning. Runs on the agent's context. */
  public void onCycle(CycleResult cycle) {
    Instant now = cycle.snapshot().now();
    for (Transition t : cycle.transitions()) {
      if (t.type() == Transition.Type.CONFIRMED) {
        TrackedDrift d = t.drift();
        events.pod(
            d.drift().target(), EventRecorder.Type.WARNING, "DriftConfirmed", "Detect", d.drift().kind().wireName() + ": " + d.drift().detail());
      }
    }
    if (!started || !cycle.trusted()) {
      // An untrusted cycle is no evidence either way: no breaker step, no verdict, no repair.
      return;
    }
    stepBreaker(cycle, now);
    verify(cycle, now);
    refreshApprovals(now);
    refreshPause(now);
    collectGarbage(now);
    if (config.repair().mode() == RepairMode.OFF) {
      return;
    }
    plan(cycle, now);
  }

  private void stepBreaker(CycleResult cycle, Instant now) {
    int confirmed = cycle.confirmed().size();
    int pods =
        Math.max(
            cycle.snapshot().controlPlane().size(),
            cycle.snapshot().kubelet().map(k -> k.size()).orElse(0));
    CircuitBreaker.Step step = breaker.step(confirmed, pods, now);
    breaker = step.state();
    metrics.circuitOpen(breaker.open());
    switch (step.transition()) {
      case OPENED -> {
        LOG.warn(
            "event=circuit_open cycle={} confirmed={} threshold={} nodePods={}",
            cycle.cycle(), confirmed, step.threshold(), pods);
        events.node(
            EventRecorder.Type.WARNING,
            "CircuitOpen",
            "Repair",
            confirmed + " confirmed drifts exceed the threshold of " + step.threshold()
                + ": the views are more likely wrong than the pods; no repairs until it stays under it for "
                + config.repair().circuitRecovery());
      }
      case CLOSED -> LOG.info("event=circuit_closed cycle={} confirmed={} threshold={}", cycle.cycle(), confirmed, step.threshold());
      case NONE -> {}
    }
  }

  private void verify(CycleResult cycle, Instant now) {
    Set<DriftKey> present = new HashSet<>();
    cycle.drifts().forEach(d -> present.add(d.key()));
    for (Map.Entry<String, Verifying> e : new ArrayList<>(verifying.entrySet())) {
      Verifying v = e.getValue();
      boolean gone = !present.contains(v.key().drift());
      Verifying next = new Verifying(v.key(), gone ? v.clean() + 1 : 0, v.seen() + 1);
      Verification verdict =
          next.clean() >= VERIFY_CYCLES
              ? Verification.RESOLVED
              : next.seen() >= VERIFY_MAX_CYCLES ? Verification.UNRESOLVED : null;
      if (verdict == null) {
        verifying.put(e.getKey(), next);
        continue;
      }
      verifying.remove(e.getKey());
      ConsistencyRepairJob job = records.get(e.getKey());
      if (job == null) {
        continue;
      }
      store
          .updateStatus(job, job.statusOrPending().verify(verdict, now))
          .onSuccess(this::remember)
          .onFailure(err -> LOG.warn("event=verify_write_failed record={} error=\"{}\"", e.getKey(), err.toString()));
      String script = job.getSpec().script();
      metrics.repair(script, verdict == Verification.RESOLVED ? "resolved" : "unresolved");
      LOG.info(
          "event=repair_verified cycle={} record={} verification={} kind={} uid={}",
          cycle.cycle(), e.getKey(), verdict.wireName(), v.key().drift().kind().wireName(), v.key().drift().target().uid());
      if (verdict == Verification.UNRESOLVED) {
        events.pod(
            v.key().drift().target(), EventRecorder.Type.WARNING, "RepairFailed", "Verify",
            script + " succeeded but the drift still held afterwards: escalating");
      }
    }
  }

  private void plan(CycleResult cycle, Instant now) {
    Catalog cat = catalog.get();
    List<TrackedDrift> confirmed = cycle.confirmed();
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
            config.repair().mode(),
            paused,
            breaker.open(),
            new Limits(config.repair().maxConcurrent(), config.repair().maxPerHour()),
            history(),
            PlannerFacts.approvals(List.copyOf(records.values())),
            now);
    for (Decision d : RepairPlanner.plan(input)) {
      countThrottle(d);
      switch (d.action()) {
        case START -> launch(d, cat);
        case CREATE_PENDING_APPROVAL -> createPendingApproval(d);
        case WAIT, NONE -> {}
      }
    }
    lastThrottle.keySet().retainAll(options.keySet());
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
          d.key().kind().wireName(), d.key().target().uid(), t.tag(), d.reason());
    }
  }

  private void createPendingApproval(Decision d) {
    String script = d.script().orElseThrow();
    RepairJobSpec spec = RepairJobSpec.of(config.nodeName(), d.drift(), Optional.empty(), script, d.dryRun());
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
              return store.updateStatus(job, RepairJobStatus.pending("awaiting approval", clock.instant()));
            })
        .onComplete(
            ar -> {
              creatingPending.remove(name);
              if (ar.succeeded()) {
                remember(ar.result());
                LOG.info("event=repair_awaiting_approval record={} script={} uid={}", name, script, d.key().target().uid());
              } else {
                LOG.warn("event=record_write_failed record={} error=\"{}\"", name, ar.cause().toString());
              }
            });
  }

  /** While paused, the annotation is read again now and then, so that removing it resumes. */
  private void refreshPause(Instant now) {
    if (paused && Duration.between(lastPauseRead, now).compareTo(APPROVAL_REFRESH) >= 0) {
      lastPauseRead = now;
      readPaused();
    }
  }

  private void refreshApprovals(Instant now) {
    if (Duration.between(lastApprovalRefresh, now).compareTo(APPROVAL_REFRESH) < 0) {
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
              found ->
                  found.ifPresentOrElse(
                      this::remember,
                      () -> {
                        records.remove(name);
                        publishCounts();
                      }));
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
              deleted.forEach(records::remove);
              if (!deleted.isEmpty()) {
                LOG.info("event=records_collected count={}", deleted.size());
              }
              publishCounts();
            })
        .onFailure(e -> LOG.warn("event=gc_failed error=\"{}\"", e.toString()));
  }

  /**
   * START: pause check, record, revalidation, script, outcome. Each step is a future completing
   * on the agent's context; any failure ends the attempt where it is and leaves the record as
   * last written (a Running one is marked interrupted at the next start).
   */
  private void launch(Decision d, Catalog cat) {
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
        .compose(
            isPaused -> {
              if (isPaused) {
                metrics.throttled(Throttle.PAUSED.tag());
                LOG.info("event=repair_paused uid={} script={}", uid, script);
                return Future.succeededFuture();
              }
              return revalidator
                  .check(d.key())
                  .compose(verdict -> record(drift, script, d.dryRun(), verdict))
                  .compose(rec -> rec == null ? Future.succeededFuture() : run(rec, entry, d));
            })
        .onComplete(
            ar -> {
              inFlight.remove(uid);
              if (ar.failed()) {
                LOG.warn("event=repair_aborted uid={} script={} error=\"{}\"", uid, script, ar.cause().toString());
              }
            });
  }

  /** The record: created or adopted; Skipped at once if the drift did not hold. */
  private Future<ConsistencyRepairJob> record(
      TrackedDrift drift, String script, boolean dryRun, Revalidator.Verdict verdict) {
    RepairJobSpec spec =
        RepairJobSpec.of(config.nodeName(), drift, verdict.apiResourceVersion(), script, dryRun);
    return store
        .createOrAdopt(spec)
        .compose(
            created -> {
              ConsistencyRepairJob job = created.job();
              remember(job);
              if (verdict.stillHolds()) {
                return Future.succeededFuture(job);
              }
              metrics.repair(script, "skipped");
              events.pod(drift.drift().target(), EventRecorder.Type.NORMAL, "RepairSkipped", "Repair", script + ": " + verdict.why());
              LOG.info("event=repair_skipped record={} reason=\"{}\"", job.name(), verdict.why());
              RepairJobStatus s = job.statusOrPending();
              if (s.phase() != Phase.PENDING) {
                return Future.succeededFuture(null); // an earlier attempt's outcome stays as it is
              }
              return store
                  .updateStatus(job, s.finish(Phase.SKIPPED, null, "", verdict.why(), clock.instant()))
                  .map(
                      updated -> {
                        remember(updated);
                        return (ConsistencyRepairJob) null;
                      });
            });
  }

  private Future<Void> run(ConsistencyRepairJob job, CatalogEntry entry, Decision d) {
    Instant startAt = clock.instant();
    RepairJobStatus running = job.statusOrPending().start(d.attempt(), d.dryRun(), startAt);
    TrackedDrift drift = d.drift();
    return store
        .updateStatus(job, running)
        .compose(
            started -> {
              remember(started);
              if (drift.confirmedAt() != null) {
                metrics.repairStartLatency(Duration.between(drift.confirmedAt(), startAt));
              }
              events.pod(
                  drift.drift().target(), EventRecorder.Type.NORMAL, "RepairStarted", "Repair",
                  entry.name() + " attempt " + d.attempt() + (d.dryRun() ? " (dry run)" : ""));
              LOG.info(
                  "event=repair_started record={} script={} attempt={} dryRun={} kind={} uid={}",
                  started.name(), entry.name(), d.attempt(), d.dryRun(), drift.drift().kind().wireName(), drift.drift().target().uid());
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
              return worker
                  .executeBlocking(() -> executor.run(inv), false)
                  .compose(result -> finish(started, entry, d, result));
            });
  }

  private Future<Void> finish(ConsistencyRepairJob job, CatalogEntry entry, Decision d, ScriptResult r) {
    Phase phase =
        switch (r.outcome()) {
          case SUCCEEDED -> Phase.SUCCEEDED;
          case NOT_APPLICABLE -> Phase.SKIPPED;
          case TIMED_OUT -> Phase.TIMED_OUT;
          case RETRYABLE_FAILURE, PERMANENT_FAILURE, FAILED, NOT_EXECUTABLE, MISSING -> Phase.FAILED;
        };
    RepairJobStatus s = job.statusOrPending().finish(phase, r.exitCode(), r.output(), r.reason(), r.finishedAt());
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
        phase == Phase.SUCCEEDED || phase == Phase.SKIPPED ? EventRecorder.Type.NORMAL : EventRecorder.Type.WARNING,
        reason,
        "Repair",
        entry.name() + " attempt " + d.attempt() + ": " + r.reason());
    LOG.info(
        "event=repair_finished record={} script={} attempt={} outcome={} exitCode={} seconds={}",
        job.name(), entry.name(), d.attempt(), r.outcome().tag(), r.exitCode(), r.duration().toMillis() / 1000.0);
    return store
        .updateStatus(job, s)
        .map(
            updated -> {
              remember(updated);
              if (phase == Phase.SUCCEEDED && !d.dryRun()) {
                // A dry run changed nothing: its verification stays Pending, never Unresolved.
                verifying.put(updated.name(), new Verifying(new ScriptKey(d.key(), entry.name()), 0, 0));
              }
              return (Void) null;
            });
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
                LOG.info("event=repairs_{} annotation={}", p ? "paused" : "resumed", PAUSE_ANNOTATION);
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

  @Override
  public void close() {
    started = false;
  }
}
