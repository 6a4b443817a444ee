package dev.stateprobe.controlplane;

import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.DoubleSupplier;

/**
 * The control-plane view: the agent's own list/watch of the pods with {@code spec.nodeName=NODE},
 * over Vert.x ({@link ApiServerClient}), each pod decoded by {@link PodJsonDecoder} straight from
 * the bytes the API server sent, as the kubelet's {@code /pods} is. No fabric8 informer, no fabric8
 * model object.
 *
 * <h2>How it keeps the view</h2>
 *
 * <ol>
 *   <li><b>Initial sync.</b> A streaming list (a watch with {@code sendInitialEvents=true}, {@code
 *       resourceVersionMatch=NotOlderThan}, {@code allowWatchBookmarks=true}; KEP-3157, beta from
 *       1.32): the current pods arrive as ADDED events, and a BOOKMARK annotated {@code
 *       k8s.io/initial-events-end: "true"} says the list is complete, on the same connection that
 *       then goes on watching. A server that refuses the parameters (400/422: feature gate off, or
 *       older than 1.27) or never sends that bookmark within {@link
 *       ListWatch.Settings#initialEventsDeadline} gets a paged LIST instead ({@code limit}/{@code
 *       continue}, {@link ListWatch#LIST_PAGE_SIZE} a page), for as long as this source lives.
 *   <li><b>Watch.</b> From the list's resourceVersion, with bookmarks and a {@code timeoutSeconds}
 *       between 1 and 2 times {@link ListWatch.Settings#watchTimeout} (randomized as client-go
 *       does, so the watches of a cluster do not all end together).
 *   <li><b>Resume, no re-list.</b> When a watch ends (its timeout, a dropped connection, a
 *       read-idle connection, an HTTP error other than 410), the next watch starts from the last
 *       resourceVersion seen: the last event's or bookmark's. Bookmarks keep it recent, so a resume
 *       rarely lands on a compacted version.
 *   <li><b>410 Gone → re-list.</b> An answer 410 to the watch request, or an ERROR event with code
 *       410 on an open watch (what kube-apiserver's watch cache sends for a too-old version), or a
 *       410 to a LIST's {@code continue} token: the records are listed again from scratch.
 *   <li><b>Back-off.</b> Every retry waits {@link Backoff}'s jittered, doubling delay ({@link
 *       ListWatch.Settings#backoffBase} up to {@link ListWatch.Settings#backoffCap}); it starts
 *       again from the base once a watch delivers anything, or a list completes. A watch that ran
 *       its course and ended cleanly is resumed at once.
 * </ol>
 *
 * <p>The trust signals are {@link PodViewState}'s: synced, re-listing (a list under way after the
 * first, or no watch open), relists, watch restarts, resourceVersion.
 *
 * <p>The machine is {@link ListWatch}'s (one for every resource), keyed here by UID and kept in a
 * {@link PodViewState}. Threading: everything except {@link #snapshot} and the counters runs on one
 * Vert.x context; decoding one event, or one page of {@link ListWatch#LIST_PAGE_SIZE} pods (~2 ms),
 * runs there too.
 */
public final class PodListWatch implements ControlPlaneSource {

  /** Pods per page of a LIST: a page is decoded whole, and a 1000-pod node's list is ~4 MB. */
  private final PodViewState state;

  private final ListWatch<PodRecord> machine;

  /**
   * @param api the agent's API server client (not closed here)
   * @param nodeName the node whose pods to list and watch (the value of {@code spec.nodeName})
   * @param decoder the decoder the kubelet view uses
   * @param clock the time of {@code lastRelistAt}
   * @param random jitter of back-off and watch timeouts, values in [0, 1)
   */
  public PodListWatch(
      ApiServerClient api,
      String nodeName,
      PodJsonDecoder decoder,
      Clock clock,
      DoubleSupplier random,
      ListWatch.Settings settings) {
    Objects.requireNonNull(api, "api");
    if (nodeName == null || nodeName.isBlank()) {
      throw new IllegalArgumentException("nodeName is required, got '" + nodeName + "'");
    }
    Objects.requireNonNull(decoder, "decoder");
    this.state = new PodViewState(Objects.requireNonNull(clock, "clock"));
    this.machine =
        new ListWatch<>(
            api,
            ResourceRef.podsOnNode(nodeName),
            "the pods of node " + nodeName,
            true,
            decoder::decodePod,
            state,
            null,
            Objects.requireNonNull(settings, "settings"),
            random);
  }

  /** Starts the first list and returns at once. */
  @Override
  public void start() {
    machine.start();
  }

  @Override
  public ControlPlaneView snapshot(Instant now) {
    return state.snapshot(now);
  }

  @Override
  public CompletionStage<Void> firstSync() {
    return state.firstSync();
  }

  /** A first complete list has been applied. */
  public boolean hasSynced() {
    return state.synced();
  }

  /** Completed lists after the first. */
  public long relists() {
    return state.relists();
  }

  /** Watches the API server accepted after the first one. */
  public long watchRestarts() {
    return state.watchRestarts();
  }

  /** Pod versions (or events) that could not be decoded. */
  public long decodeFailures() {
    return machine.decodeFailures();
  }

  /** LIST requests sent (pages included); 0 while streaming lists work. */
  public long listRequests() {
    return machine.listRequests();
  }

  /** Whether the initial sync used a streaming list; empty until the server told. */
  public java.util.Optional<Boolean> streamingListSupported() {
    return machine.streamingListSupported();
  }

  /**
   * Stops listing and watching. Idempotent; the API client stays open. Off a Vert.x thread it waits
   * (at most 5 s) for the watch's connection to close.
   */
  @Override
  public void close() {
    machine.close();
  }
}
