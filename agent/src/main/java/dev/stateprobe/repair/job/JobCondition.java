package dev.stateprobe.repair.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One entry of {@code status.conditions}, in the shape of the standard {@code metav1.Condition}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobCondition(
    String type,
    String status,
    Long observedGeneration,
    Instant lastTransitionTime,
    String reason,
    String message) {

  /** The {@code reason} pattern of {@code metav1.Condition}. */
  static final Pattern REASON = Pattern.compile("^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$");

  public static final String TRUE = "True";
  public static final String FALSE = "False";
  public static final String UNKNOWN = "Unknown";

  public JobCondition {
    Objects.requireNonNull(type, "condition type");
    Objects.requireNonNull(status, "condition " + type + ": status");
    Objects.requireNonNull(lastTransitionTime, "condition " + type + ": lastTransitionTime");
    Objects.requireNonNull(reason, "condition " + type + ": reason");
    Objects.requireNonNull(message, "condition " + type + ": message");
    if (!status.equals(TRUE) && !status.equals(FALSE) && !status.equals(UNKNOWN)) {
      throw new IllegalArgumentException(
          "condition " + type + ": status must be True, False or Unknown, was " + status);
    }
    if (!REASON.matcher(reason).matches() || reason.length() > 1024) {
      throw new IllegalArgumentException(
          "condition " + type + ": reason is not CamelCase: " + reason);
    }
  }
}
