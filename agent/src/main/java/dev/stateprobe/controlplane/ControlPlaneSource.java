package dev.stateprobe.controlplane;

import dev.stateprobe.view.ControlPlaneView;
import java.time.Instant;
import java.util.concurrent.CompletionStage;

/** The informer as the rest of the agent sees it. */
public interface ControlPlaneSource extends AutoCloseable {

  /** Starts the informer without waiting for its initial list. */
  void start();

  /** The current pods as an immutable view; cheap, safe from any thread. */
  ControlPlaneView snapshot(Instant now);

  /**
   * Completes (once, on any thread) when the view first holds a complete list. The agent uses it to
   * run its first trusted cycle then instead of a whole poll interval later.
   */
  CompletionStage<Void> firstSync();

  @Override
  void close();
}
