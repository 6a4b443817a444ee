package dev.stateprobe.drift;

import dev.stateprobe.view.PodRef;
import java.util.Comparator;
import java.util.Objects;

/** The identity of a drift across cycles; its order is the order of {@code /v1/drifts}. */
public record DriftKey(DriftKind kind, PodRef target) implements Comparable<DriftKey> {

  private static final Comparator<DriftKey> ORDER =
      Comparator.comparing((DriftKey k) -> k.kind().wireName()).thenComparing(DriftKey::target);

  public DriftKey {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(target, "target");
  }

  @Override
  public int compareTo(DriftKey o) {
    return ORDER.compare(this, o);
  }
}
