package dev.stateprobe.repair.budget;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * What a repair must hold while its script runs. {@link ClusterBudget} is the cluster's slot
 * Leases; {@link #UNLIMITED} ({@code CLUSTER_REPAIR_SLOTS=0}) grants at once and touches nothing.
 */
public interface RepairBudget extends AutoCloseable {

  /**
   * A repair asking for a slot.
   *
   * @param priority higher goes first: among this node's waiting repairs the highest priority (then
   *     the earliest) is served first, and a lower one waits while a higher one does. Across nodes,
   *     fairness comes from the jittered back-off, except that a waiting request above {@link
   *     #NORMAL} keeps the shortest back-off instead of doubling it. The repair side passes {@code
   *     ConsistencyLevel.priority()}: Eventual 0, Strict 1 ({@link #NORMAL}), Critical 2
   * @param scriptTimeout the script's timeout: the slot is held for it plus a margin, renewed
   * @param onWait told (on the agent's context) each time the reason it waits for changes
   */
  record Request(int priority, Duration scriptTimeout, Consumer<SlotDecision.Reason> onWait) {
    /** Strict's, the level of a pod no policy selects. */
    public static final int NORMAL = 1;
  }

  /** A held slot; give it back with {@link #release}. */
  record Slot(int index) {
    public static final Slot NONE = new Slot(-1);

    public String name() {
      return index < 0 ? "none" : SlotView.name(index);
    }
  }

  /** Completes (on the agent's context) when a slot is held; fails only when closed. */
  Future<Slot> acquire(Request request);

  /** Gives the slot back; never fails (a slot that cannot be written expires). */
  Future<Void> release(Slot slot);

  /** Waiting requests fail; held slots are not written again (they expire). */
  @Override
  void close();

  /** No cluster budget: every request is granted at once. */
  RepairBudget UNLIMITED =
      new RepairBudget() {
        @Override
        public Future<Slot> acquire(Request request) {
          return Future.succeededFuture(Slot.NONE);
        }

        @Override
        public Future<Void> release(Slot slot) {
          return Future.succeededFuture();
        }

        @Override
        public void close() {}
      };
}
