package dev.stateprobe.repair.budget;

import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.report.Logfmt;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster repair budget on slot Leases (README, Cluster repair budget). One per agent; many in
 * one JVM make a simulated fleet (each with its own identity, store and context).
 *
 * <p>Taking: one read of the slot Leases, {@link SlotDecision#decide}, then a create or a
 * resourceVersion-conditional update of the chosen slot. A 409 (another agent wrote first) reads
 * again at once, up to {@link Settings#conflictRetries} times, then backs off. No slot (none free,
 * the hourly cap, or an API error): the waiting requests are told why and the next try is after a
 * jittered, doubling back-off ({@link Settings#retryMin} to {@link Settings#retryMax}, never later
 * than the next expiry the read showed, never sooner than {@code retryMin}). A slot given back by
 * this agent is offered to its own waiting requests at once.
 *
 * <p>Holding: renewed every third of its duration (the script's timeout plus {@link
 * Settings#margin}) with the resourceVersion last written; a 409 reads again and retries if the
 * holding is still this one, else the slot was lost (counted, logged; the script is not stopped: by
 * then it has run past its timeout and margin, so the executor is ending it anyway).
 *
 * <p>Threading: the state lives on the context the budget was made on; Lease calls run on the
 * worker pool and complete back on it; public methods may be called from any thread.
 */
public final class ClusterBudget implements RepairBudget {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  /**
   * How the budget waits and holds.
   *
   * @param retryMin first back-off after a slot was refused
   * @param retryMax back-off ceiling
   * @param margin added to a script's timeout for the Lease duration: the process tree's ending
   *     after a timeout, and one missed renewal
   * @param skew clock difference tolerated between agents before an unrenewed slot counts as free
   * @param conflictRetries 409s in a row answered by reading again at once, before backing off
   */
  public record Settings(
      Duration retryMin, Duration retryMax, Duration margin, Duration skew, int conflictRetries) {
    public Settings {
      Objects.requireNonNull(retryMin, "retryMin");
      Objects.requireNonNull(retryMax, "retryMax");
      Objects.requireNonNull(margin, "margin");
      Objects.requireNonNull(skew, "skew");
      if (retryMin.isNegative() || retryMin.isZero() || retryMax.compareTo(retryMin) < 0) {
        throw new IllegalArgumentException(
            "need 0 < retryMin <= retryMax, got " + retryMin + ", " + retryMax);
      }
    }

    public static Settings defaults() {
      return new Settings(
          Duration.ofSeconds(1),
          Duration.ofSeconds(30),
          Duration.ofSeconds(30),
          Duration.ofSeconds(10),
          3);
    }
  }

  private static final Comparator<Waiter> ORDER =
      Comparator.<Waiter>comparingInt(w -> -w.request.priority()).thenComparingLong(w -> w.seq);

  private final SlotStore store;
  private final SlotDecision.Rules rules;
  private final Settings settings;
  private final String me;
  private final Vertx vertx;
  private final Context ctx;
  private final WorkerExecutor worker;
  private final Metrics metrics;
  private final Clock clock;
  private final RandomGenerator random;

  private final PriorityQueue<Waiter> waiting = new PriorityQueue<>(ORDER);
  private final Map<Integer, Held> held = new HashMap<>();
  private long seq;
  private boolean trying;
  private long retryTimer = -1;
  private Duration backoff;
  private int conflicts;
  private boolean closed;

  private static final class Waiter {
    final RepairBudget.Request request;
    final long seq;
    final Promise<Slot> promise = Promise.promise();
    SlotDecision.Reason told;

    Waiter(RepairBudget.Request request, long seq) {
      this.request = request;
      this.seq = seq;
    }
  }

  private static final class Held {
    SlotView view;
    long renewTimer = -1;
    boolean writing;

    Held(SlotView view) {
      this.view = view;
    }
  }

  /**
   * Made on the context whose state it shares (the agent's); see the class comment.
   *
   * @param me this agent's identity, written as the Leases' holder: its node name
   */
  public ClusterBudget(
      SlotStore store,
      SlotDecision.Rules rules,
      Settings settings,
      String me,
      Vertx vertx,
      WorkerExecutor worker,
      Metrics metrics,
      Clock clock,
      RandomGenerator random) {
    this.store = store;
    this.rules = rules;
    this.settings = settings;
    this.me = me;
    this.vertx = vertx;
    this.ctx = vertx.getOrCreateContext();
    this.worker = worker;
    this.metrics = metrics;
    this.clock = clock;
    this.random = random;
    this.backoff = settings.retryMin();
    metrics.clusterSlotsHeld(0);
  }

  @Override
  public Future<Slot> acquire(RepairBudget.Request request) {
    Promise<Slot> result = Promise.promise();
    onContext(
        () -> {
          if (closed) {
            result.fail(new IllegalStateException("cluster budget closed"));
            return;
          }
          Waiter queued = new Waiter(request, seq++);
          queued.promise.future().onComplete(result);
          waiting.add(queued);
          tryNow();
        });
    return result.future();
  }

  @Override
  public Future<Void> release(Slot slot) {
    Promise<Void> done = Promise.promise();
    onContext(
        () -> {
          Held h = held.remove(slot.index());
          metrics.clusterSlotsHeld(held.size());
          if (h == null || closed) {
            done.complete();
            return;
          }
          cancel(h.renewTimer);
          write(h.view, SlotDecision::released, 0)
              .onComplete(
                  ar -> {
                    if (ar.failed()) {
                      LOG.warn(
                          "event=cluster_slot_release_failed slot={} error=\"{}\"",
                          slot.name(),
                          Logfmt.escaped(ar.cause().toString()));
                    }
                    done.complete();
                    tryNow(); // a slot of ours is free: our own waiters first
                  });
        });
    return done.future();
  }

  /** The slots this agent holds now (tests, the demo). On any thread: a copy. */
  public Future<List<Integer>> heldSlots() {
    Promise<List<Integer>> p = Promise.promise();
    onContext(() -> p.complete(List.copyOf(held.keySet())));
    return p.future();
  }

  @Override
  public void close() {
    onContext(
        () -> {
          closed = true;
          cancel(retryTimer);
          held.values().forEach(h -> cancel(h.renewTimer));
          Waiter w;
          while ((w = waiting.poll()) != null) {
            w.promise.tryFail(new IllegalStateException("cluster budget closed"));
          }
        });
  }

  /** Stops renewing without giving anything back, as a killed agent does (fleet tests). */
  public void abandon() {
    onContext(
        () -> {
          close();
          held.clear();
        });
  }

  private void tryNow() {
    if (trying || closed || waiting.isEmpty()) {
      return;
    }
    cancel(retryTimer);
    retryTimer = -1;
    trying = true;
    worker
        .executeBlocking(store::read, false)
        .onComplete(
            ar -> {
              if (closed) {
                trying = false;
                return;
              }
              if (ar.failed()) {
                metrics.clusterLeaseError("list", "error");
                trying = false;
                waitFor(SlotDecision.Reason.API_ERROR, null, ar.cause());
                return;
              }
              serve(new ArrayList<>(ar.result()));
            });
  }

  /** Serves the waiting requests in order from the slots as read, until one must wait. */
  private void serve(List<SlotView> slots) {
    Waiter w = waiting.peek();
    if (w == null || closed) {
      trying = false;
      return;
    }
    Instant now = clock.instant();
    Duration hold = w.request.scriptTimeout().plus(settings.margin());
    SlotDecision.Verdict v = SlotDecision.decide(slots, rules, now, me, held.keySet(), hold);
    switch (v) {
      case SlotDecision.Wait wait -> {
        trying = false;
        conflicts = 0; // a clear answer: the 409s before it were of another round
        waitFor(wait.reason(), wait.until(), null);
      }
      case SlotDecision.Take take ->
          worker
              .executeBlocking(() -> store.write(take.next()), false)
              .onComplete(
                  ar -> {
                    if (ar.succeeded()) {
                      SlotView written = ar.result();
                      if (closed) {
                        trying = false;
                        return; // not ours to renew: it expires
                      }
                      conflicts = 0;
                      backoff = settings.retryMin();
                      waiting.remove(w);
                      Held h = new Held(written);
                      held.put(written.index(), h);
                      metrics.clusterSlotsHeld(held.size());
                      scheduleRenew(h);
                      LOG.info(
                          "event=cluster_slot_taken slot={} holder={} hourCount={} leaseSeconds={}",
                          written.name(),
                          Logfmt.value(me),
                          hourCount(slots, now) + 1,
                          written.duration().toSeconds());
                      w.promise.complete(new Slot(written.index()));
                      slots.removeIf(s -> s.index() == written.index());
                      slots.add(written);
                      serve(slots);
                    } else if (ar.cause() instanceof SlotStore.Conflict) {
                      metrics.clusterLeaseError(
                          take.slot().exists() ? "update" : "create", "conflict");
                      trying = false;
                      if (++conflicts <= settings.conflictRetries()) {
                        tryNow();
                      } else {
                        conflicts = 0;
                        waitFor(SlotDecision.Reason.NO_FREE_SLOT, null, null);
                      }
                    } else {
                      metrics.clusterLeaseError(
                          take.slot().exists() ? "update" : "create", "error");
                      trying = false;
                      waitFor(SlotDecision.Reason.API_ERROR, null, ar.cause());
                    }
                  });
    }
  }

  private static int hourCount(List<SlotView> slots, Instant now) {
    int n = 0;
    for (SlotView s : slots) {
      n += Starts.lastHour(s.starts(), now).size();
    }
    return n;
  }

  /** Tells every waiting request why (once per change), counts it, and schedules the next try. */
  private void waitFor(SlotDecision.Reason reason, Instant until, Throwable error) {
    for (Waiter w : waiting) {
      if (w.told != reason) {
        w.told = reason;
        metrics.clusterBudgetWait(reason.tag());
        try {
          w.request.onWait().accept(reason);
        } catch (RuntimeException e) {
          LOG.warn(
              "event=cluster_budget_listener_failed error=\"{}\"", Logfmt.escaped(e.toString()));
        }
      }
    }
    if (error != null) {
      LOG.warn("event=cluster_budget_unavailable error=\"{}\"", Logfmt.escaped(error.toString()));
    }
    long delay = jittered(backoff);
    if (until != null) {
      long toUntil = Duration.between(clock.instant(), until).toMillis();
      delay = Math.max(settings.retryMin().toMillis(), Math.min(delay, toUntil + jitterMs()));
    }
    Waiter first = waiting.peek();
    if (first != null && first.request.priority() > RepairBudget.Request.NORMAL) {
      // A Critical repair keeps asking at the shortest back-off: across nodes it is the only
      // edge it has over the others, who double theirs.
      backoff = settings.retryMin();
    } else {
      Duration doubled = backoff.multipliedBy(2);
      backoff = doubled.compareTo(settings.retryMax()) > 0 ? settings.retryMax() : doubled;
    }
    cancel(retryTimer);
    retryTimer =
        vertx.setTimer(
            Math.max(1, delay),
            id -> {
              retryTimer = -1;
              tryNow();
            });
  }

  /** Half the back-off plus a random part of the other half: agents spread, none waits long. */
  private long jittered(Duration d) {
    long ms = Math.max(1, d.toMillis());
    return ms / 2 + random.nextLong(ms / 2 + 1);
  }

  private long jitterMs() {
    return random.nextLong(settings.retryMin().toMillis() + 1);
  }

  private void scheduleRenew(Held h) {
    long every = Math.max(1000, h.view.duration().toMillis() / 3);
    h.renewTimer =
        vertx.setTimer(
            every,
            id -> {
              if (closed || held.get(h.view.index()) != h) {
                return;
              }
              renew(h);
            });
  }

  private void renew(Held h) {
    if (h.writing) {
      scheduleRenew(h);
      return;
    }
    h.writing = true;
    write(h.view, SlotDecision::renewed, 0)
        .onComplete(
            ar -> {
              h.writing = false;
              if (held.get(h.view.index()) != h || closed) {
                return; // released meanwhile; the release wrote last
              }
              if (ar.succeeded()) {
                h.view = ar.result();
                scheduleRenew(h);
              } else if (ar.cause() instanceof Lost) {
                held.remove(h.view.index());
                metrics.clusterSlotsHeld(held.size());
                metrics.clusterLeaseError("update", "lost");
                LOG.warn(
                    "event=cluster_slot_lost slot={} holder={}", h.view.name(), Logfmt.value(me));
              } else {
                // The holding lasts until its expiry: try again at the next renewal.
                scheduleRenew(h);
              }
            });
  }

  /** The holding changed hands while this agent held it. */
  private static final class Lost extends RuntimeException {
    Lost(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Writes {@code change(mine)}; a 409 reads the slot again and retries while the holding is still
   * this one.
   */
  private Future<SlotView> write(
      SlotView mine, java.util.function.BiFunction<SlotView, Instant, SlotView> change, int tries) {
    SlotView next = change.apply(mine, clock.instant());
    return worker
        .executeBlocking(() -> store.write(next), false)
        .recover(
            e -> {
              if (!(e instanceof SlotStore.Conflict)) {
                metrics.clusterLeaseError("update", "error");
                return Future.failedFuture(e);
              }
              metrics.clusterLeaseError("update", "conflict");
              if (tries >= settings.conflictRetries()) {
                return Future.failedFuture(e);
              }
              return worker
                  .executeBlocking(store::read, false)
                  .compose(
                      slots -> {
                        SlotView current =
                            slots.stream()
                                .filter(s -> s.index() == mine.index())
                                .findFirst()
                                .orElse(SlotView.absent(mine.index()));
                        if (!SlotDecision.sameHolding(mine, current)) {
                          return Future.failedFuture(new Lost(current.name()));
                        }
                        return write(current, change, tries + 1);
                      });
            });
  }

  private void cancel(long timer) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void onContext(Runnable r) {
    if (Vertx.currentContext() == ctx) {
      r.run();
    } else {
      ctx.runOnContext(v -> r.run());
    }
  }
}
