package dev.stateprobe.fleet;

import java.time.Instant;
import java.util.Objects;

/**
 * What the coordinator needs of one ConsistencyRepairJob: its node, and when its drift last needed
 * a repair (the record's creation, or its latest attempt's start if later).
 */
public record RecordSummary(String node, Instant at) {
  public RecordSummary {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(at, "at");
  }
}
