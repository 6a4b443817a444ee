package dev.stateprobe.metrics;

import dev.stateprobe.decode.PodIdentity;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.TrustGate;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/**
 * The agent's meters. Names carry the {@code stateprobe_} prefix in Prometheus; Micrometer's naming
 * convention adds {@code _total}, {@code _seconds} and the like. README lists them.
 *
 * <p>Thread-safe: meters are updated from the event loop and from worker threads.
 */
public final class Metrics implements AutoCloseable {
  /** Which view a gauge is about. */
  public enum View {
    API("api"),
    KUBELET("kubelet"),
    RUNTIME("runtime");

    final String tag;

    View(String tag) {
      this.tag = tag;
    }
  }

  /** Which kubelet endpoint a poll hit. */
  public enum Endpoint {
    PODS("pods"),
    RUNNINGPODS("runningpods");

    final String tag;

    Endpoint(String tag) {
      this.tag = tag;
    }
  }

  public static final String PREFIX = "stateprobe.";

  private final MeterRegistry registry;
  private final Map<Endpoint, Timer> pollDuration = new EnumMap<>(Endpoint.class);
  private final Map<String, Counter> pollFailures = new ConcurrentHashMap<>();
  private final Map<String, Counter> invalidPods = new ConcurrentHashMap<>();
  private final Map<View, AtomicLong> viewPods = new EnumMap<>(View.class);
  private final Map<View, AtomicLong> viewObservedMillis = new EnumMap<>(View.class);
  private final AtomicLong trusted = new AtomicLong();
  private final Map<String, Counter> untrustedCycles = new ConcurrentHashMap<>();
  private final Counter cycles;
  private final Map<DriftKind, AtomicLong> driftsActive = new EnumMap<>(DriftKind.class);
  private final Map<DriftKind, AtomicLong> driftsSuspected = new EnumMap<>(DriftKind.class);
  private final Map<DriftKind, Counter> driftsDetected = new EnumMap<>(DriftKind.class);
  private final Map<DriftKind, Counter> driftsCleared = new EnumMap<>(DriftKind.class);
  private final Map<DriftKind, Timer> confirmationLatency = new EnumMap<>(DriftKind.class);
  private final AtomicLong runtimeAvailable = new AtomicLong();
  private final AtomicLong circuitOpen = new AtomicLong();
  private final AtomicLong circuitDrifts = new AtomicLong();
  private final AtomicLong circuitThreshold = new AtomicLong();
  private final AtomicLong paused = new AtomicLong();
  private final Map<String, Counter> repairs = new ConcurrentHashMap<>();
  private final Map<String, Timer> repairDuration = new ConcurrentHashMap<>();
  private final Map<String, Counter> throttled = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> recordsByPhase = new ConcurrentHashMap<>();
  private final Counter catalogReloadFailures;
  private final Counter catalogReloads;
  private final Map<String, Counter> events = new ConcurrentHashMap<>();
  private final Timer repairStartLatency;
  private final DistributionSummary kubeletBodyBytes;
  private final JvmGcMetrics gcMetrics;
  private final AtomicLong fleetBrake = new AtomicLong();
  private final Map<String, AtomicLong> fleetBrakeReason = new ConcurrentHashMap<>();
  private final PolicyMeters policyMeters;

