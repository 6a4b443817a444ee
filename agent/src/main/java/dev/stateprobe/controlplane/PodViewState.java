package dev.stateprobe.controlplane;

import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import java.time.Clock;
import java.time.Instant;

/**
 * The pods of this node as {@link PodRecord}s by UID, plus the bookkeeping a {@link
 * ControlPlaneView} reports ({@link ListWatchState}'s, keyed by UID). The list/watch changes it
 * from its one Vert.x context, in the order the API server sent things; {@link #snapshot} may be
 * called from any thread and copies everything under one lock, so a view never mixes two moments.
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
final class PodViewState extends ListWatchState<PodRecord> {

  PodViewState(Clock clock) {
    super(clock);
  }

  /** An ADDED or MODIFIED event of a pod that decoded. */
  void put(PodRecord pod, String eventResourceVersion) {
    put(pod.uid(), pod, eventResourceVersion);
  }

  /** The current record of {@code uid}, or {@code null}. */
  PodRecord record(String uid) {
    return get(uid);
  }

  ControlPlaneView snapshot(Instant now) {
    synchronized (lock) {
      return new ControlPlaneView(
          objects,
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
