package dev.stateprobe.controlplane;

import dev.stateprobe.view.ControlPlaneView;
import java.time.Instant;

/** The informer as the rest of the agent sees it. */
public interface ControlPlaneSource extends AutoCloseable {

  /** Starts the informer without waiting for its initial list. */
  void start();

  /** The current pods as an immutable view; cheap, safe from any thread. */
  ControlPlaneView snapshot(Instant now);

  @Override
  void close();
}
