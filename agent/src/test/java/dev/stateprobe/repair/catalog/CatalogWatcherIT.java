package dev.stateprobe.repair.catalog;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stateprobe.metrics.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog folder laid out as the kubelet mounts a ConfigMap: {@code catalog.yaml -> ..data/
 * catalog.yaml}, {@code ..data -> ..2026_01_01_00_00_00.1}, and an update writes a new timestamped
 * folder and renames a fresh {@code ..data} symlink over the old one.
 */
class CatalogWatcherIT {
  private static final String ONE =
      """
      scripts:
        - name: first
          path: first.sh
          drifts: [OrphanedPod]
      """;
  private static final String TWO =
      ONE
          + """
            - name: second
              path: second.sh
              drifts: [UidMismatch]
          """;

  @TempDir Path dir;
  private Path file;
  private Vertx vertx;
  private WorkerExecutor worker;
  private SimpleMeterRegistry registry;
  private Metrics metrics;
  private int version;

  @BeforeEach
  void setUp() throws IOException {
    vertx = Vertx.vertx();
    worker = vertx.createSharedWorkerExecutor("state-probe-worker", 1);
    registry = new SimpleMeterRegistry();
    metrics = new Metrics(registry, "test", () -> 0L);
    file = dir.resolve("catalog.yaml");
    publish(ONE);
    Files.createSymbolicLink(file, Path.of("..data/catalog.yaml"));
    Files.createSymbolicLink(dir.resolve("first.sh"), Path.of("..data/first.sh"));
    Files.createSymbolicLink(dir.resolve("second.sh"), Path.of("..data/second.sh"));
  }

