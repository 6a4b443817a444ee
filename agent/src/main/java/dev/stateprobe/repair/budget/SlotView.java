package dev.stateprobe.repair.budget;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One slot Lease as read (or as it is about to be written): what the decision needs of a {@code
 * coordination.k8s.io/v1} Lease and nothing else.
 *
 * @param index the slot's number, {@code 0 .. CLUSTER_REPAIR_SLOTS-1}
 * @param resourceVersion empty when the Lease does not exist (it is taken by a create)
 * @param holder {@code spec.holderIdentity}; empty when free (a release clears it)
 * @param acquiredAt {@code spec.acquireTime}: tells this holding from a later one of the same
 *     holder
 * @param renewedAt {@code spec.renewTime}
 * @param duration {@code spec.leaseDurationSeconds}
 * @param starts the annotation {@value Starts#ANNOTATION}: the repair starts of the last hour on
 *     this slot, oldest first
 */
public record SlotView(
    int index,
    Optional<String> resourceVersion,
    Optional<String> holder,
    Optional<Instant> acquiredAt,
    Optional<Instant> renewedAt,
    Duration duration,
    List<Instant> starts) {

  /** The Leases' names: {@code state-probe-slot-0}, {@code -1}, … */
  public static final String NAME_PREFIX = "state-probe-slot-";

  public SlotView {
    if (index < 0) {
      throw new IllegalArgumentException("slot index must be >= 0, was " + index);
    }
    Objects.requireNonNull(resourceVersion, "resourceVersion");
    holder = holder.filter(h -> !h.isBlank());
    Objects.requireNonNull(acquiredAt, "acquiredAt");
    Objects.requireNonNull(renewedAt, "renewedAt");
    Objects.requireNonNull(duration, "duration");
    starts = List.copyOf(starts);
  }

  /** A slot whose Lease does not exist yet. */
  public static SlotView absent(int index) {
    return new SlotView(
        index,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Duration.ZERO,
        List.of());
  }

  public String name() {
    return name(index);
  }

  public static String name(int index) {
    return NAME_PREFIX + index;
  }

  /** The slot's index if {@code name} is a slot Lease's name, else -1. */
  public static int indexOf(String name) {
    if (name == null || !name.startsWith(NAME_PREFIX)) {
      return -1;
    }
    String n = name.substring(NAME_PREFIX.length());
    if (n.isEmpty() || n.length() > 4 || !n.chars().allMatch(Character::isDigit)) {
      return -1;
    }
    if (n.length() > 1 && n.charAt(0) == '0') {
      return -1;
    }
    return Integer.parseInt(n);
  }

  public boolean exists() {
    return resourceVersion.isPresent();
  }

  /**
   * When a holder that stopped renewing loses it: the last renewal plus the duration plus the
   * tolerated clock skew between the holder's clock and ours. A holding with no renewal time never
   * ends by itself: it is treated as ended (a Lease written by hand without one).
   */
  public Instant expiresAt(Duration skew) {
    return renewedAt.map(r -> r.plus(duration).plus(skew)).orElse(Instant.EPOCH);
  }
}
