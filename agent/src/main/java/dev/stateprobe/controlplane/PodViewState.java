package dev.stateprobe.controlplane;

import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The pods of this node as {@link PodRecord}s by UID, plus the bookkeeping a {@link
 * ControlPlaneView} reports. The list/watch changes it from its one Vert.x context, in the order
 * the API server sent things; {@link #snapshot} may be called from any thread and copies everything
 * under one lock, so a view never mixes two moments.
 *
 * <ul>
 *   <li>{@code synced}: a first complete list (the last page of a LIST, or the bookmark that ends a
 *       streaming list's initial events) has replaced the records <em>and</em> a watch is open
 *       after it (the first sync). Between the list and its watch the view is not synced rather
 *       than re-listing: nothing has been lost yet, the view has simply not started.
 *   <li>{@code relisting}: a list after the first is under way, <em>or</em>, once synced, no watch
 *       is open (a reconnect, a back-off after a failure, an outage). Whenever the watch is not
 *       open the view may be stale, and says so; the price is that the short gap of an ordinary
 *       reconnect reads as re-listing too, which costs at most an untrusted cycle, never a verdict.
 *   <li>{@code relists}, {@code lastRelistAt}: completed lists after the first, and the injected
 *       clock's time when the last one completed.
 *   <li>{@code watchRestarts}: watches the API server accepted after the first one (a streaming
 *       list is a watch too): resumes after a drop or a timeout, the watch after each re-list, and
 *       one answered 410 (accepted, then an ERROR event). Refused attempts are not counted, so an
 *       outage of any length is one restart.
 *   <li>{@code resourceVersion}: the list's, then the last event's or bookmark's (opaque).
 * </ul>
 */
final class PodViewState {
  private final Clock clock;
  private final Object lock = new Object();
  private final CompletableFuture<Void> firstSync = new CompletableFuture<>();
  // Guarded by lock.
  private Map<String, PodRecord> pods = new HashMap<>();
  private boolean synced;
  private boolean firstSynced;
  private boolean listing;
  private boolean watching;
  private Instant lastRelistAt;
  private String resourceVersion;
  private long relists;
  private long watchesOpened;

  PodViewState(Clock clock) {
    this.clock = clock;
  }

  /** A list begins; after the first sync that makes the view "re-listing" until it completes. */
  void listStarted() {
    synchronized (lock) {
      if (synced) {
        listing = true;
      }
    }
  }

  /** A list completed: its records replace all others. */
  void listed(Map<String, PodRecord> listed, String listResourceVersion) {
    Instant now = clock.instant();
    boolean usable;
    synchronized (lock) {
      pods = listed;
      resourceVersion = listResourceVersion;
      if (synced) {
        relists++;
        lastRelistAt = now;
      }
      synced = true;
      listing = false;
      usable = watching;
      firstSynced |= usable;
    }
    completeFirstSyncIf(usable);
  }

  /** An ADDED or MODIFIED event of a pod that decoded. */
  void put(PodRecord pod, String eventResourceVersion) {
    synchronized (lock) {
      pods.put(pod.uid(), pod);
      resourceVersion = eventResourceVersion;
    }
  }

  /** A DELETED event, or a MODIFIED one that moved the pod away (by UID). */
  void remove(String uid, String eventResourceVersion) {
    synchronized (lock) {
      pods.remove(uid);
      resourceVersion = eventResourceVersion;
    }
  }

  /** A bookmark, or an event whose pod did not decode: the view is as of this version. */
  void at(String eventResourceVersion) {
    synchronized (lock) {
      resourceVersion = eventResourceVersion;
    }
  }

  /** The current record of {@code uid}, or {@code null}. */
  PodRecord record(String uid) {
    synchronized (lock) {
      return pods.get(uid);
    }
  }

  void watchOpened() {
    boolean usable;
    synchronized (lock) {
      watchesOpened++;
      watching = true;
      usable = synced && !listing;
      firstSynced |= usable;
    }
    completeFirstSyncIf(usable);
  }

  /**
   * The first sync is when the view can first be trusted: a list has completed AND a watch carries
   * it on. Completing at the list alone woke the agent while the view still read as re-listing (no
   * watch yet), so its extra cycle was untrusted and a 1000-pod node waited a poll interval more.
   * Outside the lock: whoever waits runs on this thread, and must not see the lock.
   */
  private void completeFirstSyncIf(boolean usable) {
    if (usable) {
      firstSync.complete(null);
    }
  }

  void watchClosed() {
    synchronized (lock) {
      watching = false;
    }
  }

  /** Completes once, when the first list has completed and a watch is open after it. */
  CompletionStage<Void> firstSync() {
    return firstSync.minimalCompletionStage();
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

  long watchRestarts() {
    synchronized (lock) {
      return Math.max(0, watchesOpened - 1);
    }
  }

  String resourceVersion() {
    synchronized (lock) {
      return resourceVersion;
    }
  }

  ControlPlaneView snapshot(Instant now) {
    synchronized (lock) {
      return new ControlPlaneView(
          pods,
          now,
          firstSynced,
          firstSynced && (listing || !watching),
          lastRelistAt,
          resourceVersion,
          relists,
          Math.max(0, watchesOpened - 1));
    }
  }
}
