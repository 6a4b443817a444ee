package dev.stateprobe.policy;

import java.util.Objects;

/** A ConsistencyPolicy the agent refuses; {@link #invalid()} says which, where and why. */
public final class PolicyException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient InvalidPolicy invalid;

  public PolicyException(InvalidPolicy invalid) {
    super(Objects.requireNonNull(invalid, "invalid").describe());
    this.invalid = invalid;
  }

  public InvalidPolicy invalid() {
    return invalid;
  }
}
