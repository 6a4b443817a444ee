package dev.stateprobe.repair.budget;

import java.util.List;

/**
 * Where the slot Leases live. Blocking: {@link ClusterBudget} calls it on the worker pool only. The
 * fabric8 edge is {@link LeaseSlotStore}.
 */
public interface SlotStore {
  /** The slot Leases that exist, in one read. */
  List<SlotView> read();

  /**
   * Writes {@code next}: a create when {@code next} has no resourceVersion, else an update
   * conditional on it. Returns the slot as written (its new resourceVersion).
   *
   * @throws Conflict the Lease exists (create) or changed since it was read (update)
   */
  SlotView write(SlotView next);

  /** 409 from the API server: somebody else wrote first. Re-read and decide again. */
  final class Conflict extends RuntimeException {
    public Conflict(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
