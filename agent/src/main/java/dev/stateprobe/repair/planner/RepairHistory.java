package dev.stateprobe.repair.planner;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the node's repairs did so far, rebuilt each cycle from the repair records (so a restarted
 * agent plans from the same facts).
 *
 * @param scripts per drift and script: attempts, the last attempt's time and outcome, and whether
 *     it runs now
 * @param starts when repairs on this node started (at least those of the last hour, any order)
 * @param running scripts running on the node now; at least the number of running entries in {@code
 *     scripts} (a script may still run for a drift that is gone)
 */
public record RepairHistory(
    Map<ScriptKey, ScriptHistory> scripts, List<Instant> starts, int running) {

  public static final RepairHistory EMPTY = new RepairHistory(Map.of(), List.of(), 0);

  static final Duration HOUR = Duration.ofHours(1);

  public RepairHistory {
    scripts = Map.copyOf(scripts);
    starts = List.copyOf(starts);
    long flagged = scripts.values().stream().filter(ScriptHistory::running).count();
    if (running < flagged) {
      throw new IllegalArgumentException(
          "repair history: running is "
              + running
              + " but "
              + flagged
              + " scripts are marked running");
    }
  }

  /** The history of one script for one drift; {@link ScriptHistory#NONE} when it never ran. */
  public ScriptHistory script(ScriptKey key) {
    return scripts.getOrDefault(Objects.requireNonNull(key, "key"), ScriptHistory.NONE);
  }

  /** Repairs started in the rolling hour that ends at {@code now}: {@code (now − 1h, now]}. */
  public int startedInHourBefore(Instant now) {
    Instant from = now.minus(HOUR);
    return (int) starts.stream().filter(t -> t.isAfter(from) && !t.isAfter(now)).count();
  }

  /** UIDs of the pods a script runs for now. */
  public Set<String> busyTargets() {
    return scripts.entrySet().stream()
        .filter(e -> e.getValue().running())
        .map(e -> e.getKey().drift().target().uid())
        .collect(Collectors.toUnmodifiableSet());
  }
}
