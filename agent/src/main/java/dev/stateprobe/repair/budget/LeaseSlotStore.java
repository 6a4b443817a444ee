package dev.stateprobe.repair.budget;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The slot Leases through fabric8: one LIST of the namespace's Leases per read (the slots are
 * picked out by name; the namespace holds few Leases), a create or an update conditional on the
 * resourceVersion per write. Blocking; called on the worker pool.
 */
public final class LeaseSlotStore implements SlotStore {
  /** Label on every slot Lease, so that {@code kubectl get leases -l} finds them. */
  public static final String POOL_LABEL = "stateprobe.dev/slot-pool";

  public static final String POOL = "cluster";

  private final KubernetesClient client;
  private final String namespace;

  public LeaseSlotStore(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public List<SlotView> read() {
    List<SlotView> out = new ArrayList<>();
    for (Lease l : client.leases().inNamespace(namespace).list().getItems()) {
      int index = SlotView.indexOf(l.getMetadata().getName());
      if (index >= 0) {
        out.add(view(index, l));
      }
    }
    return out;
  }

  @Override
  public SlotView write(SlotView next) {
    Lease lease = lease(next);
    try {
      Lease written =
          next.exists()
              ? client.leases().inNamespace(namespace).resource(lease).update()
              : client.leases().inNamespace(namespace).resource(lease).create();
      return view(next.index(), written);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        throw new Conflict(
            (next.exists() ? "update" : "create") + " of lease " + next.name() + ": 409", e);
      }
      throw e;
    }
  }

  private Lease lease(SlotView s) {
    Map<String, String> annotations = new HashMap<>();
    annotations.put(Starts.ANNOTATION, Starts.format(s.starts()));
    return new LeaseBuilder()
        .withMetadata(
            new ObjectMetaBuilder()
                .withName(s.name())
                .withNamespace(namespace)
                .withResourceVersion(s.resourceVersion().orElse(null))
                .withLabels(Map.of(POOL_LABEL, POOL))
                .withAnnotations(annotations)
                .build())
        .withNewSpec()
        .withHolderIdentity(s.holder().orElse(null))
        .withAcquireTime(s.acquiredAt().map(LeaseSlotStore::zoned).orElse(null))
        .withRenewTime(s.renewedAt().map(LeaseSlotStore::zoned).orElse(null))
        .withLeaseDurationSeconds(
            s.duration().isZero() ? null : (int) Math.max(1, s.duration().toSeconds()))
        .endSpec()
        .build();
  }

  static SlotView view(int index, Lease l) {
    LeaseSpec spec = l.getSpec() == null ? new LeaseSpec() : l.getSpec();
    Map<String, String> annotations = l.getMetadata().getAnnotations();
    return new SlotView(
        index,
        Optional.ofNullable(l.getMetadata().getResourceVersion()),
        Optional.ofNullable(spec.getHolderIdentity()),
        time(spec.getAcquireTime()),
        time(spec.getRenewTime()),
        Duration.ofSeconds(
            spec.getLeaseDurationSeconds() == null ? 0 : spec.getLeaseDurationSeconds()),
        Starts.parse(annotations == null ? null : annotations.get(Starts.ANNOTATION)));
  }

  private static ZonedDateTime zoned(Instant t) {
    return t.atZone(ZoneOffset.UTC);
  }

  private static Optional<Instant> time(ZonedDateTime t) {
    return Optional.ofNullable(t).map(ZonedDateTime::toInstant);
  }
}
