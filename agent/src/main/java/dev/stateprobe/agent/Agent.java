package dev.stateprobe.agent;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.controlplane.ControlPlaneSource;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftDetector;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.DriftTracker;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.drift.Transition;
import dev.stateprobe.drift.Trust;
import dev.stateprobe.drift.TrustGate;
import dev.stateprobe.http.AgentState;
import dev.stateprobe.kubelet.KubeletException;
import dev.stateprobe.kubelet.KubeletSource;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.policy.InvalidPolicy;
import dev.stateprobe.policy.PodPolicies;
import dev.stateprobe.policy.PodPolicy;
import dev.stateprobe.policy.PolicySet;
import dev.stateprobe.policy.PolicySource;
import dev.stateprobe.report.Logfmt;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.PodRef;
import dev.stateprobe.view.RuntimeView;
import dev.stateprobe.view.Snapshot;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one detection cycle every poll interval: poll the kubelet, take the informer's snapshot, ask
 * the trust gate, detect, track, publish. Cycles never overlap: a tick that finds the last cycle
 * still polling is skipped (a slow kubelet must not pile up requests).
 *
 * <p>All mutable fields are touched only on the agent's Vert.x context; readers get the immutable
 * {@link CycleResult} through {@link #last()}.
 */
public final class Agent implements AgentState, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final Vertx vertx;
  private final AgentConfig config;
  private final ControlPlaneSource controlPlane;
  private final KubeletSource kubelet;
  private final Metrics metrics;
  private final Clock clock;
  private final TrustGate.Rules trustRules;
  private final DriftDetector detector = new DriftDetector();
  private final AtomicReference<CycleResult> last = new AtomicReference<>();
  private final List<Consumer<CycleResult>> listeners = new CopyOnWriteArrayList<>();
  private final PolicySource policies;
  private final Set<String> reportedInvalid = new HashSet<>();

  /**
   * Every cycle's state is touched here only. Made once, in the constructor (the caller's context
   * when constructed on a Vert.x thread, a new event-loop context otherwise): a context made lazily
   * by whichever thread came first would be read and written from several threads.
   */
  private final Context context;

  private DriftTracker tracker;
  private volatile long cycle; // written on the context only
  private boolean inFlight;
  private long timerId = -1;
  private volatile boolean closed;
  private final Promise<Void> stopped = Promise.promise();
  private KubeletView lastKubelet;
  private volatile boolean everKubeletOk;
  private RuntimeView lastRuntime;
  private Boolean lastTrusted;
  private long lastRelists;
  private long lastWatchRestarts;
  private Instant lastWatchRestartAt;
  private boolean lastRuntimeAvailable = true;

  public Agent(
      Vertx vertx,
      AgentConfig config,
      ControlPlaneSource controlPlane,
      KubeletSource kubelet,
      Metrics metrics,
      Clock clock) {
    this(vertx, config, controlPlane, kubelet, metrics, clock, PolicySource.NONE);
  }

  /**
   * @param policies the cluster's ConsistencyPolicies; each cycle reads one snapshot of them
   */
  public Agent(
      Vertx vertx,
      AgentConfig config,
      ControlPlaneSource controlPlane,
      KubeletSource kubelet,
      Metrics metrics,
      Clock clock,
      PolicySource policies) {
    this.policies = policies;
    this.vertx = vertx;
    this.config = config;
    this.controlPlane = controlPlane;
    this.kubelet = kubelet;
    this.metrics = metrics;
    this.clock = clock;
    this.trustRules =
        new TrustGate.Rules(
            config.detection().quietPeriod(),
            config.timings().kubeletViewMaxAge(),
            config.timings().runtimeViewMaxAge());
    this.tracker =
        DriftTracker.initial(config.detection().windows(), config.detection().minObservations());
    this.context = vertx.getOrCreateContext();
  }

  /** Called on the agent's context after every cycle, trusted or not. Must not block. */
  public void onCycle(Consumer<CycleResult> listener) {
    listeners.add(listener);
  }

  /** The last published cycle, or {@code null} before the first one. */
  @Override
  public CycleResult last() {
    return last.get();
  }

  /** Whether a kubelet poll has ever succeeded (for {@code /readyz}). */
  @Override
  public boolean kubeletEverOk() {
    return everKubeletOk;
  }

  @Override
  public ControlPlaneSource controlPlane() {
    return controlPlane;
  }

  @Override
  public KubeletSource kubelet() {
    return kubelet;
  }

  /**
   * Runs {@code task} on the agent's context, so that work that shares the loop's state, such as
   * the repair controller's start, never races the loop.
   */
  public <T> Future<T> onContext(java.util.function.Supplier<Future<T>> task) {
    Promise<T> p = Promise.promise();
    context.runOnContext(v -> task.get().onComplete(p));
    return p.future();
  }

  /**
   * Starts the periodic cycle on the agent's context; the first cycle runs at once, and one more
   * runs as soon as the informer has its first complete list if no cycle was trusted by then.
   *
   * <p>Why the extra cycle: at start-up the informer's first list usually ends after the first
   * kubelet poll, and that cycle is untrusted ({@code informer_not_synced}); waiting for the next
   * tick left the node without a verdict for up to a whole poll interval.
   */
  public void start() {
    context.runOnContext(
        v -> {
          if (!closed && timerId < 0) {
            timerId = vertx.setPeriodic(0, config.pollInterval().toMillis(), id -> tick());
            controlPlane.firstSync().thenRun(() -> context.runOnContext(x -> afterFirstSync()));
          }
        });
  }

  /**
   * A cycle in flight now takes the synced view when it finishes, and one already trusted needs no
   * help: only an idle loop whose last cycle was untrusted runs again.
   */
  private void afterFirstSync() {
    if (!closed && !inFlight && Boolean.FALSE.equals(lastTrusted)) {
      LOG.info("event=informer_synced cycle={} action=cycle_now", cycle + 1);
      runCycle();
    }
  }

  private void tick() {
    if (inFlight || closed) {
      return;
    }
    runCycle();
  }

  /** Runs one cycle now (tests drive the loop with this and a fake clock). */
  public Future<CycleResult> runCycle() {
    Promise<CycleResult> done = Promise.promise();
    context.runOnContext(
        v -> {
          if (inFlight) {
            done.fail("a cycle is already running");
            return;
          }
          if (closed) {
            done.fail("the agent is stopped");
            return;
          }
          inFlight = true;
          long id = ++cycle;
          Future<KubeletView> pods = call(kubelet::pollPods);
          Future<Optional<RuntimeView>> runtime = call(kubelet::pollRunningPods);
          // The sources complete on their own contexts and on the worker: come back here
          // before touching the loop's state.
          Future.join(pods, runtime)
              .onComplete(
                  ar ->
                      context.runOnContext(
                          x -> {
                            try {
                              CycleResult r = finish(id, pods, runtime);
                              done.complete(r);
                            } catch (RuntimeException e) {
                              LOG.error(
                                  "event=cycle_failed cycle={} error=\"{}\"",
                                  id,
                                  Logfmt.escaped(e.toString()),
                                  e);
                              done.fail(e);
                            } finally {
                              inFlight = false;
                              if (closed) {
                                stopped.tryComplete();
                              }
                            }
                          }));
        });
    return done.future();
  }

  /** A source that throws instead of failing its future must not leave the loop in flight. */
  private static <T> Future<T> call(java.util.function.Supplier<Future<T>> poll) {
    try {
      return poll.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private CycleResult finish(
      long id, Future<KubeletView> pods, Future<Optional<RuntimeView>> runtime) {
    Instant now = clock.instant();
    Optional<String> kubeletError = Optional.empty();
    boolean podsOk = pods.succeeded();
    if (podsOk) {
      lastKubelet = pods.result();
      if (!everKubeletOk) {
        LOG.info(
            "event=kubelet_first_poll cycle={} pods={} source=\"{}\"",
            id,
            lastKubelet.size(),
            Logfmt.escaped(kubelet.describe()));
      }
      everKubeletOk = true;
    } else {
      kubeletError = Optional.of(describe(pods.cause()));
    }

    boolean runtimeAvailable = kubelet.runtimeAvailable();
    if (runtimeAvailable != lastRuntimeAvailable) {
      LOG.info(
          "event=runtime_view_{} cycle={}", runtimeAvailable ? "available" : "unavailable", id);
      lastRuntimeAvailable = runtimeAvailable;
    }

    ControlPlaneView api = controlPlane.snapshot(now);
    if (api.relists() != lastRelists) {
      LOG.info(
          "event=relist cycle={} relists={} resourceVersion={} quietUntil={}",
          id,
          api.relists(),
          Logfmt.value(api.resourceVersion()),
          api.lastRelistAt() == null ? "-" : trustRules.quietUntil(api.lastRelistAt()));
      lastRelists = api.relists();
    }
    if (api.watchRestarts() != lastWatchRestarts) {
      lastWatchRestartAt = now;
      LOG.info(
          "event=watch_restarted cycle={} watchRestarts={} quietUntil={}",
          id,
          api.watchRestarts(),
          trustRules.quietUntil(lastWatchRestartAt));
      lastWatchRestarts = api.watchRestarts();
    }
    TrustGate.Verdict verdict =
        TrustGate.judge(
            new TrustGate.Facts(
                id,
                now,
                api,
                Optional.ofNullable(lastKubelet),
                podsOk,
                runtime.succeeded() ? runtime.result() : Optional.ofNullable(lastRuntime),
                runtime.succeeded(),
                runtimeAvailable,
                lastWatchRestartAt),
            trustRules);
    Snapshot snapshot = verdict.snapshot();
    Trust trust = verdict.trust();
    lastRuntime = snapshot.runtime().orElse(null);

    List<Drift> seen =
        trust.trusted() ? detector.detect(api, lastKubelet, snapshot.runtime(), now) : List.of();
    PolicySet policySet = policies.snapshot();
    reportInvalid(id, policySet);
    PodPolicies podPolicies = podPolicies(policySet, api, seen);
    DriftTracker.Step step = tracker.step(trust.trusted(), seen, now, podPolicies);
    tracker = step.next();

    logTrust(id, trust);
    for (Transition t : step.transitions()) {
      logTransition(id, t, podPolicies.of(t.drift().key().target().uid()));
    }
    record(snapshot, trust, step, podPolicies);

    CycleResult result =
        new CycleResult(
            snapshot, trust, tracker.current(), step.transitions(), kubeletError, podPolicies);
    last.set(result);
    for (Consumer<CycleResult> l : listeners) {
      try {
        l.accept(result);
      } catch (RuntimeException e) {
        LOG.error(
            "event=listener_failed cycle={} error=\"{}\"", id, Logfmt.escaped(e.toString()), e);
      }
    }
    return result;
  }

  private void logTrust(long id, Trust trust) {
    if (lastTrusted == null || lastTrusted != trust.trusted()) {
      if (trust.trusted()) {
        LOG.info("event=trust_regained cycle={}", id);
      } else {
        LOG.warn("event=trust_lost cycle={} reasons={}", id, String.join(",", trust.reasons()));
      }
      lastTrusted = trust.trusted();
    }
  }

  /**
   * The settings of every pod this cycle's drifts are about, suspected ones included (their
   * windows). Labels come from the API server's copy of the pod, else the kubelet's (an orphan the
   * API no longer has): one lookup per drifting pod, none for the healthy rest.
   */
  private PodPolicies podPolicies(PolicySet set, ControlPlaneView api, List<Drift> seen) {
    if (set.valid().isEmpty() && set.synced()) {
      return PodPolicies.NONE;
    }
    PodPolicies.Builder b = PodPolicies.builder(set, config.pollInterval());
    for (Drift d : seen) {
      addPod(b, d.target(), api);
    }
    for (TrackedDrift d : tracker.current()) {
      addPod(b, d.drift().target(), api);
    }
    return b.build();
  }

  private void addPod(PodPolicies.Builder b, PodRef target, ControlPlaneView api) {
    PodRecord pod = api.podsByUid().get(target.uid());
    if (pod == null && lastKubelet != null) {
      pod = lastKubelet.podsByUid().get(target.uid());
    }
    b.pod(target.uid(), target.namespace(), pod == null ? Map.of() : pod.labels());
  }

  /**
   * An invalid policy is logged and counted once per version of it (it stays in every snapshot
   * until fixed). No Event on the policy from here: every agent of the cluster would write one.
   */
  private void reportInvalid(long id, PolicySet set) {
    metrics.policies(set.valid().size(), set.invalid().size());
    Set<String> now = new HashSet<>();
    for (InvalidPolicy bad : set.invalid()) {
      String version = bad.name() + "@" + bad.resourceVersion();
      now.add(version);
      if (!reportedInvalid.contains(version)) {
        LOG.warn(
            "event=policy_invalid cycle={} policy={} field={} error=\"{}\"",
            id,
            Logfmt.value(bad.name()),
            Logfmt.value(bad.field()),
            Logfmt.escaped(bad.message()));
        metrics.policyInvalid();
      }
    }
    reportedInvalid.retainAll(now);
    reportedInvalid.addAll(now);
  }

  private static void logTransition(long id, Transition t, PodPolicy policy) {
    TrackedDrift d = t.drift();
    String event =
        switch (t.type()) {
          case SUSPECTED -> "drift_suspected";
          case CONFIRMED -> "drift_confirmed";
          case CLEARED -> "drift_cleared";
          case DISMISSED -> "drift_dismissed";
        };
    LOG.info(
        "event={} cycle={} kind={} namespace={} name={} uid={} observations={} level={}"
            + " policy={} detail=\"{}\"",
        event,
        id,
        d.drift().kind().wireName(),
        Logfmt.value(d.drift().target().namespace()),
        Logfmt.value(d.drift().target().name()),
        Logfmt.value(d.drift().target().uid()),
        d.observations(),
        policy.level().wireName(),
        Logfmt.value(policy.policyName().isEmpty() ? "-" : policy.policyName()),
        Logfmt.escaped(d.drift().detail()));
  }

  private void record(Snapshot s, Trust trust, DriftTracker.Step step, PodPolicies policies) {
    metrics.cycle(trust.trusted(), trust.trusted() ? null : trust.reasons().getFirst());
    metrics.view(
        Metrics.View.API, s.controlPlane().size(), s.controlPlane().observedAt().toEpochMilli());
    s.kubelet()
        .ifPresent(
            k -> metrics.view(Metrics.View.KUBELET, k.size(), k.observedAt().toEpochMilli()));
    s.runtime()
        .ifPresent(
            r -> metrics.view(Metrics.View.RUNTIME, r.size(), r.observedAt().toEpochMilli()));
    metrics.runtimeViewAvailable(kubelet.runtimeAvailable());
    Map<DriftKind, Integer> active = new EnumMap<>(DriftKind.class);
    Map<DriftKind, Integer> suspected = new EnumMap<>(DriftKind.class);
    for (TrackedDrift d : step.next().current()) {
      (d.confirmed() ? active : suspected).merge(d.drift().kind(), 1, Integer::sum);
    }
    metrics.driftCounts(active, suspected);
    for (Transition t : step.transitions()) {
      switch (t.type()) {
        case CONFIRMED -> {
          metrics.driftConfirmed(
              t.drift().drift().kind(),
              Duration.between(t.drift().firstObservedAt(), t.drift().confirmedAt()));
          metrics.driftConfirmedAtLevel(policies.of(t.drift().key().target().uid()).level().tag());
        }
        case CLEARED -> metrics.driftCleared(t.drift().drift().kind());
        case SUSPECTED, DISMISSED -> {}
      }
    }
  }

  private static String describe(Throwable t) {
    if (t instanceof KubeletException k) {
      return k.reason().tag() + ": " + k.getMessage();
    }
    return t.toString();
  }

  /**
   * Stops the loop: no cycle starts after this; a cycle in flight still finishes and is published.
   * Completes when none is in flight any more, so the sources can be closed without pulling a
   * request from under it. Safe from any thread, before or after {@link #start()}.
   */
  public Future<Void> stop() {
    closed = true;
    context.runOnContext(
        v -> {
          if (timerId >= 0) {
            vertx.cancelTimer(timerId);
            timerId = -1;
          }
          if (!inFlight) {
            stopped.tryComplete();
          }
        });
    return stopped.future();
  }

  /** {@link #stop()} without waiting. The sources are closed by whoever made them. */
  @Override
  public void close() {
    stop();
  }

  /** Cycles run so far. */
  public long cycles() {
    return cycle;
  }
}
