package dev.stateprobe.repair.catalog;

import static dev.stateprobe.repair.catalog.CatalogLoaderTest.executable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scripts are files of the catalog's folder, found by their real path, and never interpreters. */
class CatalogScriptPathTest {
  private static final String ENTRY =
      "scripts:\n  - name: fix\n    path: %s\n    drifts: [OrphanedPod]\n";

  @TempDir Path dir;

  private List<String> problems(String path) throws IOException {
    Path file = dir.resolve("catalog.yaml");
    Files.writeString(file, ENTRY.formatted(path));
    return assertThrows(CatalogException.class, () -> CatalogLoader.load(file)).problems();
  }

  @Test
  void symlinkToTheShellIsRefused() throws IOException {
    Path shell = Path.of("/bin/sh").toRealPath();
    Files.createSymbolicLink(dir.resolve("fix.sh"), Path.of("/bin/sh"));
    assertEquals(
        List.of(
            dir.resolve("catalog.yaml")
                + ": scripts[0] (name 'fix'): path: "
                + dir.resolve("fix.sh")
                + " resolves to "
                + shell
                + ", outside the catalog's folder "
                + dir.toRealPath()
                + " (a script must be a file of the catalog's folder, not a link out of it)"),
        problems("fix.sh"));
  }

  @Test
  void symlinkToAScriptOutsideTheFolderIsRefused() throws IOException {
    Path catalogDir = Files.createDirectories(dir.resolve("catalog"));
    executable(dir.resolve("elsewhere/fix.sh"));
    Files.createSymbolicLink(catalogDir.resolve("fix.sh"), dir.resolve("elsewhere/fix.sh"));
    Path file = catalogDir.resolve("catalog.yaml");
    Files.writeString(file, ENTRY.formatted("fix.sh"));
    List<String> problems =
        assertThrows(CatalogException.class, () -> CatalogLoader.load(file)).problems();
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.getFirst().contains("outside the catalog's folder"), problems.toString());
  }

  @Test
  void aFolderSymlinkOutOfTheCatalogIsRefused() throws IOException {
    Files.createSymbolicLink(dir.resolve("tools"), Path.of("/usr/bin"));
    List<String> problems = problems("tools/env");
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.getFirst().contains("outside the catalog's folder"), problems.toString());
  }

  @Test
  void aLinkInsideTheFolderToAShellIsRefusedNamingTheEntryAndTheShell() throws IOException {
    Path copy = dir.resolve("bin/bash");
    Files.createDirectories(copy.getParent());
    Files.copy(Path.of("/bin/sh").toRealPath(), copy, StandardCopyOption.COPY_ATTRIBUTES);
    Files.createSymbolicLink(dir.resolve("fix.sh"), Path.of("bin/bash"));
    assertEquals(
        List.of(
            dir.resolve("catalog.yaml")
                + ": scripts[0] (name 'fix'): path: "
                + dir.resolve("fix.sh")
                + " resolves to "
                + dir.toRealPath().resolve("bin/bash")
                + ", which is named like the interpreter 'bash': it would run the drift JSON on"
                + " its stdin as a program; name the script itself, with its own shebang"),
        problems("fix.sh"));
  }

  @Test
  void anEntryNamingAnInterpreterDirectlyIsRefused() throws IOException {
    executable(dir.resolve("busybox"));
    List<String> problems = problems("busybox");
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(
        problems.getFirst().contains("is named like the interpreter 'busybox'"),
        problems.toString());
  }

  /**
   * The layout the kubelet gives a ConfigMap volume: the files live in a timestamped folder, {@code
   * ..data} links to it, and every key is a symlink {@code KEY -> ..data/KEY}. An update writes a
   * new timestamped folder and swaps {@code ..data}.
   */
  @Test
  void configMapVolumeLayoutLoadsAndStillLoadsAfterAnUpdate() throws Exception {
    Path mount = Files.createDirectories(dir.resolve("repair-scripts"));
    Path v1 = Files.createDirectories(mount.resolve("..2026_12_06_20_00_00.000000001"));
    executable(v1.resolve("fix.sh"));
    Files.writeString(v1.resolve("catalog.yaml"), ENTRY.formatted("fix.sh"));
    Files.createSymbolicLink(mount.resolve("..data"), v1.getFileName());
    Files.createSymbolicLink(mount.resolve("catalog.yaml"), Path.of("..data/catalog.yaml"));
    Files.createSymbolicLink(mount.resolve("fix.sh"), Path.of("..data/fix.sh"));

    Catalog catalog = CatalogLoader.load(mount.resolve("catalog.yaml"));
    assertEquals(mount.resolve("fix.sh"), catalog.entries().getFirst().script());

    Path v2 = Files.createDirectories(mount.resolve("..2026_12_06_20_05_00.000000002"));
    executable(v2.resolve("fix.sh"));
    Files.writeString(v2.resolve("catalog.yaml"), ENTRY.formatted("fix.sh"));
    Path tmp = mount.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, v2.getFileName());
    Files.move(tmp, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    assertEquals(v2.toRealPath().resolve("fix.sh"), mount.resolve("fix.sh").toRealPath());
    assertEquals(
        mount.resolve("fix.sh"),
        CatalogLoader.load(mount.resolve("catalog.yaml")).entries().getFirst().script());
  }
}
