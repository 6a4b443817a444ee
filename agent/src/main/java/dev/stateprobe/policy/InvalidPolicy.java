package dev.stateprobe.policy;

import java.util.Objects;

/**
 * A ConsistencyPolicy the agent refused: it selects nothing until it is fixed.
 *
 * @param name {@code metadata.name}, or {@code ""} when even that was unreadable
 * @param resourceVersion {@code metadata.resourceVersion}, {@code ""} when absent: a new version is
 *     judged (and reported) again
 * @param uid {@code metadata.uid}, {@code ""} when absent (an Event on the policy needs it)
 * @param field the field at fault, as a path ({@code spec.overrides.minObservations})
 * @param message what is wrong with it, for people
 */
public record InvalidPolicy(
    String name, String resourceVersion, String uid, String field, String message) {
  public InvalidPolicy {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(resourceVersion, "resourceVersion");
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(message, "message");
  }

  /** One sentence naming the policy and the field. */
  public String describe() {
    return "ConsistencyPolicy "
        + (name.isEmpty() ? "(no name)" : name)
        + ": "
        + field
        + ": "
        + message;
  }
}
