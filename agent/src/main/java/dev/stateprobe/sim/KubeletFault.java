package dev.stateprobe.sim;

import java.time.Duration;
import java.util.Objects;

/**
 * A misbehaviour {@link FakeKubelet} can show on its next replies to {@code /pods} or {@code
 * /runningpods/}.
 */
public sealed interface KubeletFault {

  /** Answer with this status and a short text body. */
  record Status(int code) implements KubeletFault {
    public Status {
      if (code < 200 || code > 599) {
        throw new IllegalArgumentException(
            "status " + code + " is not an HTTP status from 200 to 599");
      }
    }
  }

  /** Answer 200 with a body that is not JSON. */
  record Garbage() implements KubeletFault {}

  /**
   * Answer 200 with exactly these bytes as {@code application/json} (a capture verbatim, a crafted
   * list).
   */
  record Body(byte[] bytes) implements KubeletFault {
    public Body {
      bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
      return bytes.clone();
    }
  }

  /** Wait this long before the head of the normal reply. */
  record Delay(Duration delay) implements KubeletFault {
    public Delay {
      Objects.requireNonNull(delay, "delay");
    }
  }

  /**
   * Send the head at once, then the normal body {@code chunkBytes} at a time every {@code every}: a
   * reply that is never idle long enough for an idle timeout.
   */
  record Trickle(int chunkBytes, Duration every) implements KubeletFault {
    public Trickle {
      Objects.requireNonNull(every, "every");
      if (chunkBytes < 1) {
        throw new IllegalArgumentException("chunkBytes must be at least 1, got " + chunkBytes);
      }
    }
  }

  /**
   * Answer 200 with a valid but huge PodList of {@code bytes} bytes (mostly whitespace), written as
   * fast as the client reads it. With {@code declareLength} the head carries its Content-Length,
   * otherwise it is chunked and only counting tells.
   */
  record Oversize(long bytes, boolean declareLength) implements KubeletFault {
    public Oversize {
      if (bytes < 64) {
        throw new IllegalArgumentException(
            "an over-size reply needs at least 64 bytes, got " + bytes);
      }
    }
  }

  /**
   * Answer 200 in chunks with the first {@code cutAfter} of these bytes, then close the connection
   * without the last chunk: a reply cut off mid-body (a kubelet that died, a proxy that gave up).
   */
  record Truncated(byte[] bytes, int cutAfter) implements KubeletFault {
    public Truncated {
      if (cutAfter < 0 || cutAfter > bytes.length) {
        throw new IllegalArgumentException(
            "cutAfter must be between 0 and " + bytes.length + ", got " + cutAfter);
      }
    }
  }

  /**
   * Answer with this status and a body that repeats the request's headers, as a misconfigured proxy
   * or debugging endpoint does: the client's credentials come back in the error text.
   */
  record EchoHeaders(int code) implements KubeletFault {}

  static KubeletFault status(int code) {
    return new Status(code);
  }

  static KubeletFault garbage() {
    return new Garbage();
  }

  static KubeletFault body(byte[] bytes) {
    return new Body(bytes);
  }

  static KubeletFault delay(Duration delay) {
    return new Delay(delay);
  }

  static KubeletFault trickle(int chunkBytes, Duration every) {
    return new Trickle(chunkBytes, every);
  }

  static KubeletFault oversize(long bytes, boolean declareLength) {
    return new Oversize(bytes, declareLength);
  }
}
