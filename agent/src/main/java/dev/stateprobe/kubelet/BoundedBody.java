package dev.stateprobe.kubelet;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;

/**
 * A growing byte array that refuses to grow past a limit: the body is counted while it arrives,
 * never buffered first and measured after. Not thread-safe: one reply, one thread at a time.
 */
final class BoundedBody {
  private static final int FIRST_CHUNK = 64 * 1024;

  /** A Content-Length is a claim, not a fact: do not allocate more than this on its word. */
  private static final int MAX_FIRST_ALLOCATION = 8 * 1024 * 1024;

  private final long limit;
  private byte[] bytes;
  private int length;

  /**
   * @param limit the most bytes accepted
   * @param expected the Content-Length, or -1: sizes the first allocation, never beyond {@code
   *     limit} nor 8 MiB
   */
  BoundedBody(long limit, long expected) {
    this.limit = limit;
    long first = expected >= 0 ? expected : FIRST_CHUNK;
    this.bytes =
        new byte[(int) Math.max(0, Math.min(Math.min(first, limit), MAX_FIRST_ALLOCATION))];
  }

  /**
   * Appends a chunk; false (and nothing appended) when it would pass the limit: the caller must
   * abort the reply then.
   */
  boolean append(byte[] src, int offset, int len) {
    if (!reserve(len)) {
      return false;
    }
    System.arraycopy(src, offset, bytes, length, len);
    length += len;
    return true;
  }

  boolean append(Buffer chunk) {
    int len = chunk.length();
    if (!reserve(len)) {
      return false;
    }
    chunk.getBytes(0, len, bytes, length);
    length += len;
    return true;
  }

  boolean append(ByteBuffer chunk) {
    int len = chunk.remaining();
    if (!reserve(len)) {
      return false;
    }
    chunk.get(bytes, length, len);
    length += len;
    return true;
  }

  private boolean reserve(int len) {
    long needed = (long) length + len;
    if (needed > limit || needed > Integer.MAX_VALUE - 8) {
      return false;
    }
    if (needed > bytes.length) {
      long grown = Math.max(needed, Math.min(limit, (long) bytes.length * 2));
      byte[] copy = new byte[(int) Math.min(grown, Integer.MAX_VALUE - 8)];
      System.arraycopy(bytes, 0, copy, 0, length);
      bytes = copy;
    }
    return true;
  }

  /** The backing array; valid from 0 to {@link #length()}. Not copied: hand it on, then drop it. */
  byte[] array() {
    return bytes;
  }

  int length() {
    return length;
  }

  long limit() {
    return limit;
  }
}
