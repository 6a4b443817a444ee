package dev.stateprobe.kubelet;

import dev.stateprobe.metrics.FailureReason;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.security.GeneralSecurityException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/** Maps transport exceptions to {@link FailureReason}s by walking the cause chain. */
final class Failures {
  private Failures() {}

  /**
   * The reason for an exception that ended a request before a status arrived. A connect timeout
   * counts as {@code CONNECT} (the kubelet is unreachable), not {@code TIMEOUT}, which is kept for
   * a kubelet that accepted the request and was too slow to answer it.
   */
  static FailureReason classify(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KubeletException k) {
        return k.reason();
      }
      if (t instanceof SSLException || t instanceof GeneralSecurityException) {
        return FailureReason.TLS;
      }
      if (t instanceof ConnectException
          || t instanceof UnknownHostException
          || t instanceof NoRouteToHostException) {
        return FailureReason.CONNECT; // includes Netty's ConnectTimeoutException
      }
      if (t instanceof TimeoutException
          || t instanceof SocketTimeoutException
          || t.getClass().getSimpleName().contains("Timeout")) {
        return FailureReason.TIMEOUT; // Vert.x's idle timeout is a NoStackTraceTimeoutException
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ClosedChannelException || t.getClass().getSimpleName().contains("Closed")) {
        return FailureReason.CONNECT; // closed mid-reply: as good as unreachable
      }
    }
    return FailureReason.CONNECT;
  }

  /** The exception for {@code failure}, keeping a {@link KubeletException} as it is. */
  static KubeletException wrap(String what, Throwable failure) {
    if (failure instanceof KubeletException k) {
      return k;
    }
    FailureReason reason = classify(failure);
    if (reason == FailureReason.TLS) {
      return new KubeletException(reason, what + ": TLS failed: " + rootMessage(failure), failure);
    }
    return new KubeletException(reason, what + ": " + rootMessage(failure), failure);
  }

  static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return root.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
