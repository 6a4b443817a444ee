package dev.stateprobe.controlplane;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The objects of one list/watch by key, plus the trust bookkeeping its snapshots report. {@link
 * ListWatch} changes it from its one Vert.x context, in the order the API server sent things;
 * readers on any thread go through the one lock, so a snapshot never mixes two moments.
 *
 * <ul>
 *   <li>{@code synced}: a first complete list (the last page of a LIST, or the bookmark that ends a
 *       streaming list's initial events) has replaced the objects <em>and</em> a watch is open
 *       after it (the first sync). Between the list and its watch the view is not synced rather
 *       than re-listing: nothing has been lost yet, the view has simply not started.
 *   <li>{@code relisting}: a list after the first is under way, <em>or</em>, once synced, no watch
 *       is open (a reconnect, a back-off after a failure, an outage). Whenever the watch is not
 *       open the view may be stale, and says so.
 *   <li>{@code relists}, {@code lastRelistAt}: completed lists after the first, and the injected
 *       clock's time when the last one completed.
 *   <li>{@code watchRestarts}: watches the API server accepted after the first one (a streaming
 *       list is a watch too). Refused attempts are not counted, so an outage of any length is one
 *       restart.
 *   <li>{@code resourceVersion}: the list's, then the last event's or bookmark's (opaque).
 * </ul>
 *
 * <p>{@link #changed} runs after every change of the objects (a completed list, an event applied),
 * outside the lock, on the list/watch's context.
 *
 * @param <T> what one object decodes to
 */
class ListWatchState<T> {
  private final Clock clock;
  protected final Object lock = new Object();
  private final CompletableFuture<Void> firstSync = new CompletableFuture<>();
  // Guarded by lock.
  protected Map<String, T> objects = new HashMap<>();
  protected boolean firstSynced;
  protected boolean listing;
  protected boolean watching;
  protected Instant lastRelistAt;
  protected String resourceVersion;
  protected long relists;
  protected long watchesOpened;
  private boolean synced;

  ListWatchState(Clock clock) {
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

  /** A list completed: its objects replace all others. */
  void listed(Map<String, T> listed, String listResourceVersion) {
    Instant now = clock.instant();
    boolean usable;
    synchronized (lock) {
      objects = listed;
      resourceVersion = listResourceVersion;
      if (synced) {
        relists++;
        lastRelistAt = now;
      }
      synced = true;
      listing = false;
      usable = watching;
      firstSynced |= usable;
      dirty();
    }
    completeFirstSyncIf(usable);
    changed();
  }

  /** An ADDED or MODIFIED event of an object that decoded. */
  void put(String key, T object, String eventResourceVersion) {
    synchronized (lock) {
      objects.put(key, object);
      resourceVersion = eventResourceVersion;
      dirty();
    }
    changed();
  }

  /** A DELETED event (by key). */
  void remove(String key, String eventResourceVersion) {
    boolean was;
    synchronized (lock) {
      was = objects.remove(key) != null;
      resourceVersion = eventResourceVersion;
      dirty();
    }
    if (was) {
      changed();
    }
  }

  /** A bookmark, or an event whose object did not decode: the view is as of this version. */
  void at(String eventResourceVersion) {
    synchronized (lock) {
      resourceVersion = eventResourceVersion;
    }
  }

  /** The current object of {@code key}, or {@code null}. */
  T get(String key) {
    synchronized (lock) {
      return objects.get(key);
    }
  }

  void watchOpened() {
    boolean usable;
    boolean first;
    synchronized (lock) {
      watchesOpened++;
      watching = true;
      usable = synced && !listing;
      first = usable && !firstSynced;
      firstSynced |= usable;
    }
    completeFirstSyncIf(usable);
    if (first) {
      changed();
    }
  }

  /**
   * The first sync is when the view can first be trusted: a list has completed AND a watch carries
   * it on. Outside the lock: whoever waits runs on this thread, and must not see the lock.
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

  /** The objects changed (under the lock): a cached snapshot is stale. */
  protected void dirty() {}

  /** The objects changed (outside the lock). */
  protected void changed() {}
}
