package dev.stateprobe.repair;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.budget.RepairBudget;
import dev.stateprobe.repair.budget.SlotDecision;
import dev.stateprobe.repair.catalog.Catalog;
import dev.stateprobe.repair.catalog.CatalogEntry;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.repair.exec.ScriptInvocation;
import dev.stateprobe.repair.exec.ScriptOutcome;
import dev.stateprobe.repair.exec.ScriptResult;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobStore;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.planner.Decision;
import dev.stateprobe.repair.planner.ScriptKey;
import dev.stateprobe.repair.planner.Throttle;
import dev.stateprobe.report.Logfmt;
import dev.stateprobe.report.Reports;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt of a repair, from a START decision to its written outcome: pause check, record,
 * revalidation, script, outcome. Holds the repairs between decision and outcome (one script at a
 * time per pod) and the threads the scripts run on.
 *
 * <p>Scripts run on threads of their own ({@code state-probe-script-N}), never on the worker pool:
 * a script may hold its thread for its whole timeout, and the worker pool (two threads) carries
 * every API call of the agent; scripts on it would stall status writes, events, pause reads and
 * revalidation while they run, and would cap the real concurrency at the pool's size whatever
 * {@code MAX_CONCURRENT_REPAIRS} says. The planner bounds how many run at once.
 *
 * <p>Threading: every continuation runs on the agent's Vert.x context (futures from the worker
 * pool, and script results, complete back on it), so the state needs no locks.
 */
final class AttemptRunner {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final AgentConfig config;
  private final RecordCache cache;
  private final JobStore store;
  private final PauseSwitch pause;
  private final Verifications verifications;
  private final Revalidator revalidator;
  private final ScriptExecutor executor;
  private final EventRecorder events;
  private final Metrics metrics;
  private final Clock clock;
  private final Reports reports;
  private final Map<String, String> scriptEnv;
  private final Consumer<DriftKey> onPaused;
  private final Consumer<DriftKey> onEnded;
  private final RepairBudget budget;
  private final ExecutorService scripts =
      Executors.newThreadPerTaskExecutor(
          Thread.ofPlatform().name("state-probe-script-", 1).daemon(true).factory());

  /** Targets (pod UIDs) with a repair between decision and outcome: one script at a time each. */
  private final Map<String, ScriptKey> inFlight = new HashMap<>();

  /**
   * @param onPaused a START found the node paused (counted here, once)
   * @param onEnded an attempt ended, however: its slot is free
   */
  AttemptRunner(
      RepairParts parts,
      RecordCache cache,
      PauseSwitch pause,
      Verifications verifications,
      Consumer<DriftKey> onPaused,
      Consumer<DriftKey> onEnded) {
    this.config = parts.config();
    this.cache = cache;
    this.store = cache.store();
    this.pause = pause;
    this.verifications = verifications;
    this.revalidator = parts.revalidator();
    this.executor = parts.executor();
    this.events = parts.events();
    this.metrics = parts.metrics();
    this.clock = parts.clock();
    this.reports = parts.reports();
    this.scriptEnv = Map.copyOf(parts.scriptEnv());
    this.onPaused = onPaused;
    this.onEnded = onEnded;
    this.budget = parts.budget();
  }

  /** A repair of this pod UID is between decision and outcome. */
  boolean busy(String uid) {
    return inFlight.containsKey(uid);
  }

  /** The drifts between decision and outcome: not to be planned. */
  Iterable<ScriptKey> inFlight() {
    return inFlight.values();
  }

