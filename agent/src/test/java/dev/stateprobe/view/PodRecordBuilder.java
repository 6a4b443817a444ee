package dev.stateprobe.view;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A fluent builder for {@link PodRecord} in tests. The defaults describe an ordinary, healthy,
 * running API pod, so two records built with the same calls are equal and a test states only what
 * its case is about. Hashes default to fixed values: change one to model a difference.
 */
public final class PodRecordBuilder {

  /** The creation time every default pod has. */
  public static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");

  private String uid;
  private String namespace;
  private String name;
  private String nodeName = "node-1";
  private String phase = "Running";
  private String resourceVersion = "1";
  private Instant creationTimestamp = CREATED;
  private Instant deletionTimestamp;
  private Long deletionGracePeriodSeconds;
  private String configSource;
  private String configHash;
  private String configMirror;
  private String controllerKind = "ReplicaSet";
  private long labelsHash = 11L;
  private java.util.Map<String, String> labels = java.util.Map.of();
  private long annotationsHash = 22L;
  private long specHash = 33L;
  private long statusHash = 44L;
  private List<ContainerStatusRecord> containers = new ArrayList<>();

  private PodRecordBuilder(String namespace, String name, String uid) {
    this.namespace = namespace;
    this.name = name;
    this.uid = uid;
  }

  /** A running pod {@code namespace/name} with UID {@code uid-<name>}. */
  public static PodRecordBuilder pod(String namespace, String name) {
    return new PodRecordBuilder(namespace, name, "uid-" + name);
  }

  /** A running pod in namespace {@code default} with UID {@code uid-<name>}. */
  public static PodRecordBuilder pod(String name) {
    return pod("default", name);
  }

  /** Every field of {@code r}; change some and build a variant of it. */
  public static PodRecordBuilder from(PodRecord r) {
    PodRecordBuilder b = new PodRecordBuilder(r.namespace(), r.name(), r.uid());
    b.nodeName = r.nodeName();
    b.phase = r.phase();
    b.resourceVersion = r.resourceVersion();
    b.creationTimestamp = r.creationTimestamp();
    b.deletionTimestamp = r.deletionTimestamp();
    b.deletionGracePeriodSeconds = r.deletionGracePeriodSeconds();
    b.configSource = r.configSource();
    b.configHash = r.configHash();
    b.configMirror = r.configMirror();
    b.controllerKind = r.controllerKind();
    b.labelsHash = r.labelsHash();
    b.labels = r.labels();
    b.annotationsHash = r.annotationsHash();
    b.specHash = r.specHash();
    b.statusHash = r.statusHash();
    b.containers = new ArrayList<>(r.containers());
    return b;
  }

  public PodRecordBuilder uid(String uid) {
    this.uid = uid;
    return this;
  }

  public PodRecordBuilder namespace(String namespace) {
    this.namespace = namespace;
    return this;
  }

  public PodRecordBuilder name(String name) {
    this.name = name;
    return this;
  }

  public PodRecordBuilder nodeName(String nodeName) {
    this.nodeName = nodeName;
    return this;
  }

  public PodRecordBuilder phase(String phase) {
    this.phase = phase;
    return this;
  }

  public PodRecordBuilder resourceVersion(String resourceVersion) {
    this.resourceVersion = resourceVersion;
    return this;
  }

  public PodRecordBuilder creationTimestamp(Instant creationTimestamp) {
    this.creationTimestamp = creationTimestamp;
    return this;
  }

  /** Marks the pod deleting: the grace period ends at {@code deletionTimestamp}. */
  public PodRecordBuilder deleting(Instant deletionTimestamp, long gracePeriodSeconds) {
    this.deletionTimestamp = deletionTimestamp;
    this.deletionGracePeriodSeconds = gracePeriodSeconds;
    return this;
  }

  /** Marks the pod deleting with the default grace period of 30 s. */
  public PodRecordBuilder deleting(Instant deletionTimestamp) {
    return deleting(deletionTimestamp, 30L);
  }

  public PodRecordBuilder notDeleting() {
    this.deletionTimestamp = null;
    this.deletionGracePeriodSeconds = null;
    return this;
  }

  public PodRecordBuilder configSource(String configSource) {
    this.configSource = configSource;
    return this;
  }

  public PodRecordBuilder configHash(String configHash) {
    this.configHash = configHash;
    return this;
  }

  public PodRecordBuilder configMirror(String configMirror) {
    this.configMirror = configMirror;
    return this;
  }

  /**
   * A static pod as the kubelet lists it: UID = config hash = {@code hash}, source {@code file}, no
   * resourceVersion, no creationTimestamp, no controller.
   */
  public PodRecordBuilder staticPod(String hash) {
    this.uid = hash;
    this.configHash = hash;
    this.configSource = "file";
    this.configMirror = null;
    this.resourceVersion = null;
    this.creationTimestamp = null;
    this.controllerKind = "Node";
    return this;
  }

  /**
   * The API server's mirror of the static pod {@code staticUid}: its own {@code uid}, with {@code
   * config.mirror} and {@code config.hash} = {@code staticUid}. The source annotation is copied
   * from the static pod, as the real kubelet does.
   */
  public PodRecordBuilder mirrorOf(String staticUid, String uid) {
    this.uid = uid;
    this.configHash = staticUid;
    this.configMirror = staticUid;
    this.configSource = "file";
    this.controllerKind = "Node";
    return this;
  }

  public PodRecordBuilder controllerKind(String controllerKind) {
    this.controllerKind = controllerKind;
    return this;
  }

  /** Sets the labels (and a digest that differs with them, as the decoder's would). */
  public PodRecordBuilder labels(java.util.Map<String, String> labels) {
    this.labels = labels;
    this.labelsHash = 11L + labels.hashCode();
    return this;
  }

  public PodRecordBuilder labelsHash(long labelsHash) {
    this.labelsHash = labelsHash;
    return this;
  }

  public PodRecordBuilder annotationsHash(long annotationsHash) {
    this.annotationsHash = annotationsHash;
    return this;
  }

  public PodRecordBuilder specHash(long specHash) {
    this.specHash = specHash;
    return this;
  }

  public PodRecordBuilder statusHash(long statusHash) {
    this.statusHash = statusHash;
    return this;
  }

  /** Appends a ready container with no restarts. */
  public PodRecordBuilder container(String name, ContainerState state) {
    containers.add(new ContainerStatusRecord(name, state, state == ContainerState.RUNNING, 0));
    return this;
  }

  /** Appends running containers of these names. */
  public PodRecordBuilder running(String... names) {
    for (String n : names) {
      container(n, ContainerState.RUNNING);
    }
    return this;
  }

  public PodRecordBuilder containers(List<ContainerStatusRecord> containers) {
    this.containers = new ArrayList<>(containers);
    return this;
  }

  public PodRecord build() {
    return new PodRecord(
        uid,
        namespace,
        name,
        nodeName,
        phase,
        resourceVersion,
        creationTimestamp,
        deletionTimestamp,
        deletionGracePeriodSeconds,
        configSource,
        configHash,
        configMirror,
        controllerKind,
        labelsHash,
        annotationsHash,
        specHash,
        statusHash,
        containers,
        labels);
  }
}
