package dev.stateprobe.fleet;

import java.util.Optional;

/** Where the agent reads the brake from: the latest brake object it has seen, if any. */
@FunctionalInterface
public interface BrakeSource {
  /** The brake object as last seen; empty when none exists or none was read yet. */
  Optional<BrakeObject> latest();
}
