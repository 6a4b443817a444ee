package dev.stateprobe.kubelet;

import java.util.HashMap;
import java.util.Map;

/**
 * The heap that reply bodies in flight may hold together, shared by every request of one source
 * ({@code /pods} and {@code /runningpods/} in parallel, a repair's revalidation besides): a body
 * reserves each array before it allocates it and gives it back when it is dropped, so a kubelet
 * that sends more than the heap can hold is refused as {@code too_large} instead of ending in an
 * {@link OutOfMemoryError}.
 *
 * <p>Why a quarter of the heap: under the DaemonSet's flags ({@code -Xmx64m}, serial GC) a large
 * array lands in the old generation (two thirds of the heap), which already holds the agent's ~20
 * to 30 MB of live data; two 8 MiB bodies with their growth copies and the rest of the agent did
 * not fit there (measured: exit 3 at {@code KUBELET_MAX_BODY_BYTES=8388608}).
 *
 * <p>It also keeps the array of the last good reply of each path as a spare for the next reply on
 * that path, still reserved: a node whose pods do not change gets the same 4.3 MB at 1000 pods
 * every poll, and a new array each time was promoted to the old generation while it filled (the
 * young generation is 8 MB) and cost a full collection every few polls (measured with the footprint
 * harness). A spare is only a spare: a reservation that does not fit drops every spare first and
 * tries again, so a body that fits the budget without spares fits it with them, and a refused reply
 * never becomes a spare.
 *
 * <p>Thread-safe.
 */
final class BodyBudget {
  /** The share of the heap: {@code heap / 4}. */
  static final int HEAP_SHARE_DIVISOR = 4;

  private final long capacity;
  private long reserved; // guarded by this
  private final Map<String, byte[]> spares = new HashMap<>(); // guarded by this

  BodyBudget(long capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must not be negative, got " + capacity);
    }
    this.capacity = capacity;
  }

  /** A quarter of this JVM's maximum heap. */
  static BodyBudget ofHeap() {
    return new BodyBudget(Runtime.getRuntime().maxMemory() / HEAP_SHARE_DIVISOR);
  }

  /** Takes {@code bytes} from the budget; false (and nothing taken) when they do not fit. */
  synchronized boolean tryReserve(long bytes) {
    if (bytes < 0 || bytes > capacity) {
      return false;
    }
    if (bytes > capacity - reserved) {
      dropSpares();
      if (bytes > capacity - reserved) {
        return false;
      }
    }
    reserved += bytes;
    return true;
  }

  /**
   * The spare array of {@code path}, now the caller's, its bytes still reserved (give them back
   * with {@link #release}, or the array with {@link #keepSpare}); null when there is none.
   */
  synchronized byte[] takeSpare(String path) {
    return spares.remove(path);
  }

  /**
   * Keeps {@code array}, whose bytes are reserved, as the spare of {@code path}; when that path has
   * one already (two replies at once), the smaller one is dropped.
   */
  synchronized void keepSpare(String path, byte[] array) {
    byte[] old = spares.put(path, array);
    if (old != null && old != array) {
      byte[] dropped = old.length < array.length ? old : array;
      spares.put(path, dropped == old ? array : old);
      release(dropped.length);
    }
  }

  private void dropSpares() {
    for (byte[] spare : spares.values()) {
      reserved = Math.max(0, reserved - spare.length);
    }
    spares.clear();
  }

  /** The bytes the spares hold. */
  synchronized long spareBytes() {
    long sum = 0;
    for (byte[] spare : spares.values()) {
      sum += spare.length;
    }
    return sum;
  }

  synchronized void release(long bytes) {
    reserved = Math.max(0, reserved - bytes);
  }

  synchronized long reserved() {
    return reserved;
  }

  long capacity() {
    return capacity;
  }
}
