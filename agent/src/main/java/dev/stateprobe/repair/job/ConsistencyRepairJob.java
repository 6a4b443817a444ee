package dev.stateprobe.repair.job;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;
import java.util.Objects;

/**
 * One repair of one confirmed drift on one node by one catalog script ({@code
 * manifests/crds/consistencyrepairjobs.stateprobe.dev.yaml}).
 *
 * <p>Cluster-scoped: in fabric8 a custom resource is cluster-scoped unless it implements {@code
 * Namespaced} (fabric8's {@code io.fabric8.kubernetes.api.model.Cluster} is the kubeconfig's
 * cluster entry, not a scope marker). fabric8 needs a mutable bean here; the agent treats instances
 * as values and makes copies ({@link #withStatus}) instead of calling the setters.
 */
@Group(ConsistencyRepairJob.GROUP)
@Version(ConsistencyRepairJob.VERSION)
@Kind(ConsistencyRepairJob.KIND)
@Plural(ConsistencyRepairJob.PLURAL)
@Singular("consistencyrepairjob")
@ShortNames("crj")
@Categories("stateprobe")
public final class ConsistencyRepairJob extends CustomResource<RepairJobSpec, RepairJobStatus> {
  public static final String GROUP = "stateprobe.dev";
  public static final String VERSION = "v1alpha1";
  public static final String KIND = "ConsistencyRepairJob";
  public static final String PLURAL = "consistencyrepairjobs";
  public static final String CRD_NAME = PLURAL + "." + GROUP;

  /** For Jackson and fabric8 only. */
  public ConsistencyRepairJob() {}

  /** A record with a deep copy of {@code metadata}. */
  public static ConsistencyRepairJob of(
      ObjectMeta metadata, RepairJobSpec spec, RepairJobStatus status) {
    ConsistencyRepairJob job = new ConsistencyRepairJob();
    job.setMetadata(new ObjectMetaBuilder(Objects.requireNonNull(metadata, "metadata")).build());
    job.setSpec(Objects.requireNonNull(spec, "spec"));
    job.setStatus(status);
    return job;
  }

  /** A copy of this record with another status; this one is left as it is. */
  public ConsistencyRepairJob withStatus(RepairJobStatus status) {
    return of(getMetadata(), getSpec(), status);
  }

  /** The status, or a Pending one for a record that has none yet (right after create). */
  public RepairJobStatus statusOrPending() {
    RepairJobStatus s = getStatus();
    return s != null
        ? s
        : new RepairJobStatus(Phase.PENDING, 0, null, null, null, null, null, null, null, null);
  }

  public String name() {
    return getMetadata().getName();
  }
}
