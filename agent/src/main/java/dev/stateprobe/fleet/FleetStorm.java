package dev.stateprobe.fleet;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The coordinator's decision, a pure function of the records, the node count, the previous state
 * and now.
 *
 * <p>A node counts as drifting when one of its records was made, or started an attempt, within
 * {@link StormSettings#window()}. The brake turns on as soon as more than {@code percent} % of the
 * nodes, and at least {@code minNodes}, drift; it turns off only after the count stayed at or under
 * that for {@link StormSettings#hold()} without a break.
 */
public final class FleetStorm {
  private FleetStorm() {}

  public static StormState decide(
      Collection<RecordSummary> records,
      int nodeCount,
      Instant now,
      StormState previous,
      StormSettings settings) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(previous, "previous");
    Objects.requireNonNull(settings, "settings");
    if (nodeCount < 0) {
      throw new IllegalArgumentException("node count must be >= 0, was " + nodeCount);
    }
    Instant from = now.minus(settings.window());
    Set<String> drifting = new HashSet<>();
    for (RecordSummary r : records) {
      if (r.at().isAfter(from)) {
        drifting.add(r.node());
      }
    }
    int d = drifting.size();
    int nodes = Math.max(nodeCount, d);
    boolean storm = d >= settings.minNodes() && (long) d * 100 > (long) settings.percent() * nodes;
    String counts =
        d
            + " of "
            + nodes
            + " nodes have repair records in the last "
            + seconds(settings.window())
            + " (threshold: more than "
            + settings.percent()
            + " % and at least "
            + settings.minNodes()
            + ")";
    if (storm) {
      Instant since = previous.on() ? previous.since() : now;
      return new StormState(true, since, Optional.empty(), d, nodes, "storm: " + counts);
    }
    if (!previous.on()) {
      Instant since = previous.since();
      return new StormState(false, since, Optional.empty(), d, nodes, "calm: " + counts);
    }
    Instant calmSince = previous.calmSince().orElse(now);
    Duration calm = Duration.between(calmSince, now);
    if (calm.compareTo(settings.hold()) >= 0) {
      return new StormState(false, now, Optional.empty(), d, nodes, "calm: " + counts);
    }
    return new StormState(
        true,
        previous.since(),
        Optional.of(calmSince),
        d,
        nodes,
        "holding: "
            + counts
            + "; calm for "
            + seconds(calm)
            + " of FLEET_STORM_HOLD "
            + seconds(settings.hold()));
  }

  private static String seconds(Duration d) {
    return d.toSeconds() + "s";
  }
}