  @AfterEach
  void tearDown() throws Exception {
    metrics.close();
    worker.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Writes a new timestamped folder and swaps {@code ..data} to it atomically, as kubelet does. */
  private void publish(String catalog) throws IOException {
    version++;
    Path ts = dir.resolve("..2026_01_01_00_00_0" + version + ".1");
    Files.createDirectory(ts);
    Files.writeString(ts.resolve("catalog.yaml"), catalog);
    for (String s : List.of("first.sh", "second.sh")) {
      Path script = ts.resolve(s);
      Files.writeString(script, "#!/bin/sh\nexit 0\n");
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path tmp = dir.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, ts.getFileName());
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
  }

  private double reloads() {
    return registry.get("stateprobe.catalog.reloads").counter().count();
  }

  private double failures() {
    return registry.get("stateprobe.catalog.reload.failures").counter().count();
  }

  private CatalogWatcher open() throws CatalogException {
    return CatalogWatcher.open(vertx, worker, metrics, file, Duration.ofMillis(20));
  }

  private static boolean checkNow(CatalogWatcher w) throws Exception {
    return w.checkNow().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static List<String> names(Catalog c) {
    return c.entries().stream().map(CatalogEntry::name).toList();
  }

  /** The repair counters as "script/outcome=count", sorted. */
  private List<String> repairCounters() {
    return registry.find("stateprobe.repairs").counters().stream()
        .map(c -> c.getId().getTag("script") + "/" + c.getId().getTag("outcome") + "=" + c.count())
        .sorted()
        .toList();
  }

  private static List<String> zeros(String... scripts) {
    List<String> out = new java.util.ArrayList<>();
    for (String s : scripts) {
      for (String o : Metrics.REPAIR_OUTCOMES) {
        out.add(s + "/" + o + "=0.0");
      }
    }
    return out.stream().sorted().toList();
  }

  @Test
  void everyEntryHasItsRepairCountersAtZeroFromLoadAndReloadOn() throws Exception {
    try (CatalogWatcher w = open()) {
      // A first failure is then an increase from 0, which increase() sees.
      assertEquals(zeros("first"), repairCounters());
      publish(TWO);
      assertEquals(true, checkNow(w));
      assertEquals(zeros("first", "second"), repairCounters());
      metrics.repair("second", "failed");
      publish(ONE);
      assertEquals(true, checkNow(w));
      // A dropped entry keeps its series: counters do not go back.
      assertEquals(
          zeros("first", "second").stream()
              .map(c -> c.equals("second/failed=0.0") ? "second/failed=1.0" : c)
              .toList(),
          repairCounters());
    }
  }

  @Test
  void withRepairsOffTheCatalogIsNeverRead() throws Exception {
    Path missing = dir.resolve("no-such-folder/catalog.yaml");
    try (CatalogWatcher w = CatalogWatcher.disabled(vertx, worker, metrics, missing)) {
      w.start();
      assertEquals(List.of(), w.current().entries());
      assertEquals(missing, w.current().file());
      assertEquals(false, checkNow(w));
      assertEquals(0.0, reloads());
      assertEquals(0.0, failures());
      assertEquals(List.of(), repairCounters());
    }
  }

  @Test
  void startUpLoadsTheCatalogAndCountsIt() throws Exception {
    try (CatalogWatcher w = open()) {
      assertEquals(List.of("first"), names(w.current()));
      assertEquals(file, w.current().file());
      assertEquals(dir.resolve("first.sh"), w.current().entries().get(0).script());
      assertEquals(1.0, reloads());
      assertEquals(false, checkNow(w));
      assertEquals(1.0, reloads());
    }
  }

  @Test
  void startUpWithAnInvalidCatalogThrowsSoTheAgentRefusesToStart() throws IOException {
    publish("scripts:\n  - name: first\n    path: first.sh\n    drifts: [Nope]\n");
    CatalogException e = assertThrows(CatalogException.class, this::open);
    assertEquals(1, e.problems().size());
    assertEquals(0.0, reloads());
  }

  @Test
  void configMapSymlinkSwapIsPickedUpByThePeriodicCheck() throws Exception {
    try (CatalogWatcher w = open()) {
      w.start();
      publish(TWO);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertEquals(List.of("first", "second"), names(w.current())));
      assertEquals(2.0, reloads());
      assertEquals(0.0, failures());
    }
  }

  @Test
  void swapToIdenticalContentStillReloadsBecauseTheRealPathChanged() throws Exception {
    try (CatalogWatcher w = open()) {
      Catalog before = w.current();
      publish(ONE);
      assertEquals(true, checkNow(w));
      assertEquals(before, w.current());
      assertEquals(2.0, reloads());
    }
  }

  @Test
  void badReloadKeepsTheLastGoodCatalogAndCountsTheFailureOnce() throws Exception {
    try (CatalogWatcher w = open()) {
      Catalog good = w.current();
      publish(TWO.replace("UidMismatch", "NoSuchKind"));
      assertEquals(false, checkNow(w));
      assertSame(good, w.current());
      assertEquals(1.0, failures());
      assertEquals(1.0, reloads());

      assertEquals(false, checkNow(w));
      assertEquals(1.0, failures(), "the same bad file is not counted again");

      publish(TWO);
      assertEquals(true, checkNow(w));
      assertEquals(List.of("first", "second"), names(w.current()));
      assertEquals(2.0, reloads());
    }
  }

  @Test
  void inPlaceEditIsPickedUpToo() throws Exception {
    try (CatalogWatcher w = open()) {
      Path real = file.toRealPath();
      Files.writeString(real, TWO);
      assertEquals(true, checkNow(w));
      assertEquals(List.of("first", "second"), names(w.current()));
    }
  }

  @Test
  void vanishedFileKeepsTheLastGoodCatalog() throws Exception {
    try (CatalogWatcher w = open()) {
      Catalog good = w.current();
      Files.delete(file);
      assertEquals(false, checkNow(w));
      assertSame(good, w.current());
      assertEquals(1.0, failures());
      assertEquals(false, checkNow(w));
      assertEquals(1.0, failures());
    }
  }
}
