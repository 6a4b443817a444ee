package dev.stateprobe.controlplane;

import dev.stateprobe.policy.ConsistencyPolicy;
import dev.stateprobe.policy.InvalidPolicy;
import dev.stateprobe.policy.PolicyDecoder;
import dev.stateprobe.policy.PolicyException;
import dev.stateprobe.policy.PolicySet;
import dev.stateprobe.policy.PolicySource;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.DoubleSupplier;

/**
 * The cluster's ConsistencyPolicies, from one {@link ListWatch} per agent (cluster-scoped, every
 * policy; a few small objects that rarely change, so one watch and its bookmarks are the steady
 * cost). Each object is decoded and validated by {@link PolicyDecoder} as it arrives; a refused
 * policy is kept as an {@link InvalidPolicy} (it selects nothing) rather than as a decode failure,
 * so it is reported and a fixed version replaces it. Deleted policies leave the snapshot, and their
 * pods are Strict from the next cycle.
 *
 * <p>Never writes: not the policy, not its status (every agent of the cluster would).
 */
public final class PolicyWatch implements PolicySource, AutoCloseable {

  /** Every ConsistencyPolicy of the cluster. */
  public static final ResourceRef POLICIES =
      ResourceRef.cluster(
          "stateprobe.dev", "v1alpha1", "consistencypolicies", "ConsistencyPolicyList");

  /** One object as read: a valid policy or the reason it is not. */
  record Entry(ConsistencyPolicy valid, InvalidPolicy invalid) {}

  private record Cached(Map<String, Entry> objects, PolicySet set) {}

  private final ListWatch<Entry> watch;
  private volatile Cached cached;

  /**
   * @param driftKinds the drift kinds' wire names, which a window override may name
   */
  public PolicyWatch(
      ApiServerClient api,
      Set<String> driftKinds,
      ListWatch.Settings settings,
      Clock clock,
      DoubleSupplier random) {
    PolicyDecoder decoder = new PolicyDecoder(driftKinds);
    this.watch =
        ListWatch.of(
            api,
            POLICIES,
            (json, offset, length) -> {
              try {
                return new Entry(decoder.decode(json, offset, length), null);
              } catch (PolicyException e) {
                return new Entry(null, e.invalid());
              }
            },
            settings,
            clock,
            random);
  }

  public void start() {
    watch.start();
  }

  /** Completes at the first list and an open watch after it. */
  public CompletionStage<Void> firstSync() {
    return watch.firstSync();
  }

  /**
   * The policies now: {@link PolicySet#UNSYNCED} before the first list; after it, the last known
   * policies, also while a watch is re-established (a policy does not lapse for a dropped
   * connection). Rebuilt only when the list/watch's objects changed.
   */
  @Override
  public PolicySet snapshot() {
    ListWatch.Snapshot<Entry> s = watch.snapshot();
    if (!s.synced()) {
      return PolicySet.UNSYNCED;
    }
    Cached c = cached;
    if (c != null && c.objects() == s.objects()) {
      return c.set();
    }
    List<ConsistencyPolicy> valid = new ArrayList<>();
    List<InvalidPolicy> invalid = new ArrayList<>();
    for (Entry e : s.objects().values()) {
      if (e.valid() != null) {
        valid.add(e.valid());
      } else {
        invalid.add(e.invalid());
      }
    }
    PolicySet set = new PolicySet(valid, invalid);
    cached = new Cached(s.objects(), set);
    return set;
  }

  public long relists() {
    return watch.relists();
  }

  public long watchRestarts() {
    return watch.watchRestarts();
  }

  @Override
  public void close() {
    watch.close();
  }
}
