package dev.stateprobe.repair.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Keeps the last {@code capacity} bytes written, in a fixed ring: a script that floods its output
 * is drained at full speed (so it never blocks on a full pipe) without the memory growing.
 * Thread-safe: one thread drains, another reads the result.
 */
final class OutputTail {
  private final byte[] ring;
  private long total;

  OutputTail(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be positive");
    }
    this.ring = new byte[capacity];
  }

  synchronized void write(byte[] b, int off, int len) {
    int cap = ring.length;
    if (len > cap) {
      // Only the last cap bytes can survive; count the rest as written and overwritten.
      total += len - cap;
      off += len - cap;
      len = cap;
    }
    int pos = (int) (total % cap);
    int first = Math.min(len, cap - pos);
    System.arraycopy(b, off, ring, pos, first);
    System.arraycopy(b, off + first, ring, 0, len - first);
    total += len;
  }

  /** Reads {@code in} to its end (or until it fails, e.g. closed); never throws. */
  void drain(InputStream in) {
    byte[] buf = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buf)) != -1) {
        write(buf, 0, n);
      }
    } catch (IOException e) {
      // The stream was closed under us: what was read is kept.
    }
  }

  /** Bytes ever written. */
  synchronized long total() {
    return total;
  }

  /** The kept bytes, oldest first. */
  synchronized byte[] bytes() {
    int cap = ring.length;
    if (total <= cap) {
      byte[] out = new byte[(int) total];
      System.arraycopy(ring, 0, out, 0, out.length);
      return out;
    }
    int start = (int) (total % cap);
    byte[] out = new byte[cap];
    System.arraycopy(ring, start, out, 0, cap - start);
    System.arraycopy(ring, 0, out, cap - start, start);
    return out;
  }

  /**
   * The kept bytes as UTF-8. When older output was dropped, the cut may have split a character: its
   * leftover continuation bytes are skipped rather than shown as garbage.
   */
  synchronized String text() {
    byte[] b = bytes();
    int from = 0;
    if (total > ring.length) {
      while (from < Math.min(3, b.length) && (b[from] & 0xC0) == 0x80) {
        from++;
      }
    }
    return new String(b, from, b.length - from, StandardCharsets.UTF_8);
  }
}
