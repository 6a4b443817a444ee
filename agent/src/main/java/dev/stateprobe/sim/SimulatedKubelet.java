package dev.stateprobe.sim;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The kubelet's behaviour on the simulated node. The {@link FakeKubelet} only serves what it is
 * given; this plays what a kubelet does with its pod watch: a pod bound to the node starts, a
 * changed pod is updated in the kubelet's copy, a deleted pod stops and leaves, a graceful deletion
 * is completed (containers stopped, then the API object deleted), and a static pod without a mirror
 * pod gets one.
 *
 * <p>Scenarios break it the way real kubelets break: events of one pod are lost, a new pod never
 * arrives, a pod cannot be stopped, a mirror pod is not recreated, pods are dropped from {@code
 * /pods}. A kubelet restart ({@link #restart()}, the fake's {@code POST /control/restart}) ends all
 * of that and lists everything again.
 *
 * <p>Each pass reads the API server with the cluster's client (never the agent's, which faults
 * touch) and blocks: run it on a worker thread. Thread-safe: passes and fault changes hold the
 * monitor, so a scenario's change is never half-seen by a pass.
 */
public final class SimulatedKubelet implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SimulatedKubelet.class);
  public static final String CONFIG_SOURCE = "kubernetes.io/config.source";
  public static final String CONFIG_SEEN = "kubernetes.io/config.seen";
  public static final String CONFIG_MIRROR = "kubernetes.io/config.mirror";

  /**
   * Holds a gracefully deleted pod in the simulated API server until its kubelet confirms. A real
   * API server keeps such a pod by itself; the mock server deletes any object that has a
   * deletionTimestamp and no finalizer, so {@link SimNode#deleteGracefully} adds this one.
   */
  public static final String AWAITS_KUBELET = "sim.stateprobe.dev/awaits-kubelet";

  private final KubernetesClient cluster;
  private final FakeKubelet fake;
  private final String nodeName;
  private final Supplier<String> nodeUid;
  private final Clock clock;
  private final KubernetesSerialization serialization;
  private final ObjectMapper json = JsonMapper.builder().build();

  /** Static pods by their kubelet UID (the config hash), as the node's manifests define them. */
  private final Map<String, ObjectNode> staticPods = new LinkedHashMap<>();

  // guarded by this
  private final Map<String, String> applied = new HashMap<>(); // UID -> API resourceVersion copied
  private final Set<String> losesEvents = new HashSet<>();
  private final Set<String> missesNewPods = new HashSet<>(); // "namespace/name"
  private final Set<String> cannotStop = new HashSet<>();
  private final Set<String> holdsMirror = new HashSet<>();

  private final AtomicBoolean passRunning = new AtomicBoolean();
  private volatile boolean closed;
  private Vertx vertx;
  private long timerId = -1;
  private String lastFailure;

  /**
   * @param cluster the cluster's own client (never faulted)
   * @param nodeUid the Node's UID, the owner of mirror pods
   */
  public SimulatedKubelet(
      KubernetesClient cluster,
      FakeKubelet fake,
      String nodeName,
      Supplier<String> nodeUid,
      Clock clock) {
    this.cluster = cluster;
    this.fake = fake;
    this.nodeName = nodeName;
    this.nodeUid = nodeUid;
    this.clock = clock;
    this.serialization = cluster.getKubernetesSerialization();
  }

  /** A static pod of the node (from a manifest file): the kubelet runs it under its config hash. */
  public synchronized void addStaticPod(ObjectNode pod) {
    String uid = pod.path("metadata").path("uid").asString("");
    staticPods.put(uid, pod.deepCopy());
    fake.putPod(json.writeValueAsString(pod));
  }

  /** The kubelet UIDs (config hashes) of the static pods, by pod name. */
  public synchronized Map<String, String> staticPodUids() {
    Map<String, String> out = new LinkedHashMap<>();
    staticPods.forEach((uid, pod) -> out.put(pod.path("metadata").path("name").asString(""), uid));
    return out;
  }

  // ---- faults ----

  /**
   * Every later event of this pod (update, delete) is lost: the kubelet keeps its copy as it is.
   */
  public synchronized void loseEventsOf(String uid) {
    losesEvents.add(uid);
  }

  /** A pod created later under this name never reaches the kubelet. */
  public synchronized void missNewPod(String namespace, String name) {
    missesNewPods.add(namespace + "/" + name);
  }

  /**
   * The kubelet cannot stop this pod's containers (a runtime call that hangs): its graceful
   * deletion does not complete while they run. Once something else stops its sandbox, it does.
   */
  public synchronized void cannotStop(String uid) {
    cannotStop.add(uid);
  }

  /** The kubelet does not recreate this static pod's mirror pod. */
  public synchronized void holdMirror(String staticUid) {
    holdsMirror.add(staticUid);
  }

  /**
   * These pods vanish from {@code /pods} at once, as after a kubelet restart whose list is not
   * complete yet, and stay away until {@link #resync()} or {@link #restart()}. Atomic: a poll sees
   * all of them or none.
   */
  public synchronized void dropFromList(Collection<String> uids) {
    Set<String> gone = Set.copyOf(uids);
    ObjectNode list = (ObjectNode) json.readTree(fake.podsBody());
    ArrayNode kept = json.createArrayNode();
    for (JsonNode item : list.path("items")) {
      if (!gone.contains(item.path("metadata").path("uid").asString(""))) {
        kept.add(item);
      }
    }
    list.set("items", kept);
    fake.loadPodList(json.writeValueAsBytes(list));
  }

  /** Ends every fault; the next pass follows the API server again. */
  public synchronized void clearFaults() {
    losesEvents.clear();
    missesNewPods.clear();
    cannotStop.clear();
    holdsMirror.clear();
  }

  // ---- passes ----

  /** What one pass changed. */
  public record Pass(int started, int updated, int stopped, int mirrorsCreated) {
    @Override
    public String toString() {
      return started
          + " pods started, "
          + updated
          + " updated, "
          + stopped
          + " stopped, "
          + mirrorsCreated
          + " mirror pods created";
    }
  }

  /** One pass: the kubelet catches up with the API server, except where a fault says otherwise. */
  public synchronized Pass sync() {
    List<Pod> api =
        cluster.pods().inAnyNamespace().withField("spec.nodeName", nodeName).list().getItems();
    Map<String, Pod> byUid = new HashMap<>();
    Set<String> mirrored = new HashSet<>();
    for (Pod p : api) {
      byUid.put(p.getMetadata().getUid(), p);
      String mirror = annotation(p, CONFIG_MIRROR);
      if (mirror != null) {
        mirrored.add(mirror);
      }
    }
    Set<String> listed = new HashSet<>(fake.podUids());
    int started = 0;
    int updated = 0;
    int stopped = 0;
    for (Pod p : api) {
      ObjectMeta meta = p.getMetadata();
      String uid = meta.getUid();
      if (annotation(p, CONFIG_MIRROR) != null || losesEvents.contains(uid)) {
        continue;
      }
      boolean known = listed.contains(uid) || applied.containsKey(uid);
      if (!known && missesNewPods.contains(meta.getNamespace() + "/" + meta.getName())) {
        continue;
      }
      if (meta.getDeletionTimestamp() != null
          && (!cannotStop.contains(uid) || !fake.runningUids().contains(uid))) {
        // A graceful deletion: the containers stop, then the kubelet confirms it to the API server.
        fake.removePod(uid);
        applied.remove(uid);
        stopped++;
        confirmDeletion(p);
        continue;
      }
      if (!meta.getResourceVersion().equals(applied.get(uid))) {
        fake.putPod(kubeletCopy(p));
        applied.put(uid, meta.getResourceVersion());
        if (known) {
          updated++;
        } else {
          started++;
        }
      }
    }
    for (String uid : listed) {
      if (staticPods.containsKey(uid) || byUid.containsKey(uid)) {
        continue;
      }
      if (losesEvents.contains(uid)) {
        fake.markOrphaned(uid); // it never heard of the delete: stopping its sandbox ends it
        continue;
      }
      fake.removePod(uid);
      applied.remove(uid);
      stopped++;
    }
    int mirrors = 0;
    for (Map.Entry<String, ObjectNode> e : staticPods.entrySet()) {
      if (listed.contains(e.getKey())
          && !mirrored.contains(e.getKey())
          && !holdsMirror.contains(e.getKey())) {
        createMirror(e.getKey(), e.getValue());
        mirrors++;
      }
    }
    return new Pass(started, updated, stopped, mirrors);
  }

  /** Forgets what the kubelet's copies reflect and takes every pod from the API server again. */
  public synchronized Pass resync() {
    applied.clear();
    for (ObjectNode pod : staticPods.values()) {
      String uid = pod.path("metadata").path("uid").asString("");
      if (!fake.podUids().contains(uid)) {
        fake.putPod(json.writeValueAsString(pod));
      }
    }
    return sync();
  }

  /** A kubelet restart: every fault ends, and the pods are listed again from the API server. */
  public synchronized String restart() {
    clearFaults();
    Pass pass = resync();
    String detail = "kubelet restarted; re-listed its pods from the API server: " + pass;
    LOG.info("{}", detail);
    return detail;
  }

  /** Passes every {@code every} on {@code worker}, skipping a tick while the last one runs. */
  public synchronized void start(Vertx vertx, WorkerExecutor worker, Duration every) {
    this.vertx = vertx;
    timerId =
        vertx.setPeriodic(
            every.toMillis(),
            id -> {
              if (closed || !passRunning.compareAndSet(false, true)) {
                return;
              }
              worker
                  .executeBlocking(this::sync, false)
                  .onComplete(
                      ar -> {
                        passRunning.set(false);
                        String failure = ar.succeeded() ? null : ar.cause().toString();
                        if (failure != null && !failure.equals(lastFailure) && !closed) {
                          LOG.warn("simulated kubelet: a pass failed: {}", failure);
                        }
                        lastFailure = failure;
                      });
            });
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (vertx != null && timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
  }

  // ---- copies ----

  /**
   * The kubelet's copy of an API pod: the object as the watch delivered it, plus the annotations
   * the kubelet adds itself.
   */
  private String kubeletCopy(Pod pod) {
    ObjectNode copy = (ObjectNode) json.readTree(serialization.asJson(pod));
    ObjectNode meta = (ObjectNode) copy.get("metadata");
    ObjectNode annotations =
        meta.get("annotations") instanceof ObjectNode a ? a : meta.putObject("annotations");
    annotations.put(CONFIG_SEEN, clock.instant().toString());
    annotations.put(CONFIG_SOURCE, "api");
    return json.writeValueAsString(copy);
  }

  /** The kubelet's last word on a deleted pod: its hold released, the object goes. */
  private void confirmDeletion(Pod p) {
    ObjectMeta meta = p.getMetadata();
    try {
      if (meta.getFinalizers() != null && meta.getFinalizers().contains(AWAITS_KUBELET)) {
        cluster
            .pods()
            .inNamespace(meta.getNamespace())
            .withName(meta.getName())
            .edit(
                x -> {
                  x.getMetadata().getFinalizers().remove(AWAITS_KUBELET);
                  return x;
                });
      } else {
        cluster
            .pods()
            .inNamespace(meta.getNamespace())
            .withName(meta.getName())
            .withGracePeriod(0)
            .delete();
      }
    } catch (KubernetesClientException e) {
      LOG.debug(
          "confirming the deletion of {}/{} failed: {}",
          meta.getNamespace(),
          meta.getName(),
          e.toString());
    }
  }

  /** What the kubelet posts for a static pod: a pod of the same name that points at its hash. */
  private void createMirror(String staticUid, ObjectNode staticPod) {
    Pod mirror = serialization.unmarshal(json.writeValueAsString(staticPod), Pod.class);
    ObjectMeta meta = mirror.getMetadata();
    meta.setUid(null);
    meta.setResourceVersion(null);
    meta.setCreationTimestamp(null);
    meta.setManagedFields(null);
    Map<String, String> annotations =
        new LinkedHashMap<>(meta.getAnnotations() == null ? Map.of() : meta.getAnnotations());
    annotations.put(CONFIG_MIRROR, staticUid);
    meta.setAnnotations(annotations);
    meta.setOwnerReferences(
        List.of(
            new OwnerReferenceBuilder()
                .withApiVersion("v1")
                .withKind("Node")
                .withName(nodeName)
                .withUid(nodeUid.get())
                .withController(true)
                .build()));
    try {
      cluster.pods().inNamespace(meta.getNamespace()).resource(mirror).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  public static String annotation(Pod p, String key) {
    Map<String, String> a = p.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }
}
