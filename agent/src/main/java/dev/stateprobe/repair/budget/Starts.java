package dev.stateprobe.repair.budget;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The hourly count's format on a slot Lease: the annotation {@value #ANNOTATION} holds the epoch
 * seconds of the repairs started on that slot in the last hour, ascending, comma-separated ({@code
 * "1765060000,1765060123"}). Every start is written by the create or update that takes the slot,
 * under that Lease's resourceVersion precondition, so no start is lost to a concurrent writer of
 * the same slot; older entries are dropped at the same write, and at most {@value #MAX_PER_SLOT}
 * are kept (11 bytes each, so an annotation stays under 12 KB, far below the 256 KiB the API server
 * allows for all annotations).
 */
public final class Starts {
  public static final String ANNOTATION = "stateprobe.dev/repair-starts";
  public static final int MAX_PER_SLOT = 1000;
  public static final Duration WINDOW = Duration.ofHours(1);

  private Starts() {}

  /**
   * The starts in the annotation's value. Entries that are not epoch seconds are skipped: a
   * hand-edited annotation costs at most the count of what it garbled, never the slot.
   */
  public static List<Instant> parse(String value) {
    List<Instant> out = new ArrayList<>();
    if (value == null || value.isBlank()) {
      return out;
    }
    for (String part : value.split(",", MAX_PER_SLOT * 2)) {
      String p = part.strip();
      if (p.isEmpty() || p.length() > 12 || !p.chars().allMatch(Character::isDigit)) {
        continue;
      }
      out.add(Instant.ofEpochSecond(Long.parseLong(p)));
    }
    out.sort(null);
    return out;
  }

  public static String format(List<Instant> starts) {
    StringBuilder b = new StringBuilder();
    for (Instant s : starts) {
      if (!b.isEmpty()) {
        b.append(',');
      }
      b.append(s.getEpochSecond());
    }
    return b.toString();
  }

  /** The starts within the hour before {@code now} (a start in the future counts: clock skew). */
  public static List<Instant> lastHour(List<Instant> starts, Instant now) {
    Instant from = now.minus(WINDOW);
    return starts.stream().filter(s -> s.isAfter(from)).sorted().toList();
  }

  /** The slot's starts after one more at {@code now}: the last hour's, newest kept if too many. */
  public static List<Instant> plus(List<Instant> starts, Instant now) {
    List<Instant> kept = new ArrayList<>(lastHour(starts, now));
    kept.add(Instant.ofEpochSecond(now.getEpochSecond()));
    kept.sort(null);
    return List.copyOf(kept.subList(Math.max(0, kept.size() - MAX_PER_SLOT), kept.size()));
  }
}
