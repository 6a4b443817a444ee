package dev.stateprobe.policy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The settings of the pods one cycle looked at, by pod UID; a pod not in it has {@link
 * PodPolicy#DEFAULT}. Immutable: one cycle resolves it from one {@link PolicySet} and everything
 * that cycle decides reads the same one.
 */
public final class PodPolicies {

  public static final PodPolicies NONE = new PodPolicies(Map.of(), true);

  private final Map<String, PodPolicy> byUid;
  private final boolean synced;

  private PodPolicies(Map<String, PodPolicy> byUid, boolean synced) {
    this.byUid = Map.copyOf(byUid);
    this.synced = synced;
  }

  /**
   * Whether the policies were read: until they are, every pod looks Strict to the tracker (its
   * drifts are still seen) but the planner starts no repair.
   */
  public boolean synced() {
    return synced;
  }

  /** The settings of the pod with {@code uid}. */
  public PodPolicy of(String uid) {
    return byUid.getOrDefault(uid, PodPolicy.DEFAULT);
  }

  /** Collects one cycle's pods. */
  public static Builder builder(PolicySet set, Duration pollInterval) {
    return new Builder(set, pollInterval);
  }

  /** Resolves each pod once, however many of its drifts ask. */
  public static final class Builder {
    private final PolicySet set;
    private final Duration pollInterval;
    private final Map<String, PodPolicy> byUid = new HashMap<>();

    private Builder(PolicySet set, Duration pollInterval) {
      this.set = Objects.requireNonNull(set, "set");
      this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
    }

    /** Adds the pod {@code uid} of {@code namespace} with {@code labels}, if not added yet. */
    public Builder pod(String uid, String namespace, Map<String, String> labels) {
      if (!byUid.containsKey(uid) && !set.valid().isEmpty()) {
        byUid.put(uid, PodPolicy.of(set.winner(namespace, labels), pollInterval));
      }
      return this;
    }

    public PodPolicies build() {
      return byUid.isEmpty() && set.synced() ? NONE : new PodPolicies(byUid, set.synced());
    }
  }
}
