package dev.stateprobe.kubelet;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;

/**
 * A growing byte array that refuses to grow past a limit: the body is counted while it arrives,
 * never buffered first and measured after. Every array it allocates is first reserved from a {@link
 * BodyBudget}: a body the heap cannot hold is refused like one over the limit. Not thread-safe, but
 * {@link #release()} may come from another thread than the chunks (a timeout).
 */
final class BoundedBody {
  private static final int FIRST_CHUNK = 64 * 1024;
  private static final byte[] EMPTY = new byte[0];

  /** A Content-Length is a claim, not a fact: do not allocate more than this on its word. */
  private static final int MAX_FIRST_ALLOCATION = 8 * 1024 * 1024;

  private final long limit;
  private final BodyBudget budget;
  private final String path;
  // all guarded by this
  private byte[] bytes;
  private int length;
  private boolean refusedByBudget;
  private boolean released;

  /** A body with a budget of its own, as large as its limit (tests, error texts). */
  BoundedBody(long limit, long expected) {
    this(limit, expected, new BodyBudget(Math.max(0, Math.min(limit, Integer.MAX_VALUE))));
  }

  /**
   * @param limit the most bytes accepted
   * @param expected the Content-Length, or -1: sizes the first allocation, never beyond {@code
   *     limit} nor 8 MiB; when the budget cannot give that much, 64 KiB, or nothing
   */
  BoundedBody(long limit, long expected, BodyBudget budget) {
    this(limit, expected, budget, null);
  }

  /**
   * A body on {@code path} that starts in that path's spare array of the budget when there is one
   * large enough, and leaves its array there when it is {@linkplain #recycle() recycled}.
   *
   * @param path the key of the spare, or null for a body that neither takes nor leaves one
   */
  BoundedBody(long limit, long expected, BodyBudget budget, String path) {
    this.limit = limit;
    this.budget = budget;
    this.path = path;
    long first = expected >= 0 ? expected : FIRST_CHUNK;
    int size = (int) Math.max(0, Math.min(Math.min(first, limit), MAX_FIRST_ALLOCATION));
    byte[] spare = path == null ? null : budget.takeSpare(path);
    // A spare far larger than this reply needs (one large reply long ago) is not kept for good.
    if (spare != null
        && spare.length >= size
        && spare.length <= limit
        && (expected < 0 || spare.length <= 2L * size + FIRST_CHUNK)) {
      this.bytes = spare; // its bytes are reserved already
      return;
    }
    if (spare != null) {
      budget.release(spare.length);
    }
    if (!budget.tryReserve(size)) {
      size = (int) Math.min(size, FIRST_CHUNK);
      if (!budget.tryReserve(size)) {
        size = 0;
      }
    }
    this.bytes = new byte[size];
  }

  /**
   * Appends a chunk; false (and nothing appended) when it would pass the limit or the budget: the
   * caller must abort the reply then.
   */
  synchronized boolean append(byte[] src, int offset, int len) {
    if (!reserve(len)) {
      return false;
    }
    System.arraycopy(src, offset, bytes, length, len);
    length += len;
    return true;
  }

  synchronized boolean append(Buffer chunk) {
    int len = chunk.length();
    if (!reserve(len)) {
      return false;
    }
    chunk.getBytes(0, len, bytes, length);
    length += len;
    return true;
  }

  synchronized boolean append(ByteBuffer chunk) {
    int len = chunk.remaining();
    if (!reserve(len)) {
      return false;
    }
    chunk.get(bytes, length, len);
    length += len;
    return true;
  }

  private boolean reserve(int len) {
    if (released) {
      return false; // a late chunk of an abandoned reply: never reserve again
    }
    long needed = (long) length + len;
    if (needed > limit || needed > Integer.MAX_VALUE - 8) {
      return false;
    }
    if (needed > bytes.length) {
      long grown =
          Math.min(
              Math.max(needed, Math.min(limit, (long) bytes.length * 2)), Integer.MAX_VALUE - 8);
      // The old array stays live while it is copied: both are reserved until then.
      if (!budget.tryReserve(grown)) {
        grown = needed + Math.min(needed / 8, limit - needed);
        if (!budget.tryReserve(grown)) {
          refusedByBudget = true;
          return false;
        }
      }
      byte[] copy = new byte[(int) grown];
      System.arraycopy(bytes, 0, copy, 0, length);
      budget.release(bytes.length);
      bytes = copy;
    }
    return true;
  }

  /**
   * Gives the array back to the budget and drops it. Idempotent; call it on every path once the
   * body is no longer needed (decoded, refused, abandoned); a reply handed on keeps its own
   * reference to the array until it is dropped.
   */
  synchronized void release() {
    if (!released) {
      released = true;
      budget.release(bytes.length);
      // Whoever still holds this body (an HTTP stream that has not let go of its handlers) must
      // not hold the array: the budget has already given its bytes to the next reply.
      bytes = EMPTY;
      length = 0;
    }
  }

  /**
   * Like {@link #release()}, but the array stays reserved as the budget's spare for the next body
   * on the same path: only for a body that was read whole and decoded, and only once nothing reads
   * its array any more. A body without a path is released.
   */
  synchronized void recycle() {
    if (released) {
      return;
    }
    if (path == null || bytes.length == 0) {
      release();
      return;
    }
    released = true;
    budget.keepSpare(path, bytes);
    bytes = EMPTY;
    length = 0;
  }

  /** Whether the last refusal was the budget's (the heap), not the limit's. */
  synchronized boolean refusedByBudget() {
    return refusedByBudget;
  }

  /** The backing array; valid from 0 to {@link #length()}. Not copied: hand it on, then drop it. */
  synchronized byte[] array() {
    return bytes;
  }

  synchronized int length() {
    return length;
  }

  long limit() {
    return limit;
  }
}