  /**
   * START: pause check, record, revalidation, script, outcome, in the order README's Repair section
   * gives. The record is created (or adopted) before the fresh reads, so that the fresh reads are
   * the last thing between the decision and the script: the gap in which the drift could go away by
   * itself is two API writes shorter than the other way round. Each step is a future completing on
   * the agent's context; any failure ends the attempt where it is and leaves the record as last
   * written (a Running one is marked interrupted at the next start).
   */
  void launch(Decision d, Catalog cat, Optional<String> apiResourceVersion) {
    String script = d.script().orElseThrow();
    CatalogEntry entry = cat.entry(script).orElse(null);
    String uid = d.key().target().uid();
    if (entry == null || inFlight.containsKey(uid)) {
      return;
    }
    ScriptKey key = new ScriptKey(d.key(), script);
    inFlight.put(uid, key);
    TrackedDrift drift = d.drift();
    pause
        .read()
        .compose(cache::live)
        .compose(
            isPaused -> {
              if (isPaused) {
                // Counted here once; the planner's hold in the next cycles has the same reason.
                metrics.throttled(Throttle.PAUSED.tag());
                onPaused.accept(d.key());
                LOG.info("event=repair_paused uid={} script={}", Logfmt.value(uid), script);
                return Future.succeededFuture();
              }
              return record(drift, script, d, apiResourceVersion)
                  .compose(rec -> rec == null ? Future.succeededFuture() : withSlot(rec, entry, d));
            })
        .onComplete(
            ar -> {
              inFlight.remove(uid);
              onEnded.accept(d.key());
              if (ar.failed()) {
                if (cache.closed()) {
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

  /**
   * The record, created or adopted. Null when the adopted record shows that this decision was made
   * from stale facts (its script runs, or more attempts were made than the planner knew, as when
   * another process of this agent wrote it): it is cached now and the next cycle plans from it.
   */
  private Future<ConsistencyRepairJob> record(
      TrackedDrift drift, String script, Decision d, Optional<String> apiResourceVersion) {
    RepairJobSpec spec =
        RepairJobSpec.of(
            config.nodeName(), drift, apiResourceVersion, script, d.dryRun(), d.policy());
    return store
        .createOrAdopt(spec)
        .compose(cache::live)
        .map(
            created -> {
              ConsistencyRepairJob job = created.job();
              cache.remember(job);
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

  /**
   * The cluster slot, held from before the fresh reads until the outcome is written. A dry run
   * changes nothing and takes none. While it waits, the log, {@code
   * stateprobe_repairs_throttled_total{reason="cluster_budget"}} and (for a record no attempt has
   * started yet) the record's status say why. After a wait the pause annotation is read again: a
   * person's stop given meanwhile takes.
   */
  private Future<Void> withSlot(ConsistencyRepairJob job, CatalogEntry entry, Decision d) {
    if (d.dryRun()) {
      return revalidate(job, entry, d);
    }
    String uid = d.key().target().uid();
    List<Future<ConsistencyRepairJob>> written =
        new ArrayList<>(List.of(Future.succeededFuture(job)));
    RepairBudget.Request request =
        new RepairBudget.Request(
            RepairBudget.Request.NORMAL,
            entry.timeout(),
            reason -> {
              if (written.size() == 1) {
                metrics.throttled(Throttle.CLUSTER_BUDGET.tag());
                written.add(markWaiting(job, reason));
              }
              LOG.info(
                  "event=repair_held kind={} uid={} reason={} detail={} record={}",
                  d.key().kind().wireName(),
                  Logfmt.value(uid),
                  Throttle.CLUSTER_BUDGET.tag(),
                  reason.tag(),
                  Logfmt.value(job.name()));
            });
    return budget
        .acquire(request)
        .compose(
            slot ->
                cache
                    .live(slot)
                    .compose(s -> written.getLast())
                    .compose(
                        current -> {
                          if (written.size() == 1) {
                            return revalidate(current, entry, d);
                          }
                          return pause
                              .read()
                              .compose(cache::live)
                              .compose(
                                  isPaused -> {
                                    if (isPaused) {
                                      metrics.throttled(Throttle.PAUSED.tag());
                                      onPaused.accept(d.key());
                                      LOG.info(
                                          "event=repair_paused uid={} script={}",
                                          Logfmt.value(uid),
                                          entry.name());
                                      return Future.<Void>succeededFuture();
                                    }
                                    return revalidate(current, entry, d);
                                  });
                        })
                    .eventually(() -> budget.release(slot)));
  }

  /**
   * A record no attempt has started yet says that it waits for the cluster budget; one with earlier
   * attempts keeps their outcome (the log and the counter say it). Never fails: the repair goes on
   * from the record as it was.
   */
  private Future<ConsistencyRepairJob> markWaiting(
      ConsistencyRepairJob job, SlotDecision.Reason reason) {
    RepairJobStatus s = job.statusOrPending();
    if (s.phase() != Phase.PENDING || s.attempts() > 0) {
      return Future.succeededFuture(job);
    }
    return cache
        .persist(
            job,
            RepairJobStatus.pending(
                "waiting for " + Throttle.CLUSTER_BUDGET.tag() + ": " + reason.tag(),
                clock.instant()))
        .otherwise(job);
  }

  /** Fresh reads: act only if the same drift still holds for the same UID, else Skipped. */
  private Future<Void> revalidate(ConsistencyRepairJob job, CatalogEntry entry, Decision d) {
    TrackedDrift drift = d.drift();
    String script = entry.name();
    return revalidator
        .check(d.key())
        .compose(cache::live)
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
              return cache
                  .persist(job, s.finish(Phase.SKIPPED, null, "", verdict.why(), clock.instant()))
                  .mapEmpty();
            });
  }

  private Future<Void> run(ConsistencyRepairJob job, CatalogEntry entry, Decision d) {
    Instant startAt = clock.instant();
    RepairJobStatus running = job.statusOrPending().start(d.attempt(), d.dryRun(), startAt);
    TrackedDrift drift = d.drift();
    return store
        .updateStatus(job, running)
        .compose(cache::live)
        .compose(
            started -> {
              cache.remember(started);
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
                  .compose(cache::live)
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
    return cache
        .persist(job, s)
        .map(
            updated -> {
              if (phase == Phase.SUCCEEDED && !d.dryRun()) {
                // A dry run changed nothing: its verification stays Pending, never Unresolved.
                verifications.begin(updated.name(), new ScriptKey(d.key(), entry.name()));
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

  /**
   * Running scripts are interrupted (the executor ends their process trees) and, off the event
   * loop, waited for briefly.
   */
  void close() {
    budget.close();
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
