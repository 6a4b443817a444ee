package dev.stateprobe.kubelet;

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
 * <p>Thread-safe.
 */
final class BodyBudget {
  /** The share of the heap: {@code heap / 4}. */
  static final int HEAP_SHARE_DIVISOR = 4;

  private final long capacity;
  private long reserved; // guarded by this

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
    if (bytes < 0 || bytes > capacity - reserved) {
      return false;
    }
    reserved += bytes;
    return true;
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
