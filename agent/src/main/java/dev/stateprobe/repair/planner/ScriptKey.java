package dev.stateprobe.repair.planner;

import dev.stateprobe.drift.DriftKey;
import java.util.Comparator;
import java.util.Objects;

/** One script for one drift: the identity of one repair record. */
public record ScriptKey(DriftKey drift, String script) implements Comparable<ScriptKey> {

  private static final Comparator<ScriptKey> ORDER =
      Comparator.comparing(ScriptKey::drift).thenComparing(ScriptKey::script);

  public ScriptKey {
    Objects.requireNonNull(drift, "drift");
    Objects.requireNonNull(script, "script");
  }

  @Override
  public int compareTo(ScriptKey o) {
    return ORDER.compare(this, o);
  }
}
