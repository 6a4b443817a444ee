package dev.stateprobe.repair.job;

import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and writes the ConsistencyRepairJob records of one node.
 *
 * <p>Every method runs its fabric8 calls on the worker pool given (never on the event loop) and
 * answers with a Vert.x {@code Future}. Records are found by the {@link Labels#NODE} label (custom
 * resources have no field selector on {@code spec.nodeName}) and then checked against {@code
 * spec.nodeName}, so a record whose label was edited is not taken for this node's.
 *
 * <p>Races: another agent never writes this node's records; a person may edit one (approve it).
 * Status writes carry the record's resourceVersion, and a conflict is retried once on a fresh read,
 * so a person's edit of the spec is kept and never overwritten.
 */
public final class JobStore {
  private static final Logger LOG = LoggerFactory.getLogger(JobStore.class);

  /**
   * The result of {@link #createOrAdopt}.
   *
   * @param job the record as the API server has it
   * @param adopted the record existed already (an earlier run, or a restart, made it)
   */
  public record Created(ConsistencyRepairJob job, boolean adopted) {
    public Created {
      Objects.requireNonNull(job, "job");
    }
  }

  private final KubernetesClient client;
  private final WorkerExecutor worker;
  private final String nodeName;
  private final Clock clock;
  private final AtomicReference<String> nodeUid = new AtomicReference<>();

  /**
   * @param worker the agent's {@code state-probe-worker} pool
   * @param nodeName this agent's node ({@code NODE_NAME})
   * @param clock for the times this store writes by itself ({@link #markInterrupted})
   */
  public JobStore(KubernetesClient client, WorkerExecutor worker, String nodeName, Clock clock) {
    this.client = Objects.requireNonNull(client, "client");
    this.worker = Objects.requireNonNull(worker, "worker");
    this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (nodeName.isBlank()) {
      throw new IllegalArgumentException("job store: nodeName is blank");
    }
  }

  public String nodeName() {
    return nodeName;
  }

