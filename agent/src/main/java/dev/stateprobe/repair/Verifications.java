package dev.stateprobe.repair;

import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.job.Verification;
import dev.stateprobe.repair.planner.ScriptKey;
import dev.stateprobe.repair.planner.VerificationState;
import dev.stateprobe.report.Logfmt;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Successes waiting for their verdict, stepped on each trusted cycle by the pure {@link
 * VerificationState}; the verdict is written to the record and counted here. A drift being verified
 * is not planned again; neither while its verdict is being written, so that the cached Pending
 * record is not mistaken for a fresh success (cooldown) or the verdict for a new one. Runs on the
 * agent's context.
 */
final class Verifications {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final RecordCache cache;
  private final Metrics metrics;
  private final EventRecorder events;
  private final Map<String, VerificationState> waiting = new HashMap<>();

  /** Records whose verdict is drawn and being written. */
  private final Set<String> writing = new HashSet<>();

  Verifications(RecordCache cache, Metrics metrics, EventRecorder events) {
    this.cache = cache;
    this.metrics = metrics;
    this.events = events;
  }

  /** A script exited 0 for this record (not a dry run: that changed nothing, stays Pending). */
  void begin(String record, ScriptKey key) {
    writing.remove(record);
    waiting.put(record, VerificationState.begin(key));
  }

  /**
   * A success whose verdict a previous agent did not write is verified again from here, as if it
   * had just finished. A dry run changed nothing and stays Pending.
   */
  void resume(ConsistencyRepairJob job) {
    RepairJobStatus s = job.getStatus();
    if (s != null
        && s.phase() == Phase.SUCCEEDED
        && s.verification() == Verification.PENDING
        && !job.getSpec().dryRun()) {
      begin(job.name(), new ScriptKey(job.getSpec().driftKey(), job.getSpec().script()));
      LOG.info("event=verification_resumed record={}", job.name());
    }
  }

  /** The drifts being verified: not to be planned. */
  Set<DriftKey> drifts() {
    Set<DriftKey> out = new HashSet<>();
    waiting.values().forEach(v -> out.add(v.key().drift()));
    return out;
  }

  /** One trusted cycle: every verification not yet decided takes one step. */
  void step(CycleResult cycle, Instant now) {
    Set<DriftKey> present = new HashSet<>();
    cycle.drifts().forEach(d -> present.add(d.key()));
    for (Map.Entry<String, VerificationState> e : new ArrayList<>(waiting.entrySet())) {
      String name = e.getKey();
      if (writing.contains(name)) {
        continue;
      }
      VerificationState v = e.getValue();
      VerificationState.Step step = v.step(present.contains(v.key().drift()));
      if (step.verdict().isEmpty()) {
        waiting.put(name, step.state());
        continue;
      }
      ConsistencyRepairJob job = cache.get(name).orElse(null);
      if (job == null) {
        waiting.remove(name);
        continue;
      }
      Verification verdict =
          switch (step.verdict().get()) {
            case RESOLVED -> Verification.RESOLVED;
            case UNRESOLVED -> Verification.UNRESOLVED;
          };
      waiting.put(name, step.state());
      writing.add(name);
      cache
          .persist(job, job.statusOrPending().verify(verdict, now))
          .onComplete(
              ar -> {
                waiting.remove(name);
                writing.remove(name);
              });
      String script = job.getSpec().script();
      metrics.repair(script, verdict == Verification.RESOLVED ? "resolved" : "unresolved");
      LOG.info(
          "event=repair_verified cycle={} record={} verification={} kind={} uid={}",
          cycle.cycle(),
          name,
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
}
