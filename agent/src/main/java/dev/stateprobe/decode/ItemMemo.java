package dev.stateprobe.decode;

import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * The records of the items of the last list decoded through it, keyed by each item's bytes: an item
 * whose bytes are those of an item of the last list decodes to that item's record, so it is skipped
 * over (no strings, no record) and the earlier record is handed out again. On a node where one pod
 * changed since the last poll, the others cost a token pass and two CRCs each. Measured with the
 * footprint harness at 1000 pods and one changed pod per poll: see README, Performance.
 *
 * <p>Items are compared by length and a 64-bit digest (CRC-32C and CRC-32), as whole replies are by
 * the kubelet source: two different items of equal length share both with a probability of about
 * 2^-64. The bytes themselves are not kept.
 *
 * <p>Thread-safe: two decodes at once each see the items of some complete earlier list, and the
 * later one to finish is what the next decode sees.
 *
 * @param <V> what an item decodes to (immutable: it is handed out again)
 */
public final class ItemMemo<V> {
  private record Entry<V>(int length, V value) {}

  private volatile Map<Long, Entry<V>> last = Map.of();

  /** One decode: looks items up in the last list and collects this one's. */
  final class Session {
    private final Map<Long, Entry<V>> previous = last;
    private final Map<Long, Entry<V>> current = new HashMap<>();
    private final CRC32C crc32c = new CRC32C();
    private final CRC32 crc32 = new CRC32();
    private long key;
    private int length;

    /** The record of an earlier item with exactly these bytes, or null; remembers the key. */
    V lookup(byte[] bytes, int offset, int len) {
      crc32c.reset();
      crc32c.update(bytes, offset, len);
      crc32.reset();
      crc32.update(bytes, offset, len);
      key = crc32c.getValue() << 32 | crc32.getValue();
      length = len;
      Entry<V> e = previous.get(key);
      if (e == null || e.length() != len) {
        return null;
      }
      current.put(key, e);
      return e.value();
    }

    /** The record of the item last looked up, decoded. */
    void remember(V value) {
      current.put(key, new Entry<>(length, value));
    }

    /** This decode succeeded: the next one compares with its items. */
    void commit() {
      last = current;
    }
  }

  Session session() {
    return new Session();
  }

  /** How many items the next decode can reuse. */
  int size() {
    return last.size();
  }
}