  /**
   * Creates the record of {@code spec} under its deterministic name, labelled and owned by the
   * Node. When it exists already (AlreadyExists), answers the existing record, flagged adopted:
   * there is never a second record of the same repair. The status is not written here (the API
   * server drops it on create); call {@link #updateStatus} next.
   */
  public Future<Created> createOrAdopt(RepairJobSpec spec) {
    Objects.requireNonNull(spec, "spec");
    if (!spec.nodeName().equals(nodeName)) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "job store of node "
                  + nodeName
                  + " cannot create a record for node "
                  + spec.nodeName()));
    }
    return run(() -> createOrAdoptNow(spec));
  }

  /**
   * Writes {@code status} through the status subresource, with {@code job}'s resourceVersion as the
   * precondition. On a conflict it re-reads the record and writes once more; a second conflict
   * fails the future. Answers the record as stored.
   */
  public Future<ConsistencyRepairJob> updateStatus(
      ConsistencyRepairJob job, RepairJobStatus status) {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(status, "status");
    if (job.getMetadata() == null || job.getMetadata().getResourceVersion() == null) {
      return Future.failedFuture(
          new IllegalArgumentException(
              "record "
                  + (job.getMetadata() == null ? "?" : job.name())
                  + " has no resourceVersion"));
    }
    return run(() -> updateStatusNow(job, status));
  }

  /** This node's records, by name. */
  public Future<List<ConsistencyRepairJob>> listForNode() {
    return run(this::listNow);
  }

  /** One record by name; empty when it does not exist. */
  public Future<Optional<ConsistencyRepairJob>> get(String name) {
    Objects.requireNonNull(name, "name");
    return run(() -> Optional.ofNullable(jobs().withName(name).get()));
  }

  /**
   * At start-up: every record of this node still Running was cut off by the restart. Each becomes
   * Failed with reason {@code interrupted}; its attempt stays counted and is never resumed. Answers
   * the records it changed.
   */
  public Future<List<ConsistencyRepairJob>> markInterrupted() {
    return run(
        () -> {
          List<ConsistencyRepairJob> changed = new ArrayList<>();
          for (ConsistencyRepairJob job : listNow()) {
            RepairJobStatus s = job.getStatus();
            if (s != null && s.phase() == Phase.RUNNING) {
              ConsistencyRepairJob updated = updateStatusNow(job, s.interrupted(clock.instant()));
              LOG.info(
                  "record={} phase=Failed reason=interrupted attempt={}", job.name(), s.attempts());
              changed.add(updated);
            }
          }
          return List.copyOf(changed);
        });
  }

  /**
   * Deletes this node's finished records that finished more than {@code ttl} before {@code now},
   * then, while the node has more than {@code maxPerNode} records, its oldest finished ones.
   * Pending and Running records are never deleted. Answers the names deleted, in order.
   */
  public Future<List<String>> collectGarbage(Instant now, Duration ttl, int maxPerNode) {
    Objects.requireNonNull(now, "now");
    Objects.requireNonNull(ttl, "ttl");
    if (maxPerNode < 0) {
      return Future.failedFuture(
          new IllegalArgumentException("maxPerNode must be >= 0, was " + maxPerNode));
    }
    return run(() -> collectGarbageNow(now, ttl, maxPerNode));
  }

  // ---- blocking parts, on the worker pool ----

  private <T> Future<T> run(Callable<T> blocking) {
    return worker.executeBlocking(blocking);
  }

  private MixedOperation<
          ConsistencyRepairJob,
          KubernetesResourceList<ConsistencyRepairJob>,
          Resource<ConsistencyRepairJob>>
      jobs() {
    return client.resources(ConsistencyRepairJob.class);
  }

  private Created createOrAdoptNow(RepairJobSpec spec) {
    String name = spec.jobName();
    ObjectMeta meta =
        new ObjectMetaBuilder()
            .withName(name)
            .addToLabels(Labels.NODE, Labels.value(nodeName))
            .addToLabels(Labels.KIND, Labels.value(spec.drift().kind()))
            .addToLabels(Labels.SCRIPT, Labels.value(spec.script()))
            .addToLabels(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE)
            .withOwnerReferences(
                new OwnerReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("Node")
                    .withName(nodeName)
                    .withUid(nodeUid())
                    .build())
            .build();
    try {
      ConsistencyRepairJob created =
          jobs().resource(ConsistencyRepairJob.of(meta, spec, null)).create();
      LOG.info("record={} created script={} dryRun={}", name, spec.script(), spec.dryRun());
      return new Created(created, false);
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      ConsistencyRepairJob existing = jobs().withName(name).get();
      if (existing == null) {
        // Deleted between our create and our read (garbage collection): the caller retries later.
        throw new IllegalStateException(
            "record " + name + " existed on create and was gone on read", e);
      }
      LOG.info("record={} adopted phase={}", name, existing.statusOrPending().phase().wireName());
      return new Created(existing, true);
    }
  }

  private ConsistencyRepairJob updateStatusNow(ConsistencyRepairJob job, RepairJobStatus status) {
    try {
      return jobs().resource(job.withStatus(status)).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      ConsistencyRepairJob fresh = jobs().withName(job.name()).get();
      if (fresh == null) {
        throw new IllegalStateException(
            "record " + job.name() + " was deleted while its status was written", e);
      }
      return jobs().resource(fresh.withStatus(status)).updateStatus();
    }
  }

  private List<ConsistencyRepairJob> listNow() {
    return jobs().withLabel(Labels.NODE, Labels.value(nodeName)).list().getItems().stream()
        .filter(j -> j.getSpec() != null && nodeName.equals(j.getSpec().nodeName()))
        .sorted(Comparator.comparing(ConsistencyRepairJob::name))
        .toList();
  }

  private List<String> collectGarbageNow(Instant now, Duration ttl, int maxPerNode) {
    List<ConsistencyRepairJob> all = listNow();
    List<ConsistencyRepairJob> finished =
        all.stream()
            .filter(j -> j.getStatus() != null && j.getStatus().phase().finished())
            .sorted(
                Comparator.comparing(JobStore::finishedAt)
                    .thenComparing(ConsistencyRepairJob::name))
            .toList();
    Instant cutoff = now.minus(ttl);
    List<String> deleted = new ArrayList<>();
    int remaining = all.size();
    for (ConsistencyRepairJob j : finished) {
      boolean expired = finishedAt(j).isBefore(cutoff);
      if (!expired && remaining <= maxPerNode) {
        break; // sorted oldest first: nothing after this one is expired either
      }
      if (delete(j)) {
        deleted.add(j.name());
        remaining--;
      }
    }
    if (!deleted.isEmpty()) {
      LOG.info(
          "records deleted={} remaining={} ttl={} max={}",
          deleted.size(),
          remaining,
          ttl,
          maxPerNode);
    }
    return List.copyOf(deleted);
  }

  /** Deletes unless the record changed since it was listed (then it is not garbage any more). */
  private boolean delete(ConsistencyRepairJob j) {
    try {
      jobs().withName(j.name()).lockResourceVersion(j.getMetadata().getResourceVersion()).delete();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT
          || e.getCode() == HttpURLConnection.HTTP_NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  /** When a finished record finished; its creation time if it has no finishedAt. */
  private static Instant finishedAt(ConsistencyRepairJob j) {
    if (j.getStatus() != null && j.getStatus().finishedAt() != null) {
      return j.getStatus().finishedAt();
    }
    try {
      return Instant.parse(j.getMetadata().getCreationTimestamp());
    } catch (NullPointerException | DateTimeParseException e) {
      return Instant.EPOCH; // no time at all: oldest, collected first
    }
  }

  private String nodeUid() {
    String uid = nodeUid.get();
    if (uid != null) {
      return uid;
    }
    Node node = client.nodes().withName(nodeName).get();
    if (node == null || node.getMetadata() == null || node.getMetadata().getUid() == null) {
      throw new IllegalStateException(
          "node " + nodeName + " not found (or has no UID): records need it as their owner");
    }
    nodeUid.compareAndSet(null, node.getMetadata().getUid());
    return nodeUid.get();
  }
}
