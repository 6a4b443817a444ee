package dev.stateprobe.kubelet;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The first allocation for a reply body: the declared length, or else the last good body on the
 * same path plus an eighth.
 *
 * <p>Why: a kubelet never declares the length of {@code /pods} (Go's net/http sends in chunks a
 * reply whose handler sets no length, and the kubelet's set none), and growing from 64 KB by
 * doubling allocated about 16 MB for each 4.3 MB reply of a 1000-pod node, every poll; sized from
 * the last reply, one array of 4.9 MB.
 *
 * <p>The array itself is reused too, from the budget's spare of the path (see {@link BodyBudget}):
 * with an 8 MB young generation a new 4.9 MB array every poll was promoted while it filled.
 */
final class BodySizes {
  private final Map<String, Integer> lastLengths = new ConcurrentHashMap<>();

  /** A body for a reply on {@code path} that declared {@code declared} bytes ({@code -1}: none). */
  BoundedBody newBody(String path, long limit, long declared, BodyBudget budget) {
    Integer last = lastLengths.get(path);
    return new BoundedBody(limit, expectedLength(declared, last == null ? -1 : last), budget, path);
  }

  /** Remembers the length of a good reply on {@code path}. */
  void remember(String path, int length) {
    lastLengths.put(path, length);
  }

  /** The declared length, else the last one plus an eighth, else unknown ({@code -1}). */
  static long expectedLength(long declared, int lastLength) {
    if (declared >= 0) {
      return declared;
    }
    return lastLength < 0 ? -1 : lastLength + lastLength / 8L;
  }
}
