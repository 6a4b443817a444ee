package dev.stateprobe.demo;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.drift.Transition;
import dev.stateprobe.repair.RepairController;
import dev.stateprobe.repair.job.AttemptRecord;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.job.Verification;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches the agent from outside, as a person reading its drifts and repair records would, and
 * turns each change into an {@link Event}: drift transitions, trust and re-lists from {@code
 * Agent.onCycle}; repair attempts and verdicts from the repair controller's records; the circuit
 * breaker's state. It survives agent restarts ({@link #attach} the new one).
 *
 * <p>Threads: {@link #onCycle} runs on the agent's context, reads only immutable or concurrent
 * state and never blocks; events go to a queue that one reader (the timeline runner) drains.
 */
public final class Observer {

  /** What an event is about. */
  public enum Type {
    /** Every cycle; not shown, it only wakes waiters. */
    CYCLE,
    SUSPECTED,
    CONFIRMED,
    DISMISSED,
    CLEARED,
    TRUST_LOST,
    TRUST_REGAINED,
    RELISTED,
    /** A record that waits before any attempt (awaiting approval). */
    RECORDED,
    REPAIR_STARTED,
    REPAIR_FINISHED,
    VERIFIED,
    CIRCUIT_OPENED,
    CIRCUIT_CLOSED,
    AGENT_STARTED
  }

  /**
   * One change.
   *
   * @param key the drift, for drift events and repair events (from the record's spec)
   * @param record the record's name, for repair events
   * @param detail what people read
   */
  public record Event(
      Type type, Instant at, long cycle, DriftKey key, String record, String detail) {
    public Event {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(at, "at");
    }
  }

  /** What was last seen of a record, to tell its changes apart. */
  private record Seen(int started, int finished, Phase phase, Verification verification) {
    static final Seen NONE = new Seen(0, 0, null, null);
  }

  /** Events nobody took are dropped oldest first past this many (a demo left running). */
  static final int MAX_QUEUED = 10_000;

  private final BlockingQueue<Event> queue = new LinkedBlockingQueue<>();
  private final Map<String, ConsistencyRepairJob> records = new ConcurrentHashMap<>();
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();
  private final AtomicInteger generation = new AtomicInteger();
  private final AtomicLong trustedCycles = new AtomicLong();
  private final AtomicLong relists = new AtomicLong();
  private volatile CycleResult last;
  private volatile boolean circuitOpen;
  private volatile RepairController.CircuitReading lastOpening;
  private final Map<DriftKey, TrackedDrift> confirmed = new ConcurrentHashMap<>();

  /** Follows {@code runtime} from now on; an earlier runtime's cycles are ignored. */
  public void attach(AgentRuntime runtime) {
    int gen = generation.incrementAndGet();
    Tap tap = new Tap(runtime);
    runtime
        .agent()
        .onCycle(
            c -> {
              if (generation.get() == gen) {
                tap.onCycle(c);
              }
            });
    circuitOpen = false;
    if (gen > 1) {
      emit(Type.AGENT_STARTED, Instant.now(), 0, null, null, "a new agent process started");
    }
  }

  /** The agent's last cycle, or null before the first. */
  public CycleResult last() {
    return last;
  }

  /** Trusted cycles seen, over every agent attached so far. */
  public long trustedCycles() {
    return trustedCycles.get();
  }

  /** Re-lists of the pod informer, over every agent attached so far. */
  public long relists() {
    return relists.get();
  }

  public boolean circuitOpen() {
    return circuitOpen;
  }

  /** The drift as the agent confirmed it (its last confirmation), whatever happened since. */
  public java.util.Optional<TrackedDrift> confirmed(DriftKey key) {
    return java.util.Optional.ofNullable(confirmed.get(key));
  }

  /** What the agent's breaker counted when it last opened, as the agent reports it. */
  public java.util.Optional<RepairController.CircuitReading> lastCircuitOpening() {
    return java.util.Optional.ofNullable(lastOpening);
  }

  /** The records as last seen, by name. */
  public Map<String, ConsistencyRepairJob> records() {
    return Map.copyOf(records);
  }

  /** The next event, waiting at most {@code timeout}; null when none came. */
  public Event next(Duration timeout) throws InterruptedException {
    return queue.poll(Math.max(0, timeout.toMillis()), TimeUnit.MILLISECONDS);
  }

  /** Per agent: what its last cycle showed. Touched only on that agent's context. */
  private final class Tap {
    private final AgentRuntime runtime;
    private final AgentConfig config;
    private Boolean trusted;
    private long relistsSeen;
    private boolean circuit;

    Tap(AgentRuntime runtime) {
      this.runtime = runtime;
      this.config = runtime.config();
    }

    void onCycle(CycleResult c) {
      Instant now = c.snapshot().now();
      long cycle = c.cycle();
      last = c;
      if (c.trusted()) {
        trustedCycles.incrementAndGet();
      }
      if (trusted == null || trusted != c.trusted()) {
        if (c.trusted()) {
          if (trusted != null) {
            emit(Type.TRUST_REGAINED, now, cycle, null, null, "cycles are trusted again");
          }
        } else {
          emit(
              Type.TRUST_LOST,
              now,
              cycle,
              null,
              null,
              "cycles are not trusted ("
                  + String.join(", ", c.trust().reasons())
                  + "): no verdicts");
        }
        trusted = c.trusted();
      }
      long r = c.snapshot().controlPlane().relists();
      if (r > relistsSeen) {
        relists.addAndGet(r - relistsSeen);
        emit(
            Type.RELISTED,
            now,
            cycle,
            null,
            null,
            "the pod informer listed the API server again (re-list " + relists.get() + ")");
        relistsSeen = r;
      }
      // Records first: they show writes made since the last cycle, before what this one found.
      // The repair side exists once the agent first needed it (AgentRuntime).
      var repair = runtime.repair();
      if (repair != null) {
        for (ConsistencyRepairJob job : repair.records()) {
          observe(job, now, cycle);
        }
      }
      for (Transition t : c.transitions()) {
        TrackedDrift d = t.drift();
        switch (t.type()) {
          case SUSPECTED -> emit(Type.SUSPECTED, now, cycle, d.key(), null, d.drift().detail());
          case CONFIRMED -> {
            confirmed.put(d.key(), d);
            emit(
                Type.CONFIRMED,
                now,
                cycle,
                d.key(),
                null,
                "held "
                    + seconds(t.latency())
                    + ", "
                    + d.observations()
                    + " trusted cycles in a row");
          }
          case DISMISSED ->
              emit(Type.DISMISSED, now, cycle, d.key(), null, "gone before its window ended");
          case CLEARED -> emit(Type.CLEARED, now, cycle, d.key(), null, "no longer seen");
        }
      }
      boolean open = repair != null && repair.circuitOpen();
      if (open != circuit) {
        circuit = open;
        circuitOpen = open;
        // What the breaker itself counted when it opened, not a count of the demo's.
        RepairController.CircuitReading reading = runtime.repair().lastOpening().orElse(null);
        if (open) {
          lastOpening = reading;
        }
        emit(
            open ? Type.CIRCUIT_OPENED : Type.CIRCUIT_CLOSED,
            now,
            cycle,
            null,
            null,
            open
                ? (reading == null
                        ? "opened"
                        : reading.summary() + " (of " + reading.nodePods() + " pods)")
                    + ": the views are more likely wrong than the pods; repairs held"
                : "closed after "
                    + seconds(config.repair().circuitRecovery())
                    + " under the threshold; repairs may run again");
      }
      // The detail of a cycle event is the trust gate's reasons: empty when trusted.
      emit(Type.CYCLE, now, cycle, null, null, String.join(",", c.trust().reasons()));
    }
  }

  private void observe(ConsistencyRepairJob job, Instant now, long cycle) {
    String name = job.name();
    records.put(name, job);
    Seen before = seen.getOrDefault(name, Seen.NONE);
    RepairJobStatus s = job.statusOrPending();
    DriftKey key = job.getSpec().driftKey();
    String script = job.getSpec().script();
    List<AttemptRecord> history = s.history();
    int started = before.started();
    int finished = before.finished();
    if (before == Seen.NONE && s.phase() == Phase.PENDING && s.attempts() == 0) {
      emit(
          Type.RECORDED,
          now,
          cycle,
          key,
          name,
          script + ": recorded, " + (s.reason() == null ? "pending" : s.reason()));
    }
    for (AttemptRecord a : history) {
      if (a.attempt() > started) {
        started = a.attempt();
        emit(
            Type.REPAIR_STARTED,
            a.startedAt(),
            cycle,
            key,
            name,
            script
                + " attempt "
                + a.attempt()
                + (Boolean.TRUE.equals(a.dryRun()) ? " (dry run)" : "")
                + " started");
      }
      if (a.finishedAt() != null && a.attempt() > finished) {
        finished = a.attempt();
        boolean latest = a.attempt() == s.attempts();
        String output = latest ? lastLine(s.output()) : "";
        String reason = a.reason() == null ? "" : a.reason();
        if (reason.startsWith(script + ": ")) {
          reason = reason.substring(script.length() + 2);
        }
        emit(
            Type.REPAIR_FINISHED,
            a.finishedAt(),
            cycle,
            key,
            name,
            script
                + " attempt "
                + a.attempt()
                + " "
                + a.phase().wireName()
                + (reason.isEmpty() ? "" : ": " + reason)
                + (output.isEmpty() ? "" : "\n" + output));
      }
    }
    if (s.phase() == Phase.SKIPPED && s.attempts() == 0 && before.phase() != Phase.SKIPPED) {
      emit(Type.REPAIR_FINISHED, now, cycle, key, name, script + " Skipped: " + s.reason());
    }
    Verification v = s.verification();
    if (v != null && v != Verification.PENDING && v != before.verification()) {
      emit(
          Type.VERIFIED,
          now,
          cycle,
          key,
          name,
          script
              + ": "
              + v.wireName()
              + (v == Verification.RESOLVED
                  ? " (the drift stayed gone for 2 trusted cycles)"
                  : " (the drift held on)"));
    }
    seen.put(name, new Seen(started, finished, s.phase(), v));
  }

  private void emit(Type type, Instant at, long cycle, DriftKey key, String record, String detail) {
    while (queue.size() >= MAX_QUEUED) {
      queue.poll();
    }
    queue.add(new Event(type, at, cycle, key, record, detail));
  }

  static String seconds(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.1fs", d.toMillis() / 1000.0);
  }

  private static String lastLine(String output) {
    if (output == null) {
      return "";
    }
    String[] lines = output.strip().split("\n");
    String line = lines[lines.length - 1].strip();
    return line.length() > 200 ? line.substring(0, 197) + "..." : line;
  }
}
