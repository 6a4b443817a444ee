package dev.stateprobe.repair.planner;

/**
 * Node-wide repair limits.
 *
 * @param maxConcurrent scripts running at once on the node ({@code MAX_CONCURRENT_REPAIRS})
 * @param maxPerHour repairs started in any rolling hour ({@code MAX_REPAIRS_PER_HOUR})
 */
public record Limits(int maxConcurrent, int maxPerHour) {
  public Limits {
    if (maxConcurrent < 0) {
      throw new IllegalArgumentException(
          "limits: maxConcurrent must be >= 0, was " + maxConcurrent);
    }
    if (maxPerHour < 0) {
      throw new IllegalArgumentException("limits: maxPerHour must be >= 0, was " + maxPerHour);
    }
  }
}
