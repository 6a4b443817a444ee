package dev.stateprobe.kubelet;

import dev.stateprobe.metrics.FailureReason;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bearer token from a file, cached, re-read when the file changed. Bound service-account tokens
 * rotate: the kubelet writes the new token into a fresh directory and swaps the {@code ..data}
 * symlink, so the real path changes; an in-place rewrite changes the modification time or the size.
 * A rewrite that keeps all three (same size, same second) is caught by {@link #reload()} after the
 * kubelet answers 401.
 *
 * <p>Every check touches the file system (a {@code stat} and a {@code realpath}, a read when it
 * changed): small, but blocking, so {@link #token()} and {@link #reload()} run it on the worker
 * executor. The hop costs well under a millisecond once per poll; a cache with a time-to-live would
 * save it but would answer with a stale token for that long after a swap.
 *
 * <p>Thread-safe. The token itself is never logged nor put into an exception message.
 */
public final class TokenSource {
  private static final Logger LOG = LoggerFactory.getLogger(TokenSource.class);

  /** What identifies one version of the file: a change in any of them means "read it again". */
  record Stamp(Path realPath, FileTime modified, long size) {}

  private record Cached(Stamp stamp, String token) {}

  /** Tokens remembered for {@link #redact}: the current one and those it replaced lately. */
  private static final int REMEMBERED = 4;

  static final int REDACTED_MIN = 8;

  private final Path file;
  private final WorkerExecutor worker;
  private final Deque<String> sent = new ArrayDeque<>(); // guarded by this
  private Cached cached; // guarded by this
  private long reads; // guarded by this

  /**
   * @param worker where the file is read; {@code null} only for the blocking methods of tests
   */
  public TokenSource(Path file, WorkerExecutor worker) {
    this.file = Objects.requireNonNull(file, "file");
    this.worker = worker;
  }

  public Path file() {
    return file;
  }

  /** The current token, read again only when the file changed. Fails with {@code TOKEN}. */
  public Future<String> token() {
    return worker.executeBlocking(this::currentBlocking, false);
  }

  /** Reads the file again whatever its stamp says (after a 401). Fails with {@code TOKEN}. */
  public Future<String> reload() {
    return worker.executeBlocking(this::reloadBlocking, false);
  }

  /** How many times the file was actually read (not just checked). */
  public synchronized long reads() {
    return reads;
  }

  /** Blocking: stat the file; read it only when its stamp differs from the cached one. */
  synchronized String currentBlocking() {
    Stamp stamp = stamp();
    if (cached != null && cached.stamp().equals(stamp)) {
      return cached.token();
    }
    return read(stamp);
  }

  /** Blocking: read the file unconditionally. */
  synchronized String reloadBlocking() {
    return read(stamp());
  }

  private Stamp stamp() {
    try {
      Path real = file.toRealPath();
      BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
      return new Stamp(real, attrs.lastModifiedTime(), attrs.size());
    } catch (IOException e) {
      throw new KubeletException(
          FailureReason.TOKEN, "cannot read the token file " + file + ": " + e, e);
    }
  }

  private String read(Stamp stamp) {
    String token;
    try {
      // Through the link, not the resolved path: the old target may be gone after a swap. A
      // swap between stat and read leaves a stale stamp, which only costs one more read.
      token = Files.readString(file, StandardCharsets.UTF_8);
    } catch (MalformedInputException e) {
      throw new KubeletException(
          FailureReason.TOKEN, "the token file " + file + " is not UTF-8 text; no token sent");
    } catch (IOException e) {
      throw new KubeletException(
          FailureReason.TOKEN,
          "cannot read the token file " + file + ": " + e.getClass().getSimpleName());
    }
    token = validated(token);
    reads++;
    boolean changed = cached != null && !cached.token().equals(token);
    cached = new Cached(stamp, token);
    if (!sent.contains(token)) {
      sent.addFirst(token);
      while (sent.size() > REMEMBERED) {
        sent.removeLast();
      }
    }
    if (changed) {
      LOG.info("kubelet token reloaded from {} (now {})", file, stamp.realPath());
    }
    return token;
  }

  /**
   * The token as a bearer token must be, or a {@code TOKEN} failure that names the file and never
   * its content. Surrounding white space (the trailing newline an editor or {@code echo} adds) is
   * trimmed, as kubectl and client-go do; what is left must be one non-empty run of visible ASCII,
   * the characters an HTTP header may carry: a newline inside would split the header, and Vert.x
   * refused it with an exception that quoted the whole header, token and all.
   */
  String validated(String raw) {
    String token = raw.strip();
    if (token.isEmpty()) {
      throw new KubeletException(FailureReason.TOKEN, "the token file " + file + " is empty");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c == '\n' || c == '\r') {
        throw new KubeletException(
            FailureReason.TOKEN,
            "the token file " + file + " holds more than one line; a token is one line");
      }
      if (c <= 0x20 || c >= 0x7f) {
        throw new KubeletException(
            FailureReason.TOKEN,
            "the token file "
                + file
                + " holds a character a bearer token cannot carry (a control character, a space"
                + " or a non-ASCII character); no token sent");
      }
    }
    return token;
  }

  /**
   * {@code text} with every token this source read replaced by {@code [REDACTED]}. A token shorter
   * than {@value #REDACTED_MIN} characters is not searched for: it would match inside ordinary
   * words and garble every message, and no real bearer token is that short (a service-account token
   * is a JWT of several hundred characters).
   */
  public synchronized String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String token : sent) {
      if (token.length() >= REDACTED_MIN) {
        out = out.replace(token, "[REDACTED]");
      }
    }
    return out;
  }
}
