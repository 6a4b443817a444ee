package dev.stateprobe.repair;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobStore;
import dev.stateprobe.repair.job.PlannerFacts;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.report.Logfmt;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's repair records, cached after each write, and their garbage collection. They are the
 * only history: a restarted agent reads them back and plans from the same facts ({@link
 * PlannerFacts}). Also the one gate of every write after a decision: once {@link #close closed},
 * {@link #live} fails the chain, so nothing is written after the controller stops.
 *
 * <p>Threading: written on the agent's context only; the map is concurrent so that tests and HTTP
 * may read it.
 */
final class RecordCache {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");
  private static final Duration GC_EVERY = Duration.ofHours(1);

  private final JobStore store;
  private final Metrics metrics;
  private final AgentConfig.Repair config;
  private final Map<String, ConsistencyRepairJob> records = new ConcurrentHashMap<>();

  /**
   * Outcomes and verdicts that the API server has not taken yet, by record: written again on each
   * trusted cycle until it does. The cache already holds them, so the planner plans from what
   * happened, not from the Running the server still shows (which would hold the target, and with
   * one concurrent repair the whole node, until a restart).
   */
  private final Map<String, RepairJobStatus> unwritten = new HashMap<>();

  private final Set<String> persisting = new HashSet<>();
  private Instant lastGc = Instant.EPOCH;
  private volatile boolean closed;

  RecordCache(JobStore store, Metrics metrics, AgentConfig.Repair config) {
    this.store = store;
    this.metrics = metrics;
    this.config = config;
  }

  JobStore store() {
    return store;
  }

  boolean closed() {
    return closed;
  }

  void close() {
    closed = true;
  }

  /** Fails the chain once closed: nothing is written after {@link #close}. */
  <T> Future<T> live(T value) {
    return closed
        ? Future.failedFuture(new IllegalStateException("repair controller closed"))
        : Future.succeededFuture(value);
  }

  void remember(ConsistencyRepairJob job) {
    records.put(job.name(), job);
    publishCounts();
  }

  void forget(String name) {
    records.remove(name);
    publishCounts();
  }

  Optional<ConsistencyRepairJob> get(String name) {
    return Optional.ofNullable(records.get(name));
  }

  boolean contains(String name) {
    return records.containsKey(name);
  }

  List<ConsistencyRepairJob> all() {
    return List.copyOf(records.values());
  }

  int size() {
    return records.size();
  }

  /** A finished status of this record is being written right now. */
  boolean persisting(String name) {
    return persisting.contains(name);
  }

  /**
   * Writes a finished attempt's status (outcome, verdict, skip). When the API server refuses it,
   * the status is cached anyway and written again on the next trusted cycles ({@link
   * #writeUnwritten}); the future then succeeds with the cached record. Not for the Running write:
   * a script runs only once its record says so.
   */
  Future<ConsistencyRepairJob> persist(ConsistencyRepairJob job, RepairJobStatus status) {
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
  void writeUnwritten() {
    for (Map.Entry<String, RepairJobStatus> e : List.copyOf(unwritten.entrySet())) {
      ConsistencyRepairJob job = records.get(e.getKey());
      if (job == null) {
        unwritten.remove(e.getKey());
      } else if (!persisting.contains(e.getKey())) {
        persist(job, e.getValue());
      }
    }
  }

  /** Hourly: finished records past their TTL, or beyond the node's limit, are deleted. */
  void collectGarbage(Instant now) {
    if (Duration.between(lastGc, now).compareTo(GC_EVERY) < 0) {
      return;
    }
    lastGc = now;
    store
        .collectGarbage(now, config.jobTtl(), config.maxJobsPerNode())
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

  private void publishCounts() {
    metrics.recordsByPhase(PlannerFacts.countByPhase(List.copyOf(records.values())));
  }
}