  /**
   * @param clockMillis source of "now" for view ages (the agent's injected clock)
   */
  public Metrics(
      MeterRegistry registry, String version, java.util.function.LongSupplier clockMillis) {
    this.registry = registry;
    for (Endpoint e : Endpoint.values()) {
      pollDuration.put(
          e,
          Timer.builder(PREFIX + "kubelet.poll.duration")
              .description("Duration of kubelet requests, including decode")
              .tag("endpoint", e.tag)
              .serviceLevelObjectives(
                  ms(5), ms(10), ms(25), ms(50), ms(100), ms(250), ms(500), ms(1000), ms(2500),
                  ms(5000), ms(10000))
              .register(registry));
      for (FailureReason r : FailureReason.values()) {
        pollFailure(e, r, 0); // pre-register: a zero is a fact, an absent series is not
      }
      for (PodIdentity.Field f : PodIdentity.Field.values()) {
        invalidKubeletPod(e, f, 0);
      }
    }
    kubeletBodyBytes =
        DistributionSummary.builder(PREFIX + "kubelet.response.size")
            .baseUnit("bytes")
            .description("Size of kubelet /pods replies")
            .register(registry);
    for (View v : View.values()) {
      AtomicLong pods = new AtomicLong();
      AtomicLong at = new AtomicLong();
      viewPods.put(v, pods);
      viewObservedMillis.put(v, at);
      Gauge.builder(PREFIX + "view.pods", pods, AtomicLong::get)
          .description("Pods in the latest view")
          .tag("view", v.tag)
          .register(registry);
      Gauge.builder(
              PREFIX + "view.age",
              at,
              a -> a.get() == 0 ? Double.NaN : (clockMillis.getAsLong() - a.get()) / 1000.0)
          .description("Seconds since the view was last refreshed")
          .baseUnit("seconds")
          .tag("view", v.tag)
          .register(registry);
    }
    gauge(PREFIX + "trusted", trusted, "1 when the last cycle passed the trust gate");
    // A zero is a fact an alert can rely on; an absent series is not.
    TrustGate.REASONS.forEach(this::untrustedCycles);
    cycles =
        Counter.builder(PREFIX + "cycles").description("Detection cycles run").register(registry);
    for (DriftKind k : DriftKind.values()) {
      AtomicLong active = new AtomicLong();
      AtomicLong suspected = new AtomicLong();
      driftsActive.put(k, active);
      driftsSuspected.put(k, suspected);
      Gauge.builder(PREFIX + "drifts.active", active, AtomicLong::get)
          .description("Confirmed drifts now")
          .tag("kind", k.wireName())
          .register(registry);
      Gauge.builder(PREFIX + "drifts.suspected", suspected, AtomicLong::get)
          .description("Suspected, not yet confirmed drifts now")
          .tag("kind", k.wireName())
          .register(registry);
      driftsDetected.put(
          k,
          Counter.builder(PREFIX + "drifts.detected")
              .description("Drifts confirmed")
              .tag("kind", k.wireName())
              .register(registry));
      driftsCleared.put(
          k,
          Counter.builder(PREFIX + "drifts.cleared")
              .description("Confirmed drifts that went away")
              .tag("kind", k.wireName())
              .register(registry));
      confirmationLatency.put(
          k,
          Timer.builder(PREFIX + "drift.confirmation")
              .description("From first observation to confirmation")
              .tag("kind", k.wireName())
              .serviceLevelObjectives(
                  Duration.ofSeconds(5),
                  Duration.ofSeconds(15),
                  Duration.ofSeconds(30),
                  Duration.ofSeconds(60),
                  Duration.ofSeconds(120),
                  Duration.ofSeconds(300),
                  Duration.ofSeconds(900))
              .register(registry));
    }
    gauge(PREFIX + "runtime.view.available", runtimeAvailable, "1 when /runningpods/ answers");
    gauge(PREFIX + "circuit.open", circuitOpen, "1 while the circuit breaker blocks repairs");
    gauge(
        PREFIX + "circuit.drifts",
        circuitDrifts,
        "Drifts (suspected or confirmed) the circuit breaker counted in the last trusted cycle");
    gauge(
        PREFIX + "circuit.threshold",
        circuitThreshold,
        "The count above which the circuit breaker opens, for the node's pods now");
    gauge(PREFIX + "paused", paused, "1 while the node annotation pauses repairs");
    catalogReloadFailures =
        Counter.builder(PREFIX + "catalog.reload.failures")
            .description("Catalog reloads refused; the last good catalog stays")
            .register(registry);
    catalogReloads =
        Counter.builder(PREFIX + "catalog.reloads")
            .description("Catalogs loaded")
            .register(registry);
    repairStartLatency =
        Timer.builder(PREFIX + "repair.start.latency")
            .description("From drift confirmation to script start")
            .serviceLevelObjectives(ms(10), ms(50), ms(100), ms(250), ms(1000), ms(5000))
            .register(registry);
    // The fleet storm brake as this agent reads it (README, Fleet storm brake).
    gauge(PREFIX + "fleet.brake", fleetBrake, "1 while the fleet storm brake holds repairs back");
    for (String r : FLEET_BRAKE_REASONS) {
      AtomicLong holder = new AtomicLong();
      fleetBrakeReason.put(r, holder);
      Gauge.builder(PREFIX + "fleet.brake.reason", holder, AtomicLong::get)
          .description("1 on the reason of the agent's current reading of the fleet storm brake")
          .tag("reason", r)
          .register(registry);
    }
    Gauge.builder(PREFIX + "build.info", () -> 1)
        .description("Build information")
        .tag("version", version)
        .tag("java", System.getProperty("java.version"))
        .register(registry);

    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    policyMeters = new PolicyMeters(registry);
  }

