package dev.stateprobe.controlplane;

import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The informer's event handler and the state it keeps: {@link PodRecord}s by UID plus the list
 * bookkeeping a {@link ControlPlaneView} reports. fabric8 calls the handler from one serial
 * executor, in the order the informer changed its cache; {@link #snapshot} may be called from any
 * thread and copies everything under one lock, so a view never mixes two moments.
 *
 * <p>List bookkeeping, from fabric8 8.0's {@code Reflector}: every list (the first one and each
 * re-list) is announced by {@code onBeforeList} and ended by {@code onList}, after the list's adds,
 * updates and deletes (objects gone from the list arrive as {@code onDelete(obj, true)}). A re-list
 * is a list after the first completed one: after a 410 Gone, after a watch that failed in a way the
 * watch manager would not retry, or after a failed list. A list that fails is retried without a
 * second {@code onBeforeList}, so one re-list is counted once, when it completes.
 */
final class PodViewState implements ResourceEventHandler<Pod> {
  private static final Logger log = LoggerFactory.getLogger(PodViewState.class);

  private final PodJsonDecoder decoder;
  private final KubernetesSerialization serialization;
  private final Clock clock;
  private final String nodeName;
  private final AtomicLong decodeFailures = new AtomicLong();
  private final Object lock = new Object();
  private final CompletableFuture<Void> firstSync = new CompletableFuture<>();
  // Guarded by lock.
  private final Map<String, PodRecord> pods = new HashMap<>();
  private final Set<String> reportedUndecodable = new HashSet<>();
  private boolean synced;
  private boolean listing;
  private Instant lastRelistAt;
  private String resourceVersion;
  private long relists;

  PodViewState(
      PodJsonDecoder decoder, KubernetesSerialization serialization, Clock clock, String nodeName) {
    this.decoder = decoder;
    this.serialization = serialization;
    this.clock = clock;
    this.nodeName = nodeName;
  }

  @Override
  public void onBeforeList(String lastSyncResourceVersion) {
    synchronized (lock) {
      if (synced) {
        listing = true;
      }
    }
  }

  @Override
  public void onList(String listResourceVersion, boolean remainedEmpty) {
    Instant now = clock.instant();
    synchronized (lock) {
      resourceVersion = listResourceVersion;
      if (synced) {
        relists++;
        lastRelistAt = now;
      }
      synced = true;
      listing = false;
    }
    // Outside the lock: whoever waits runs on this (fabric8's) thread, and must not see the lock.
    firstSync.complete(null);
  }

  /** Completes once, when the end of the first list has been processed. */
  CompletionStage<Void> firstSync() {
    return firstSync.minimalCompletionStage();
  }

  @Override
  public void onAdd(Pod pod) {
    store(null, pod);
  }

  @Override
  public void onUpdate(Pod oldPod, Pod newPod) {
    store(oldPod, newPod);
  }

  @Override
  public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
    String uid = pod.getMetadata().getUid();
    synchronized (lock) {
      pods.remove(uid);
      reportedUndecodable.remove(uid);
      // A delete found by a re-list carries the stored skeleton; the list's own resourceVersion
      // follows in onList.
      if (!deletedFinalStateUnknown) {
        followEvent(pod);
      }
    }
  }

  private void store(Pod oldPod, Pod pod) {
    String uid = pod.getMetadata().getUid();
    PodRecord record = decode(pod);
    synchronized (lock) {
      if (oldPod != null && !Objects.equals(uid, oldPod.getMetadata().getUid())) {
        pods.remove(oldPod.getMetadata().getUid());
      }
      if (record != null) {
        pods.put(uid, record);
        reportedUndecodable.remove(uid);
      } else if (reportedUndecodable.add(uid)) {
        log.warn(
            "pod {}/{} (uid {}) on node {} could not be decoded; keeping its last good record, if"
                + " any (logged once per pod)",
            pod.getMetadata().getNamespace(),
            pod.getMetadata().getName(),
            uid,
            nodeName);
      }
      followEvent(pod);
    }
  }

  // Guarded by lock. During a list the objects carry older versions than the list itself.
  private void followEvent(Pod pod) {
    if (synced && !listing) {
      resourceVersion = pod.getMetadata().getResourceVersion();
    }
  }

  /**
   * The pod as the decoder sees the kubelet's copy: fabric8's re-serialization of the informer's
   * object, decoded by the same code as {@code /pods}. Never throws: a failure is counted.
   */
  private PodRecord decode(Pod pod) {
    try {
      return decoder.decodePod(serialization.asJson(pod).getBytes(StandardCharsets.UTF_8));
    } catch (DecodeException | RuntimeException e) {
      decodeFailures.incrementAndGet();
      if (log.isDebugEnabled()) {
        log.debug("decode of pod uid {} failed", pod.getMetadata().getUid(), e);
      }
      return null;
    }
  }

  boolean synced() {
    synchronized (lock) {
      return synced;
    }
  }

  long relists() {
    synchronized (lock) {
      return relists;
    }
  }

  long decodeFailures() {
    return decodeFailures.get();
  }

  /**
   * @param watching whether the informer's watch is open at this moment; after the first sync, a
   *     view whose watch is not open is reported as re-listing (see {@link PodInformerSource})
   */
  ControlPlaneView snapshot(Instant now, boolean watching, long watchRestarts) {
    synchronized (lock) {
      return new ControlPlaneView(
          pods,
          now,
          synced,
          listing || (synced && !watching),
          lastRelistAt,
          resourceVersion,
          relists,
          watchRestarts);
    }
  }
}
