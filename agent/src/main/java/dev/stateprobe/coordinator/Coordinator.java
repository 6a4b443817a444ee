package dev.stateprobe.coordinator;

import dev.stateprobe.fleet.BrakeObject;
import dev.stateprobe.fleet.FleetStorm;
import dev.stateprobe.fleet.RecordSummary;
import dev.stateprobe.fleet.StormState;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.report.Logfmt;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.api.model.NodeList;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of the coordinator. It campaigns for the leader Lease ({@link
 * CoordinatorConfig#LEADER_LEASE}) with fabric8's {@code LeaderElector}; while it leads, it watches
 * every ConsistencyRepairJob (an informer), counts the Nodes now and then (a {@code limit=1} LIST:
 * {@code remainingItemCount} answers without sending the nodes), decides with {@link FleetStorm}
 * every heartbeat and writes the brake Lease ({@link BrakeObject}), its renewTime being the
 * heartbeat. A change of state is also an Event on the brake Lease ({@code FleetBrakeOn}, {@code
 * FleetBrakeOff}).
 *
 * <p>A new record (or a record's new attempt) is also decided on {@link CoordinatorConfig#settle()}
 * after it appeared, not only at the next heartbeat: an agent starts that repair's script only
 * under a decision made that long after its record, one that counted it (README, Fleet storm
 * brake), so the added wait is about {@code settle}, not a heartbeat. Records made in the same
 * second share that step (their creation times have whole seconds).
 *
 * <p>A replica that loses the lead stops writing at once; the next leader seeds its state from the
 * brake it finds (an on brake stays on, and its hold starts again), so a failover never lets a
 * storm through. With no leader at all the heartbeat goes stale and the agents read the brake as
 * on.
 *
 * <p>Threading: one scheduler thread runs the steps and the writes; the elector runs on its own
 * thread. {@link #step()} and the state it touches are confined to the scheduler thread.
 */
public final class Coordinator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");
  static final String CONTROLLER = "stateprobe.dev/coordinator";
  private static final DateTimeFormatter MICRO =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

  private final KubernetesClient client;
  private final CoordinatorConfig config;
  private final Clock clock;
  private final Metrics.Coordinator metrics;
  private final ScheduledExecutorService scheduler;
  private final AtomicInteger eventSeq = new AtomicInteger();

  private volatile boolean closed;
  private volatile boolean leading;
  private volatile CompletableFuture<?> electing;
  private volatile String leader = "";

  // Confined to the scheduler thread.
  private SharedIndexInformer<ConsistencyRepairJob> records;
  private PolicyEvents policyEvents;
  private ScheduledFuture<?> ticker;
  private StormState state;
  private Lease written;
  private int nodeCount = -1;
  private Instant nodesCountedAt = Instant.MIN;
  private Instant promptDue;

  /** Records whose settle ends this close together share one extra decision. */
  static final Duration PROMPT_COALESCE = Duration.ofMillis(250);

  public Coordinator(
      KubernetesClient client, CoordinatorConfig config, Clock clock, Metrics.Coordinator metrics) {
    this.client = Objects.requireNonNull(client, "client");
    this.config = Objects.requireNonNull(config, "config");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "state-probe-coordinator");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts campaigning; returns at once. */
  public synchronized Coordinator start() {
    if (closed) {
      throw new IllegalStateException("coordinator is closed");
    }
    campaign();
    return this;
  }

  /** fabric8's elector gives up after losing the lead once: campaign again until closed. */
  private synchronized void campaign() {
    if (closed) {
      return;
    }
    var elector =
        client
            .leaderElector()
            .withConfig(
                new LeaderElectionConfigBuilder()
                    .withName(CoordinatorConfig.LEADER_LEASE)
                    .withLock(
                        new LeaseLock(
                            config.namespace(), CoordinatorConfig.LEADER_LEASE, config.identity()))
                    .withLeaseDuration(config.leaseDuration())
                    .withRenewDeadline(config.renewDeadline())
                    .withRetryPeriod(config.retryPeriod())
                    .withReleaseOnCancel(true)
                    .withLeaderCallbacks(
                        new LeaderCallbacks(
                            () -> onScheduler(this::startLeading),
                            () -> onScheduler(this::stopLeading),
                            this::newLeader))
                    .build())
            .build();
    CompletableFuture<?> f = elector.start();
    electing = f;
    f.whenComplete(
        (ok, e) -> {
          if (!closed) {
            LOG.info("event=coordinator_campaign_again");
            scheduler.schedule(
                this::campaign, config.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
          }
        });
  }

  /** Runs on the scheduler thread; after {@link #close} there is nothing left to run. */
  private void onScheduler(Runnable r) {
    try {
      scheduler.execute(r);
    } catch (RejectedExecutionException closing) {
      // closed: the lead is being given up anyway
    }
  }

  private void newLeader(String identity) {
    leader = identity;
    LOG.info("event=coordinator_leader leader={} self={}", identity, config.identity());
  }

  /** This replica leads: it is the only one writing the brake. */
  public boolean leading() {
    return leading;
  }

  /** The current leader's identity as last seen, empty before any. */
  public String leader() {
    return leader;
  }

  private void startLeading() {
    if (closed) {
      return;
    }
    leading = true;
    metrics.leader(true);
    LOG.info("event=coordinator_leading identity={}", config.identity());
    written = null;
    state = seed();
    promptDue = null;
    records =
        client
            .resources(ConsistencyRepairJob.class)
            .inform(
                new ResourceEventHandler<ConsistencyRepairJob>() {
                  @Override
                  public void onAdd(ConsistencyRepairJob job) {
                    onScheduler(() -> decideSoon(job));
                  }

                  @Override
                  public void onUpdate(ConsistencyRepairJob before, ConsistencyRepairJob job) {
                    if (!summarize(job).equals(summarize(before))) {
                      onScheduler(() -> decideSoon(job));
                    }
                  }

                  @Override
                  public void onDelete(ConsistencyRepairJob job, boolean unknownFinalState) {}
                });
    policyEvents = new PolicyEvents(client, config.namespace(), config.identity(), clock).start();
    nodesCountedAt = Instant.MIN;
    ticker =
        scheduler.scheduleWithFixedDelay(
            this::stepSafely, 0, config.heartbeat().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void stopLeading() {
    boolean was = leading;
    leading = false;
    metrics.leader(false);
    if (ticker != null) {
      ticker.cancel(false);
      ticker = null;
    }
    if (records != null) {
      records.stop();
      records = null;
    }
    if (policyEvents != null) {
      policyEvents.close();
      policyEvents = null;
    }
    if (was) {
      LOG.info("event=coordinator_stopped_leading identity={}", config.identity());
    }
  }

  /** The state found on the brake Lease: on stays on (its hold starts again), else off. */
  private StormState seed() {
    Instant now = clock.instant();
    try {
      Lease found = brakeLeases().withName(BrakeObject.NAME).get();
      if (found != null) {
        BrakeObject b = BrakeLeases.read(found);
        if (!b.saysOff()) {
          Instant since =
              Optional.ofNullable(b.annotations().get(BrakeObject.SINCE))
                  .flatMap(BrakeLeases::instant)
                  .orElse(now);
          return new StormState(true, since, Optional.empty(), 0, 0, b.reason());
        }
      }
    } catch (KubernetesClientException e) {
      LOG.warn("event=coordinator_seed_failed error=\"{}\"", Logfmt.escaped(e.getMessage()));
      // Unknown: start on, as a missing coordinator would have meant to the agents.
      return new StormState(true, now, Optional.empty(), 0, 0, "coordinator starting");
    }
    return StormState.initial(now);
  }

  /**
   * One more decision at the end of this record's settle (at once if that has passed), unless one
   * is already due within {@link #PROMPT_COALESCE} after it. Scheduler thread.
   */
  private void decideSoon(ConsistencyRepairJob job) {
    if (!leading || closed) {
      return;
    }
    Optional<RecordSummary> r = summarize(job);
    if (r.isEmpty()) {
      return;
    }
    Instant now = clock.instant();
    Instant target = r.get().at().plus(config.settle());
    if (target.isBefore(now)) {
      target = now;
    }
    if (promptDue != null
        && !promptDue.isBefore(target)
        && promptDue.isBefore(target.plus(PROMPT_COALESCE))) {
      return;
    }
    if (promptDue == null || target.isAfter(promptDue)) {
      promptDue = target;
    }
    scheduler.schedule(
        this::stepSafely, Duration.between(now, target).toMillis() + 1, TimeUnit.MILLISECONDS);
  }

  private void stepSafely() {
    try {
      step();
    } catch (RuntimeException e) {
      metrics.heartbeat(false);
      LOG.warn("event=coordinator_step_failed error=\"{}\"", Logfmt.escaped(String.valueOf(e)));
    }
  }

  /** One decision and one heartbeat. Runs on the scheduler thread while leading. */
  void step() {
    if (!leading || closed || records == null) {
      return;
    }
    if (!records.hasSynced()) {
      // No decision from half a list: the heartbeat ages and the agents hold back meanwhile.
      return;
    }
    Instant now = clock.instant();
    if (nodeCount < 0 || !now.isBefore(nodesCountedAt.plus(config.nodeCountEvery()))) {
      nodeCount = countNodes();
      nodesCountedAt = now;
    }
    List<RecordSummary> summaries = new ArrayList<>();
    for (ConsistencyRepairJob job : records.getStore().list()) {
      summarize(job).ifPresent(summaries::add);
    }
    StormState before = state;
    state = FleetStorm.decide(summaries, nodeCount, now, before, config.storm());
    metrics.decision(state.nodes(), state.drifting(), state.on());
    publish(state, now);
    metrics.heartbeat(true);
    if (state.changedFrom(before)) {
      metrics.changed(state.on());
      LOG.warn(
          "event=fleet_brake_{} drifting={} nodes={} reason=\"{}\"",
          state.on() ? "on" : "off",
          state.drifting(),
          state.nodes(),
          Logfmt.escaped(state.reason()));
      event(state, now);
    }
  }

  /** The record's node, and the later of its creation and its latest attempt's start. */
  static Optional<RecordSummary> summarize(ConsistencyRepairJob job) {
    if (job.getSpec() == null || job.getMetadata() == null) {
      return Optional.empty();
    }
    Optional<Instant> created =
        Optional.ofNullable(job.getMetadata().getCreationTimestamp()).flatMap(BrakeLeases::instant);
    Optional<Instant> started = Optional.ofNullable(job.getStatus()).map(s -> s.startedAt());
    Optional<Instant> at =
        created.isEmpty()
            ? started
            : started.filter(s -> s.isAfter(created.get())).or(() -> created);
    if (at.isEmpty()) {
      at = Optional.of(job.getSpec().drift().confirmedAt());
    }
    return Optional.of(new RecordSummary(job.getSpec().nodeName(), at.get()));
  }

  /**
   * The number of Nodes. A {@code limit=1} LIST: kube-apiserver answers with one node and {@code
   * remainingItemCount}; a server that gives no count is paged through.
   */
  private int countNodes() {
    NodeList first = client.nodes().list(new ListOptionsBuilder().withLimit(1L).build());
    Long remaining =
        first.getMetadata() == null ? null : first.getMetadata().getRemainingItemCount();
    String cont = first.getMetadata() == null ? null : first.getMetadata().getContinue();
    if (remaining != null) {
      return (int) (first.getItems().size() + remaining);
    }
    int count = first.getItems().size();
    while (cont != null && !cont.isEmpty()) {
      NodeList page =
          client.nodes().list(new ListOptionsBuilder().withLimit(500L).withContinue(cont).build());
      count += page.getItems().size();
      cont = page.getMetadata() == null ? null : page.getMetadata().getContinue();
    }
    return count;
  }

  private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<
          Lease,
          io.fabric8.kubernetes.api.model.coordination.v1.LeaseList,
          io.fabric8.kubernetes.client.dsl.Resource<Lease>>
      brakeLeases() {
    return client.leases().inNamespace(config.namespace());
  }

  /**
   * Writes the brake: an update with the resourceVersion this leader last wrote (one request per
   * heartbeat), a read first when it has none or lost a race (after a failover).
   */
  private void publish(StormState s, Instant now) {
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(BrakeObject.STATE, s.on() ? BrakeObject.ON : BrakeObject.OFF);
    annotations.put(BrakeObject.REASON, s.reason());
    annotations.put(BrakeObject.DRIFTING, Integer.toString(s.drifting()));
    annotations.put(BrakeObject.NODES, Integer.toString(s.nodes()));
    annotations.put(BrakeObject.SINCE, s.since().toString());
    Lease desired =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(BrakeObject.NAME)
            .withNamespace(config.namespace())
            .addToLabels("app.kubernetes.io/name", "state-probe")
            .addToLabels("app.kubernetes.io/component", "fleet-brake")
            .addToAnnotations(annotations)
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(config.identity())
            .withAcquireTime(s.since().atZone(ZoneOffset.UTC))
            .withRenewTime(now.atZone(ZoneOffset.UTC))
            .endSpec()
            .build();
    for (int attempt = 0; attempt < 2; attempt++) {
      try {
        if (written == null) {
          Lease found = brakeLeases().withName(BrakeObject.NAME).get();
          if (found == null) {
            written = brakeLeases().resource(desired).create();
            return;
          }
          written = found;
        }
        desired.getMetadata().setResourceVersion(written.getMetadata().getResourceVersion());
        written = brakeLeases().resource(desired).update();
        return;
      } catch (KubernetesClientException e) {
        written = null;
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT
            && e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
          throw e;
        }
      }
    }
    throw new IllegalStateException("brake Lease changed under this leader twice in a row");
  }

  /** {@code FleetBrakeOn} (Warning) or {@code FleetBrakeOff} (Normal) on the brake Lease. */
  private void event(StormState s, Instant now) {
    if (written == null) {
      return;
    }
    try {
      client
          .events()
          .v1()
          .events()
          .inNamespace(config.namespace())
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withName(
                      BrakeObject.NAME
                          + "."
                          + Long.toHexString(now.toEpochMilli())
                          + eventSeq.incrementAndGet())
                  .withNamespace(config.namespace())
                  .endMetadata()
                  .withEventTime(new MicroTime(MICRO.format(now)))
                  .withReportingController(CONTROLLER)
                  .withReportingInstance(config.identity())
                  .withAction("Brake")
                  .withReason(s.on() ? "FleetBrakeOn" : "FleetBrakeOff")
                  .withType(s.on() ? "Warning" : "Normal")
                  .withRegarding(
                      new ObjectReferenceBuilder()
                          .withApiVersion("coordination.k8s.io/v1")
                          .withKind("Lease")
                          .withNamespace(config.namespace())
                          .withName(BrakeObject.NAME)
                          .withUid(written.getMetadata().getUid())
                          .build())
                  .withNote(note(s.reason()))
                  .build())
          .create();
    } catch (KubernetesClientException e) {
      LOG.warn("event=coordinator_event_failed error=\"{}\"", Logfmt.escaped(e.getMessage()));
    }
  }

  /** events.k8s.io/v1 caps a note at 1 kB. */
  private static String note(String s) {
    return s.length() <= 1000 ? s : s.substring(0, 1000);
  }

  /**
   * Ends this replica as {@code SIGKILL} would: its API client (the one it was given) closes first,
   * so the lead is not given back and nothing more is written; the other replica takes over only
   * once the leader Lease expires, and meanwhile the brake's heartbeat ages at the agents.
   */
  public void kill() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    client.close();
    leading = false;
    scheduler.shutdownNow();
    CompletableFuture<?> f = electing;
    if (f != null) {
      f.cancel(true);
    }
  }

  /** Stops campaigning and, if leading, releases the lead (the other replica takes over now). */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    CompletableFuture<?> f = electing;
    if (f != null) {
      f.cancel(true);
    }
    onScheduler(this::stopLeading);
    scheduler.shutdown();
    try {
      scheduler.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