  private static Duration ms(long n) {
    return Duration.ofMillis(n);
  }

  private void gauge(String name, AtomicLong holder, String description) {
    Gauge.builder(name, holder, AtomicLong::get).description(description).register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  // ---- kubelet ----

  public void kubeletPoll(Endpoint endpoint, Duration took) {
    pollDuration.get(endpoint).record(took);
  }

  public void kubeletResponseBytes(long bytes) {
    kubeletBodyBytes.record(bytes);
  }

  public void pollFailure(Endpoint endpoint, FailureReason reason) {
    pollFailure(endpoint, reason, 1);
  }

  private void pollFailure(Endpoint endpoint, FailureReason reason, int n) {
    pollFailures
        .computeIfAbsent(
            endpoint.tag + "/" + reason.tag(),
            k ->
                Counter.builder(PREFIX + "kubelet.poll.failures")
                    .description("Failed kubelet requests by reason")
                    .tag("endpoint", endpoint.tag)
                    .tag("reason", reason.tag())
                    .register(registry))
        .increment(n);
  }

  /**
   * A kubelet entry whose identity Kubernetes would refuse, by the field that failed; its reply is
   * refused whole (and counted as a {@code decode} failure besides).
   */
  public void invalidKubeletPod(Endpoint endpoint, PodIdentity.Field field) {
    invalidKubeletPod(endpoint, field, 1);
  }

  private void invalidKubeletPod(Endpoint endpoint, PodIdentity.Field field, int n) {
    invalidPods
        .computeIfAbsent(
            endpoint.tag + "/" + field.tag(),
            k ->
                Counter.builder(PREFIX + "kubelet.invalid.pods")
                    .description("Kubelet entries refused for a name, namespace or UID")
                    .tag("endpoint", endpoint.tag)
                    .tag("field", field.tag())
                    .register(registry))
        .increment(n);
  }

  public void runtimeViewAvailable(boolean available) {
    runtimeAvailable.set(available ? 1 : 0);
  }

  // ---- views and cycles ----

  public void view(View view, int pods, long observedAtMillis) {
    viewPods.get(view).set(pods);
    viewObservedMillis.get(view).set(observedAtMillis);
  }

  /**
   * Counts a cycle; {@code untrustedReason} is null for a trusted one (a bounded word otherwise).
   */
  public void cycle(boolean isTrusted, String untrustedReason) {
    cycles.increment();
    trusted.set(isTrusted ? 1 : 0);
    if (!isTrusted) {
      untrustedCycles(untrustedReason).increment();
    }
  }

  private Counter untrustedCycles(String reason) {
    return untrustedCycles.computeIfAbsent(
        reason,
        r ->
            Counter.builder(PREFIX + "untrusted.cycles")
                .description("Cycles that drew no verdict, by the first reason")
                .tag("reason", r)
                .register(registry));
  }

  /** Binds informer counters that the informer owns. */
  public <T> void informer(
      T source, ToDoubleFunction<T> relists, ToDoubleFunction<T> watchRestarts) {
    FunctionCounter.builder(PREFIX + "informer.relists", source, relists)
        .description("Full re-lists of the pod informer (410 Gone, broken watch)")
        .register(registry);
    FunctionCounter.builder(PREFIX + "informer.watch.restarts", source, watchRestarts)
        .description("Pod watch restarts")
        .register(registry);
  }

  // ---- drifts ----

  public void driftCounts(Map<DriftKind, Integer> active, Map<DriftKind, Integer> suspected) {
    for (DriftKind k : DriftKind.values()) {
      driftsActive.get(k).set(active.getOrDefault(k, 0));
      driftsSuspected.get(k).set(suspected.getOrDefault(k, 0));
    }
  }

  public void driftConfirmed(DriftKind kind, Duration afterFirstSeen) {
    driftsDetected.get(kind).increment();
    confirmationLatency.get(kind).record(afterFirstSeen);
  }

  public void driftCleared(DriftKind kind) {
    driftsCleared.get(kind).increment();
  }

  // ---- repair ----

  /**
   * The {@code outcome} tags of {@code stateprobe_repairs_total}. Every one exists at 0 for every
   * catalog entry from the moment the catalog loads ({@link #repairScripts}): {@code increase()}
   * over a series that appears with its first count misses that count, and an alert on "three
   * failures" would need four.
   */
  public static final List<String> REPAIR_OUTCOMES =
      List.of("succeeded", "failed", "timed_out", "skipped", "unresolved", "resolved");

  /** {@code outcome}: one of {@link #REPAIR_OUTCOMES}. */
  public void repair(String script, String outcome) {
    repairCounter(script, outcome).increment();
  }

  /**
   * Registers the repair counters of {@code scripts} at 0, for every outcome. Called when a catalog
   * loads; scripts a later catalog drops keep their series (a counter does not go back).
   */
  public void repairScripts(Collection<String> scripts) {
    for (String script : scripts) {
      for (String outcome : REPAIR_OUTCOMES) {
        repairCounter(script, outcome);
      }
    }
  }

  private Counter repairCounter(String script, String outcome) {
    if (!REPAIR_OUTCOMES.contains(outcome)) {
      throw new IllegalArgumentException(
          "repair outcome '" + outcome + "' is not one of " + REPAIR_OUTCOMES);
    }
    return repairs.computeIfAbsent(
        script + "/" + outcome,
        k ->
            Counter.builder(PREFIX + "repairs")
                .description("Repair attempts by script and outcome")
                .tag("script", script)
                .tag("outcome", outcome)
                .register(registry));
  }

  public void repairDuration(String script, Duration took) {
    repairDuration
        .computeIfAbsent(
            script,
            s ->
                Timer.builder(PREFIX + "repair.duration")
                    .description("Script run time")
                    .tag("script", s)
                    .serviceLevelObjectives(
                        ms(100), ms(1000), ms(5000), ms(15000), ms(60000), ms(300000))
                    .register(registry))
        .record(took);
  }

  public void repairStartLatency(Duration sinceConfirmed) {
    repairStartLatency.record(sinceConfirmed);
  }

  /**
   * {@code reason}: concurrency, hourly, cooldown, backoff, max_attempts, circuit_open, paused,
   * target_busy.
   */
  public void throttled(String reason) {
    throttled
        .computeIfAbsent(
            reason,
            r ->
                Counter.builder(PREFIX + "repairs.throttled")
                    .description("Repairs held back by a limit, by reason")
                    .tag("reason", r)
                    .register(registry))
        .increment();
  }

  public void circuitOpen(boolean open) {
    circuitOpen.set(open ? 1 : 0);
  }

  /** One breaker step: its state, the drifts it counted and the threshold it compared them with. */
  public void circuit(boolean open, int drifts, int threshold) {
    circuitOpen(open);
    circuitDrifts.set(drifts);
    circuitThreshold.set(threshold);
  }

  /** The {@code reason} values of {@code stateprobe_fleet_brake_reason}. */
  public static final List<String> FLEET_BRAKE_REASONS =
      List.of("on", "stale", "missing", "off", "disabled");

  /** The agent's reading of the fleet brake: whether it holds, and its reason's tag. */
  public void fleetBrake(boolean holds, String reason) {
    if (!fleetBrakeReason.containsKey(reason)) {
      throw new IllegalArgumentException("unknown fleet brake reason " + reason);
    }
    fleetBrake.set(holds ? 1 : 0);
    fleetBrakeReason.forEach((r, v) -> v.set(r.equals(reason) ? 1 : 0));
  }

  /**
   * The coordinator's own metrics ({@code state-probe coordinator}; README, Fleet storm brake). A
   * separate registry from any agent's: the coordinator is its own process.
   */
  public static final class Coordinator {
    private final AtomicLong leader = new AtomicLong();
    private final AtomicLong nodes = new AtomicLong();
    private final AtomicLong drifting = new AtomicLong();
    private final AtomicLong brake = new AtomicLong();
    private final Counter published;
    private final Counter publishFailures;
    private final Map<String, Counter> changes = new ConcurrentHashMap<>();

    public Coordinator(MeterRegistry registry) {
      Gauge.builder(PREFIX + "coordinator.leader", leader, AtomicLong::get)
          .description("1 while this coordinator holds the leader Lease")
          .register(registry);
      Gauge.builder(PREFIX + "coordinator.nodes", nodes, AtomicLong::get)
          .description("Nodes counted in the last decision")
          .register(registry);
      Gauge.builder(PREFIX + "coordinator.nodes.drifting", drifting, AtomicLong::get)
          .description("Nodes with a repair record in FLEET_STORM_WINDOW at the last decision")
          .register(registry);
      Gauge.builder(PREFIX + "coordinator.brake", brake, AtomicLong::get)
          .description("1 while the published fleet storm brake is on")
          .register(registry);
      published =
          Counter.builder(PREFIX + "coordinator.heartbeats")
              .description("Brake heartbeats written")
              .register(registry);
      publishFailures =
          Counter.builder(PREFIX + "coordinator.heartbeat.failures")
              .description("Brake heartbeats that failed to write")
              .register(registry);
      for (String to : List.of("on", "off")) {
        changes.put(
            to,
            Counter.builder(PREFIX + "coordinator.brake.changes")
                .description("Times the published brake turned on or off")
                .tag("to", to)
                .register(registry));
      }
    }

    public void leader(boolean isLeader) {
      leader.set(isLeader ? 1 : 0);
    }

    public void decision(int nodeCount, int driftingNodes, boolean on) {
      nodes.set(nodeCount);
      drifting.set(driftingNodes);
      brake.set(on ? 1 : 0);
    }

    public void heartbeat(boolean ok) {
      (ok ? published : publishFailures).increment();
    }

    public void changed(boolean on) {
      changes.get(on ? "on" : "off").increment();
    }
  }

  public void paused(boolean isPaused) {
    paused.set(isPaused ? 1 : 0);
  }

  /** Sets the records-by-phase gauge for every phase given; phases not given keep their value. */
  public void recordsByPhase(Map<String, Integer> counts) {
    counts.forEach(
        (phase, n) ->
            recordsByPhase
                .computeIfAbsent(
                    phase,
                    p -> {
                      AtomicLong holder = new AtomicLong();
                      Gauge.builder(PREFIX + "repair.records", holder, AtomicLong::get)
                          .description("ConsistencyRepairJob records of this node by phase")
                          .tag("phase", p)
                          .register(registry);
                      return holder;
                    })
                .set(n));
  }

  public void catalogReloaded(boolean ok) {
    (ok ? catalogReloads : catalogReloadFailures).increment();
  }

  /** Kubernetes Events sent, by reason ({@code DriftConfirmed}, {@code RepairStarted}, ...). */
  public void event(String reason) {
    events
        .computeIfAbsent(
            reason,
            r ->
                Counter.builder(PREFIX + "events")
                    .description("Kubernetes Events written, by reason")
                    .tag("reason", r)
                    .register(registry))
        .increment();
  }

  // Cluster repair budget (repair/budget). Registered when the budget is made, which is when the
  // repair side is built: a node that never repairs has none of these series.
  private final AtomicLong clusterSlotsHeld = new AtomicLong();
  private final Map<String, Counter> clusterBudgetWaits = new ConcurrentHashMap<>();
  private final Map<String, Counter> clusterLeaseErrors = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicBoolean clusterBudgetRegistered =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** The wait reasons of {@code stateprobe_cluster_budget_waits_total}. */
  public static final List<String> CLUSTER_BUDGET_WAIT_REASONS =
      List.of("no_free_slot", "hourly_cap", "api_error");

  /** The {@code call}/{@code kind} pairs of {@code stateprobe_cluster_lease_errors_total}. */
  public static final List<List<String>> CLUSTER_LEASE_ERRORS =
      List.of(
          List.of("list", "error"),
          List.of("create", "conflict"),
          List.of("create", "error"),
          List.of("update", "conflict"),
          List.of("update", "error"),
          List.of("update", "lost"));

  /** Slots this agent holds now; the first call registers the budget's series at zero. */
  public void clusterSlotsHeld(int n) {
    if (clusterBudgetRegistered.compareAndSet(false, true)) {
      Gauge.builder(PREFIX + "cluster.slot.held", clusterSlotsHeld, AtomicLong::get)
          .description("Cluster repair slots (Leases) this agent holds")
          .register(registry);
      CLUSTER_BUDGET_WAIT_REASONS.forEach(r -> clusterBudgetWait(r, 0));
      CLUSTER_LEASE_ERRORS.forEach(p -> clusterLeaseError(p.get(0), p.get(1), 0));
    }
    clusterSlotsHeld.set(n);
  }

  /** A repair started waiting for the cluster budget, or its reason changed. */
  public void clusterBudgetWait(String reason) {
    clusterBudgetWait(reason, 1);
  }

  private void clusterBudgetWait(String reason, int n) {
    clusterBudgetWaits
        .computeIfAbsent(
            reason,
            r ->
                Counter.builder(PREFIX + "cluster.budget.waits")
                    .description("Repairs that waited for the cluster budget, by reason")
                    .tag("reason", r)
                    .register(registry))
        .increment(n);
  }

  /**
   * A slot Lease call failed: {@code call} list/create/update, {@code kind} conflict/error/lost.
   */
  public void clusterLeaseError(String call, String kind) {
    clusterLeaseError(call, kind, 1);
  }

  private void clusterLeaseError(String call, String kind, int n) {
    clusterLeaseErrors
        .computeIfAbsent(
            call + "/" + kind,
            k ->
                Counter.builder(PREFIX + "cluster.lease.errors")
                    .description("Slot Lease API calls that failed, by call and kind")
                    .tag("call", call)
                    .tag("kind", kind)
                    .register(registry))
        .increment(n);
  }

  // ---- consistency policies ----

  /** The bounded {@code level} tag values: {@code ConsistencyLevel.tag()}. */
  public static final List<String> LEVELS = List.of("eventual", "strict", "critical");

  /** The policies of the agent's last snapshot, by {@code state} (valid, invalid). */
  public void policies(int valid, int invalid) {
    policyMeters.valid.set(valid);
    policyMeters.invalid.set(invalid);
  }

  /** A policy (or a new version of one) the agent refused. */
  public void policyInvalid() {
    policyMeters.refused.increment();
  }

  /** A drift confirmed on a pod of {@code level} (one of {@link #LEVELS}). */
  public void driftConfirmedAtLevel(String level) {
    Counter c = policyMeters.confirmedByLevel.get(level);
    if (c == null) {
      throw new IllegalArgumentException("not a level tag: " + level);
    }
    c.increment();
  }

  /** Registered at 0 up front: a zero is a fact, an absent series is not. */
  private static final class PolicyMeters {
    final AtomicLong valid = new AtomicLong();
    final AtomicLong invalid = new AtomicLong();
    final Counter refused;
    final Map<String, Counter> confirmedByLevel = new java.util.HashMap<>();

    PolicyMeters(MeterRegistry registry) {
      Gauge.builder(PREFIX + "policies", valid, AtomicLong::get)
          .description("ConsistencyPolicies in the agent's last snapshot, by state")
          .tag("state", "valid")
          .register(registry);
      Gauge.builder(PREFIX + "policies", invalid, AtomicLong::get)
          .description("ConsistencyPolicies in the agent's last snapshot, by state")
          .tag("state", "invalid")
          .register(registry);
      refused =
          Counter.builder(PREFIX + "policy.invalid")
              .description("ConsistencyPolicy versions the agent refused as invalid")
              .register(registry);
      for (String level : LEVELS) {
        confirmedByLevel.put(
            level,
            Counter.builder(PREFIX + "drifts.confirmed.level")
                .description("Drifts confirmed, by the consistency level of their pod")
                .tag("level", level)
                .register(registry));
      }
    }
  }

  @Override
  public void close() {
    gcMetrics.close();
  }
}
