package dev.stateprobe.kubelet;

import dev.stateprobe.metrics.FailureReason;

/** A failed kubelet request, with the bounded reason used as a metric tag. */
public final class KubeletException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final FailureReason reason;

  public KubeletException(FailureReason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public KubeletException(FailureReason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public FailureReason reason() {
    return reason;
  }
}
