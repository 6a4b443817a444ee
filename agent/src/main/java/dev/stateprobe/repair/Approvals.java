package dev.stateprobe.repair;

import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobStore;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.planner.Decision;
import dev.stateprobe.report.Logfmt;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records of manual catalog entries: created Pending ("awaiting approval"), read back now and then
 * so that a person's approval is noticed, and retired Skipped when their drift heals first. Runs on
 * the agent's context.
 */
final class Approvals {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final RecordCache cache;
  private final JobStore store;
  private final Metrics metrics;
  private final Clock clock;
  private final String nodeName;
  private final Duration refreshEvery;
  private final Set<String> creating = new HashSet<>();
  private Instant lastRefresh = Instant.EPOCH;

  Approvals(
      RecordCache cache, Metrics metrics, Clock clock, String nodeName, Duration refreshEvery) {
    this.cache = cache;
    this.store = cache.store();
    this.metrics = metrics;
    this.clock = clock;
    this.nodeName = nodeName;
    this.refreshEvery = refreshEvery;
  }

  /** CREATE_PENDING_APPROVAL: the record a person approves, made once. */
  void createPending(Decision d) {
    String script = d.script().orElseThrow();
    RepairJobSpec spec =
        RepairJobSpec.of(nodeName, d.drift(), Optional.empty(), script, d.dryRun(), d.policy());
    String name = spec.jobName();
    if (cache.contains(name) || !creating.add(name)) {
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
              creating.remove(name);
              if (cache.closed()) {
                return;
              }
              if (ar.succeeded()) {
                cache.remember(ar.result());
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

  /**
   * A record awaiting approval whose drift a trusted cycle no longer shows ends Skipped ("drift
   * gone before approval"): nobody should approve a repair of something that healed, and garbage
   * collection takes only finished records, so it would otherwise wait forever.
   *
   * @param targetBusy whether a repair of this pod UID is between decision and outcome
   */
  void retireStale(CycleResult cycle, Instant now, Predicate<String> targetBusy) {
    Set<DriftKey> present = new HashSet<>();
    cycle.drifts().forEach(d -> present.add(d.key()));
    for (ConsistencyRepairJob job : cache.all()) {
      RepairJobStatus s = job.statusOrPending();
      String name = job.name();
      if (job.getSpec().approved()
          || s.phase() != Phase.PENDING
          || job.getStatus() == null
          || present.contains(job.getSpec().driftKey())
          || cache.persisting(name)
          || creating.contains(name)
          || targetBusy.test(job.getSpec().driftKey().target().uid())) {
        continue;
      }
      LOG.info("event=approval_retired record={} reason=\"drift gone before approval\"", name);
      metrics.repair(job.getSpec().script(), "skipped");
      cache.persist(job, s.finish(Phase.SKIPPED, null, "", "drift gone before approval", now));
    }
  }

  /** Records still waiting for a person are read back every {@code refreshEvery}. */
  void refresh(Instant now) {
    if (Duration.between(lastRefresh, now).compareTo(refreshEvery) < 0) {
      return;
    }
    List<String> waiting =
        cache.all().stream()
            .filter(j -> !j.getSpec().approved() && j.statusOrPending().phase() == Phase.PENDING)
            .map(ConsistencyRepairJob::name)
            .toList();
    if (waiting.isEmpty()) {
      return;
    }
    lastRefresh = now;
    for (String name : waiting) {
      store
          .get(name)
          .onSuccess(
              found -> {
                if (cache.closed()) {
                  return;
                }
                found.ifPresentOrElse(cache::remember, () -> cache.forget(name));
              });
    }
  }
}
