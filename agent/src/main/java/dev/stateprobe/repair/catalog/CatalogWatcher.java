package dev.stateprobe.repair.catalog;

import dev.stateprobe.metrics.Metrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the current good catalog and reloads it when its file changes.
 *
 * <p>A change is a different real path (a ConfigMap update swaps the {@code ..data} symlink, so the
 * configured path stays the same while the file behind it is new), size, modification time or
 * content hash. A reload that fails keeps the last good catalog, logs one line naming the problems
 * and counts a failure; the same bad file is not counted again on later checks, only a new change
 * triggers another attempt.
 *
 * <p>Threads: checks run on the given worker executor, never on the event loop, and never two at
 * once; {@link #current()} may be called from any thread.
 */
public final class CatalogWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogWatcher.class);

  private final Vertx vertx;
  private final WorkerExecutor worker;
  private final Metrics metrics;
  private final Path file;
  private final Duration interval;
  private final AtomicReference<Catalog> current;
  private final AtomicBoolean checking = new AtomicBoolean();

  /** False for {@link #disabled}: the file is never read. */
  private final boolean watching;

  /** The version last looked at, good or bad. Written only by {@link #check()}. */
  private volatile Fingerprint seen;

  private long timerId = -1;

  private CatalogWatcher(
      Vertx vertx,
      WorkerExecutor worker,
      Metrics metrics,
      Path file,
      Duration interval,
      Catalog initial,
      Fingerprint seen,
      boolean watching) {
    this.vertx = vertx;
    this.worker = worker;
    this.metrics = metrics;
    this.file = file;
    this.interval = interval;
    this.current = new AtomicReference<>(initial);
    this.seen = seen;
    this.watching = watching;
  }

  /**
   * Loads the catalog for start-up. Blocking: call before the agent starts its loops, or on a
   * worker. Does not start watching; call {@link #start()}.
   *
   * @throws CatalogException when the catalog is invalid or unreadable: the agent must refuse to
   *     start
   */
  public static CatalogWatcher open(
      Vertx vertx, WorkerExecutor worker, Metrics metrics, Path file, Duration interval)
      throws CatalogException {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(worker, "worker");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(file, "file");
    if (interval.toMillis() < 1) {
      throw new IllegalArgumentException("catalog check interval must be at least 1ms");
    }
    Version version;
    try {
      version = read(file);
    } catch (IOException e) {
      throw new CatalogException(List.of(file + ": cannot read: " + e));
    }
    if (version.refused() != null) {
      throw version.refused();
    }
    Catalog catalog = CatalogLoader.parse(file, version.content());
    metrics.catalogReloaded(true);
    metrics.repairScripts(names(catalog));
    LOG.info(
        "catalog loaded: {} ({} scripts, real path {})",
        file,
        catalog.entries().size(),
        version.fingerprint().realPath());
    return new CatalogWatcher(
        vertx, worker, metrics, file, interval, catalog, version.fingerprint(), true);
  }

  /**
   * A watcher that never reads {@code file} and always holds an empty catalog: for {@code
   * REPAIR_MODE=off}, where no script can run, so a missing or broken catalog must not stop the
   * agent from detecting.
   */
  public static CatalogWatcher disabled(
      Vertx vertx, WorkerExecutor worker, Metrics metrics, Path file) {
    LOG.info("catalog not read: REPAIR_MODE is off ({} is not needed)", file);
    return new CatalogWatcher(
        vertx,
        worker,
        metrics,
        file,
        Duration.ofDays(1),
        new Catalog(file, List.of()),
        Fingerprint.unreadable("not read"),
        false);
  }

  private static List<String> names(Catalog catalog) {
    return catalog.entries().stream().map(CatalogEntry::name).toList();
  }

  /** Starts the periodic check; does nothing for a {@link #disabled} watcher. */
  public synchronized void start() {
    if (watching && timerId < 0) {
      timerId =
          vertx.setPeriodic(
              interval.toMillis(),
              id -> checkNow().onFailure(e -> LOG.warn("catalog check failed: {}", e.toString())));
    }
  }

  /** The last good catalog. */
  public Catalog current() {
    return current.get();
  }

  /**
   * Checks now, on the worker. Completes with true when a new catalog was installed; false when
   * nothing changed, the reload was refused, or a check was already running.
   */
  public Future<Boolean> checkNow() {
    if (!watching || !checking.compareAndSet(false, true)) {
      return Future.succeededFuture(false);
    }
    return worker.executeBlocking(this::check, false).andThen(ar -> checking.set(false));
  }

  /** Blocking check; true when a new catalog was installed. Not reentrant: see checkNow. */
  boolean check() {
    Version version;
    try {
      version = read(file);
    } catch (IOException e) {
      Fingerprint unreadable = Fingerprint.unreadable(e.toString());
      if (!unreadable.equals(seen)) {
        seen = unreadable;
        refuse(List.of(file + ": cannot read: " + e));
      }
      return false;
    }
    if (version.fingerprint().equals(seen)) {
      return false;
    }
    seen = version.fingerprint();
    if (version.refused() != null) {
      refuse(version.refused().problems());
      return false;
    }
    try {
      Catalog catalog = CatalogLoader.parse(file, version.content());
      metrics.repairScripts(names(catalog));
      current.set(catalog);
      metrics.catalogReloaded(true);
      LOG.info(
          "catalog reloaded: {} ({} scripts, real path {})",
          file,
          catalog.entries().size(),
          version.fingerprint().realPath());
      return true;
    } catch (CatalogException e) {
      refuse(e.problems());
      return false;
    } catch (RuntimeException e) {
      // A parser bug must not end the watcher, nor go uncounted.
      refuse(List.of(file + ": cannot be parsed: " + e));
      return false;
    }
  }

  private void refuse(List<String> problems) {
    metrics.catalogReloaded(false);
    LOG.warn(
        "catalog reload refused, keeping the last good catalog ({} scripts): {}",
        current.get().entries().size(),
        String.join("; ", problems));
  }

  @Override
  public synchronized void close() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
  }

  /** Reads the file, bounded: a file over the size bound is fingerprinted and refused unread. */
  private static Version read(Path file) throws IOException {
    Path real = file.toRealPath();
    BasicFileAttributes attrs = Files.readAttributes(real, BasicFileAttributes.class);
    try {
      byte[] content = CatalogLoader.read(real);
      return new Version(
          new Fingerprint(
              real.toString(), attrs.size(), attrs.lastModifiedTime().toMillis(), sha256(content)),
          content,
          null);
    } catch (CatalogException tooLarge) {
      return new Version(
          new Fingerprint(
              real.toString(), attrs.size(), attrs.lastModifiedTime().toMillis(), "too-large"),
          new byte[0],
          new CatalogException(
              List.of(
                  file
                      + ": larger than "
                      + CatalogLoader.MAX_BYTES
                      + " bytes, the most a catalog may have; refused unread")));
    }
  }

  private static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** One version of the file; {@code refused} says why it was not read, else null. */
  private record Version(Fingerprint fingerprint, byte[] content, CatalogException refused) {}

  /** What identifies one version of the file; {@code realPath} is an error text if unreadable. */
  private record Fingerprint(String realPath, long size, long modifiedMillis, String sha256) {
    static Fingerprint unreadable(String error) {
      return new Fingerprint("unreadable: " + error, -1, -1, "");
    }
  }
}
