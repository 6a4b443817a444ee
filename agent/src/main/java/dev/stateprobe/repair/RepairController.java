package dev.stateprobe.repair;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.RepairMode;
import dev.stateprobe.decode.PodIdentity;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.drift.Transition;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.fleet.BrakeSource;
import dev.stateprobe.fleet.BrakeState;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.policy.PodPolicy;
import dev.stateprobe.repair.catalog.Catalog;
import dev.stateprobe.repair.catalog.CatalogEntry;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.PlannerFacts;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.planner.Decision;
import dev.stateprobe.repair.planner.FleetBrakeGate;
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
import dev.stateprobe.view.PodRef;
import io.vertx.core.Future;
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
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the order of a repair (README, Repair) for this node, one trusted cycle at a time: breaker,
 * outstanding writes, verification, approvals, pause, garbage collection, planning. The jobs are
 * its parts: {@link AttemptRunner} (one attempt, decision to outcome), {@link RecordCache} (records
 * and their GC), {@link Approvals}, {@link PauseSwitch} and {@link Verifications}, which steps the
 * pure {@link dev.stateprobe.repair.planner.VerificationState}.
 *
 * <p>Threading: {@link #onCycle} and every continuation that touches the parts' state run on the
 * agent's Vert.x context (futures from the worker pool, and script results, complete back on it),
 * so the state needs no locks. Blocking API calls run on the worker pool, scripts on their own
 * threads.
 *
 * <p>While a repair runs or waits for its verdict, its drift is not planned again. A drift held
 * back by {@code MAX_CONCURRENT_REPAIRS} starts when a slot frees, not at the next cycle: the end
 * of a repair plans again from the last trusted cycle (the planner stays a pure function of its
 * input). A dry run changed nothing on purpose: its verification stays {@code Pending} and it never
 * escalates.
 *
 * <p>Memory: this node's records ({@link RecordCache}). A restarted agent reads them back, plans
 * from the same facts, and picks up the verification of a success that was still Pending.
 *
 * <p>Shutdown ({@link #close}): running scripts are interrupted (the executor ends their process
 * trees) and nothing is written afterwards; a record left Running is marked interrupted by the next
 * agent's {@link #start}, as after a crash.
 */
public final class RepairController implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");
  public static final String PAUSE_ANNOTATION = "stateprobe.dev/paused";

  private final AgentConfig config;
  private final Supplier<Catalog> catalog;
  private final EventRecorder events;
  private final Metrics metrics;
  private final Clock clock;
  private final RecordCache cache;
  private final PauseSwitch pause;
  private final Approvals approvals;
  private final Verifications verifications;
  private final AttemptRunner attempts;
  private final Map<DriftKey, Throttle> lastThrottle = new HashMap<>();
  private final Set<DriftKey> refusedIdentities = new HashSet<>();
  private final BreakerSwitch breaker;
  private final BrakeSource fleetBrake;
  private BrakeState.Reason lastBrake;
  private boolean started;

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

  /** A controller without a fleet brake to read: with {@code FLEET_BRAKE=on} it reads missing. */
  public RepairController(RepairParts parts) {
    this(parts, java.util.Optional::empty);
  }

  /**
   * @param fleetBrake where the fleet storm brake is read, when {@code FLEET_BRAKE=on}
   */
  public RepairController(RepairParts parts, BrakeSource fleetBrake) {
    this.fleetBrake = java.util.Objects.requireNonNull(fleetBrake, "fleetBrake");
    this.config = parts.config();
    this.catalog = parts.catalog();
    this.events = parts.events();
    this.metrics = parts.metrics();
    this.clock = parts.clock();
    Duration refreshEvery = config.timings().repairRefresh();
    this.cache = new RecordCache(parts.store(), metrics, config.repair());
    this.pause =
        new PauseSwitch(parts.client(), config.nodeName(), parts.worker(), metrics, refreshEvery);
    this.approvals = new Approvals(cache, metrics, clock, config.nodeName(), refreshEvery);
    this.verifications = new Verifications(cache, metrics, events);
    this.attempts =
        new AttemptRunner(
            parts,
            cache,
            pause,
            verifications,
            key -> lastThrottle.put(key, Throttle.PAUSED),
            this::slotFreed);
    this.breaker = new BreakerSwitch(config.repair(), events, metrics);
    boolean obeyed = config.fleetBrake().obeyed();
    metrics.fleetBrake(
        obeyed, (obeyed ? BrakeState.Reason.MISSING : BrakeState.Reason.DISABLED).tag());
  }

  /**
   * Restart safety first: records left Running by a previous process become Failed ("interrupted",
   * counted), then this node's records are read back. Until this completes no repair starts. Must
   * be called on the agent's context.
   */
  public Future<Void> start() {
    return cache
        .store()
        .markInterrupted()
        .compose(
            changed -> {
              changed.forEach(this::tellInterrupted);
              return cache.store().listForNode();
            })
        .map(
            list -> {
              list.forEach(cache::remember);
              list.forEach(verifications::resume);
              started = !cache.closed();
              LOG.info(
                  "event=repair_ready records={} mode={}",
                  cache.size(),
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

  /** One agent cycle: breaker, verification, planning. Runs on the agent's context. */
  public void onCycle(CycleResult cycle) {
    Instant now = cycle.snapshot().now();
    for (Transition t : cycle.transitions()) {
      if (t.type() == Transition.Type.CONFIRMED && !cache.closed()) {
        TrackedDrift d = t.drift();
        PodPolicy policy = cycle.policy(d);
        events.pod(
            d.drift().target(),
            EventRecorder.Type.WARNING,
            "DriftConfirmed",
            "Detect",
            d.drift().kind().wireName()
                + ": "
                + d.drift().detail()
                + (policy.policy().isPresent()
                    ? " (" + policy.level().wireName() + ", policy " + policy.policyName() + ")"
                    : ""));
      }
    }
    if (cache.closed() || !started || !cycle.trusted()) {
      // An untrusted cycle is no evidence either way: no breaker step, no verdict, no repair.
      return;
    }
    breaker.step(cycle, now);
    cache.writeUnwritten();
    verifications.step(cycle, now);
    approvals.retireStale(cycle, now, attempts::busy);
    approvals.refresh(now);
    pause.refresh(now);
    cache.collectGarbage(now);
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
        || cache.closed()
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

  private void plan(CycleResult cycle, Instant now) {
    Catalog cat = catalog.get();
    // A drift whose repair runs or waits for its verdict is being handled: asking the planner
    // about it would count a throttle (target busy, cooldown) for what is no hold at all, and with
    // cooldownSeconds 0 start the next attempt before the verdict of the last one.
    Set<DriftKey> handled = new HashSet<>();
    attempts.inFlight().forEach(k -> handled.add(k.drift()));
    handled.addAll(verifications.drifts());
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
            pause.paused(),
            breaker.open(),
            new Limits(config.repair().maxConcurrent(), config.repair().maxPerHour()),
            history(),
            PlannerFacts.approvals(cache.all()),
            now,
            cycle.policies());
    heldForSlot = false;
    BrakeState brake = brake(now);
    for (Decision d :
        FleetBrakeGate.apply(RepairPlanner.plan(input), brake.holds(), brake.detail())) {
      heldForSlot |= d.throttle().orElse(null) == Throttle.CONCURRENCY;
      countThrottle(d);
      boolean writes =
          d.action() == Decision.Action.START
              || d.action() == Decision.Action.CREATE_PENDING_APPROVAL;
      if (writes && !validIdentity(d.key())) {
        continue;
      }
      switch (d.action()) {
        case START -> attempts.launch(d, cat, apiResourceVersion(cycle, d));
        case CREATE_PENDING_APPROVAL -> approvals.createPending(d);
        case WAIT, NONE -> {}
      }
    }
    lastThrottle.keySet().retainAll(options.keySet());
    refusedIdentities.retainAll(options.keySet());
  }

  /** The fleet brake as read now; its metric, and a log line when its reason changes. */
  private BrakeState brake(Instant now) {
    BrakeState b =
        config.fleetBrake().obeyed()
            ? BrakeState.judge(fleetBrake.latest(), now, config.fleetBrake().maxAge())
            : BrakeState.DISABLED_STATE;
    metrics.fleetBrake(b.holds(), b.reason().tag());
    if (b.reason() != lastBrake) {
      lastBrake = b.reason();
      LOG.info(
          "event=fleet_brake reason={} holds={} detail=\"{}\"",
          b.reason().tag(),
          b.holds(),
          Logfmt.escaped(b.detail()));
    }
    return b;
  }

  private static PlanMode planMode(RepairMode mode) {
    return switch (mode) {
      case ON -> PlanMode.ON;
      case DRY_RUN -> PlanMode.DRY_RUN;
      case OFF -> PlanMode.OFF;
    };
  }

  /** The target's resourceVersion in the API view the drift was confirmed from, if it has one. */
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
    RepairHistory h = PlannerFacts.history(cache.all());
    Map<ScriptKey, ScriptHistory> scripts = new HashMap<>(h.scripts());
    int running = h.running();
    for (ScriptKey k : attempts.inFlight()) {
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

  /** Records as cached (tests and the demo read it). */
  public List<ConsistencyRepairJob> records() {
    return cache.all();
  }

  public boolean circuitOpen() {
    return breaker.open();
  }

  /** What the breaker counted when it last opened (the demo prints it; so do the log and Event). */
  public Optional<CircuitReading> lastOpening() {
    return breaker.lastOpening();
  }

  /**
   * Stops acting: no new repair, no write after this returns; running scripts are interrupted
   * (their process trees ended) and, off the event loop, waited for briefly.
   */
  @Override
  public void close() {
    cache.close();
    started = false;
    attempts.close();
  }
}
