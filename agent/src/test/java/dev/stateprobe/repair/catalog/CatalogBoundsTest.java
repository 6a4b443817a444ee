package dev.stateprobe.repair.catalog;

import static dev.stateprobe.repair.catalog.CatalogLoaderTest.executable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Catalogs too large or too deep are refused before they are parsed, with one problem naming the
 * file and the bound. The inputs are the ones that ran the agent out of memory or stack.
 */
class CatalogBoundsTest {
  @TempDir Path dir;
  private Path file;

  @BeforeEach
  void script() throws IOException {
    file = dir.resolve("catalog.yaml");
    executable(dir.resolve("ok.sh"));
  }

  /** A list of {@code items} script entries, each the one-byte-name scalar {@code a}. */
  static String itemList(int items) {
    return "scripts:\n" + "- a\n".repeat(items);
  }

  /** {@code depth} nested flow lists under {@code scripts}: 2 bytes a level. */
  static String nested(int depth) {
    return "scripts: " + "[".repeat(depth) + "]".repeat(depth) + "\n";
  }

  /** A valid catalog padded with a comment to {@code bytes}. */
  static String padded(int bytes) {
    String valid = "scripts:\n  - name: fix\n    path: ok.sh\n    drifts: [OrphanedPod]\n";
    return valid + "#" + "x".repeat(bytes - valid.length() - 2) + "\n";
  }

  private List<String> problems(String yaml) throws IOException {
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
    return assertThrows(CatalogException.class, () -> CatalogLoader.load(file)).problems();
  }

  @Test
  void aCatalogOfThreeAndAHalfMegabytesIsRefusedUnread() throws IOException {
    assertEquals(
        List.of(
            file
                + ": larger than 262144 bytes, the most a catalog may have (a catalog of a few"
                + " hundred entries needs a few dozen KiB); refused unread"),
        problems(padded(3_500_000)));
  }

  @Test
  void aNineHundredKilobyteListOf450kItemsIsRefusedUnread() throws IOException {
    String yaml = "scripts:\n" + "- a\n".repeat(225_000) + "-\n".repeat(225_000);
    assertEquals(
        List.of(
            file
                + ": larger than 262144 bytes, the most a catalog may have (a catalog of a few"
                + " hundred entries needs a few dozen KiB); refused unread"),
        problems(yaml));
  }

  @Test
  void aListOfTooManyEntriesWithinTheSizeIsRefusedBeforeItIsBuilt() throws IOException {
    assertEquals(
        List.of(
            file
                + ": line 1002, column 3: more than 1000 script entries, the most a catalog may"
                + " have; refused unparsed"),
        problems(itemList(50_000)));
  }

  @Test
  void tooManyNodesInOneEntryAreRefused() throws IOException {
    String yaml =
        "scripts:\n  - name: fix\n    path: ok.sh\n    drifts:\n" + "      - a\n".repeat(25_000);
    List<String> problems = problems(yaml);
    assertEquals(
        List.of(
            file
                + ": line 19995, column 9: more than 20000 YAML nodes, the most a catalog may"
                + " have; refused unparsed"),
        problems);
  }

  @Test
  void aFortyKilobyteCatalogNested20000DeepIsRefusedOnASmallStack() throws Exception {
    // -Xss256k is the DaemonSet's; the composer used to recurse per level and overflow it.
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Files.writeString(file, nested(20_000));
    Thread t =
        new Thread(
            null,
            () -> {
              try {
                CatalogLoader.load(file);
              } catch (Throwable e) {
                thrown.set(e);
              }
            },
            "small-stack",
            256 * 1024);
    t.start();
    t.join();
    CatalogException e = (CatalogException) thrown.get();
    assertEquals(
        List.of(
            file
                + ": line 1, column 25: nested deeper than 16 levels, the most a catalog may"
                + " have (an entry needs 4); refused unparsed"),
        e.problems());
  }

  @Test
  void theBoundsLeaveRoomForAGenerousValidCatalog() throws Exception {
    StringBuilder yaml = new StringBuilder("scripts:\n");
    for (int i = 0; i < CatalogLoader.MAX_ENTRIES; i++) {
      yaml.append("  - name: fix-")
          .append(i)
          .append("\n    path: ok.sh\n    drifts: [OrphanedPod, UidMismatch]\n")
          .append("    namespaces: [a, b]\n");
    }
    Files.writeString(file, yaml);
    assertEquals(CatalogLoader.MAX_ENTRIES, CatalogLoader.load(file).entries().size());
  }
}
