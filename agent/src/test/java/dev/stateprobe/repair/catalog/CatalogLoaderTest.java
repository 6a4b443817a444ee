package dev.stateprobe.repair.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stateprobe.drift.DriftKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CatalogLoaderTest {
  @TempDir Path dir;
  private Path file;

  @BeforeEach
  void scripts() throws IOException {
    file = dir.resolve("catalog.yaml");
    executable(dir.resolve("ok.sh"));
    executable(dir.resolve("sub/nested.sh"));
    Files.writeString(dir.resolve("plain.sh"), "#!/bin/sh\n");
    Files.createDirectories(dir.resolve("folder"));
  }

  static void executable(Path p) throws IOException {
    Files.createDirectories(p.getParent());
    Files.writeString(p, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private Catalog load(String yaml) throws CatalogException {
    try {
      Files.writeString(file, yaml);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return CatalogLoader.load(file);
  }

  private List<String> problems(String yaml) {
    return assertThrows(CatalogException.class, () -> load(yaml)).problems().stream()
        .map(p -> p.replace(file.toString(), "F").replace(dir.toString(), "D"))
        .toList();
  }

  /**
   * One valid entry with {@code field} replaced by {@code line} (or removed when line is empty).
   */
  private static String entry(String field, String line) {
    StringBuilder b = new StringBuilder("scripts:\n");
    String[][] fields = {
      {"name", "name: fix"},
      {"path", "path: ok.sh"},
      {"drifts", "drifts: [OrphanedPod]"},
    };
    boolean first = true;
    boolean replaced = false;
    for (String[] f : fields) {
      String text = f[0].equals(field) ? line : f[1];
      replaced |= f[0].equals(field);
      if (!text.isEmpty()) {
        b.append(first ? "  - " : "    ").append(text).append('\n');
        first = false;
      }
    }
    if (!replaced) {
      b.append("    ").append(line).append('\n');
    }
    return b.toString();
  }

  static Stream<Arguments> invalidEntries() {
    String kinds =
        "OrphanedPod, UnknownToKubelet, UidMismatch, StaleKubeletView, StuckTerminating,"
            + " MissingMirrorPod, ContainerNotRunning, TerminalButRunning";
    String p = "F: scripts[0] (name 'fix'): ";
    return Stream.of(
        Arguments.of("name missing", "name", "", "F: scripts[0]: name: required"),
        Arguments.of("name empty", "name", "name: ''", "F: scripts[0]: name: required"),
        Arguments.of(
            "name not a string",
            "name",
            "name: 12",
            "F: scripts[0]: name: must be a string, got '12'"),
        Arguments.of(
            "name not DNS-1123",
            "name",
            "name: Fix_It",
            "F: scripts[0] (name 'Fix_It'): name: 'Fix_It' is not a DNS-1123 label (lower-case"
                + " letters, digits and '-', at most 63, starting and ending with a letter or"
                + " digit)"),
        Arguments.of(
            "name longer than 63",
            "name",
            "name: " + "a".repeat(64),
            "F: scripts[0] (name '"
                + "a".repeat(64)
                + "'): name: '"
                + "a".repeat(64)
                + "' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63,"
                + " starting and ending with a letter or digit)"),
        Arguments.of("path missing", "path", "", p + "path: required (the script, relative to D)"),
        Arguments.of(
            "path not a string", "path", "path: [a]", p + "path: must be a string, got a list"),
        Arguments.of(
            "path absolute",
            "path",
            "path: /bin/true",
            p + "path: '/bin/true' must be relative to the catalog's folder D"),
        Arguments.of(
            "path climbs out",
            "path",
            "path: sub/../../ok.sh",
            p + "path: 'sub/../../ok.sh' must not contain '..'"),
        Arguments.of(
            "path does not exist", "path", "path: nope.sh", p + "path: D/nope.sh does not exist"),
        Arguments.of(
            "path is a folder", "path", "path: folder", p + "path: D/folder is not a regular file"),
        Arguments.of(
            "path not executable",
            "path",
            "path: plain.sh",
            p
                + "path: D/plain.sh is not executable (chmod +x; a ConfigMap volume needs"
                + " defaultMode: 0755)"),
        Arguments.of(
            "drifts missing", "drifts", "", p + "drifts: required (one or more of " + kinds + ")"),
        Arguments.of(
            "drifts empty",
            "drifts",
            "drifts: []",
            p + "drifts: must not be empty (one or more of " + kinds + ")"),
        Arguments.of(
            "drifts not a list",
            "drifts",
            "drifts: OrphanedPod",
            p + "drifts: must be a list, got the string 'OrphanedPod'"),
        Arguments.of(
            "drift kind unknown",
            "drifts",
            "drifts: [OrphanedPod, orphanedpod]",
            p + "drifts: unknown drift kind 'orphanedpod' (known: " + kinds + ")"),
        Arguments.of(
            "drift kind twice",
            "drifts",
            "drifts: [UidMismatch, UidMismatch]",
            p + "drifts: 'UidMismatch' is listed twice"),
        Arguments.of(
            "mode unknown",
            "mode",
            "mode: on",
            p + "mode: 'on' is not one of auto, manual, dry-run"),
        Arguments.of(
            "mode null", "mode", "mode:", p + "mode: 'null' is not one of auto, manual, dry-run"),
        Arguments.of(
            "timeout zero",
            "timeoutSeconds",
            "timeoutSeconds: 0",
            p + "timeoutSeconds: must be a whole number from 1 to 3600, got 0"),
        Arguments.of(
            "timeout over an hour",
            "timeoutSeconds",
            "timeoutSeconds: 3601",
            p + "timeoutSeconds: must be a whole number from 1 to 3600, got 3601"),
        Arguments.of(
            "timeout as a duration string",
            "timeoutSeconds",
            "timeoutSeconds: 60s",
            p + "timeoutSeconds: must be a whole number from 1 to 3600, got '60s'"),
        Arguments.of(
            "timeout fractional",
            "timeoutSeconds",
            "timeoutSeconds: 1.5",
            p + "timeoutSeconds: must be a whole number from 1 to 3600, got 1.5"),
        Arguments.of(
            "timeout null",
            "timeoutSeconds",
            "timeoutSeconds:",
            p + "timeoutSeconds: must be a whole number from 1 to 3600, got null"),
        Arguments.of(
            "maxAttempts zero",
            "maxAttempts",
            "maxAttempts: 0",
            p + "maxAttempts: must be a whole number from 1 to 100, got 0"),
        Arguments.of(
            "maxAttempts over 100",
            "maxAttempts",
            "maxAttempts: 101",
            p + "maxAttempts: must be a whole number from 1 to 100, got 101"),
        Arguments.of(
            "cooldown negative",
            "cooldownSeconds",
            "cooldownSeconds: -1",
            p + "cooldownSeconds: must be a whole number >= 0, got -1"),
        Arguments.of(
            "cooldown huge",
            "cooldownSeconds",
            "cooldownSeconds: 99999999999999999999",
            p + "cooldownSeconds: must be a whole number >= 0, got 99999999999999999999"),
        Arguments.of(
            "namespaces empty",
            "namespaces",
            "namespaces: []",
            p + "namespaces: must not be empty (omit it, or use [\"*\"], for all)"),
        Arguments.of(
            "namespaces not a list",
            "namespaces",
            "namespaces: '*'",
            p + "namespaces: must be a list, got the string '*'"),
        Arguments.of(
            "namespace not a name",
            "namespaces",
            "namespaces: [default, Kube_System]",
            p + "namespaces: 'Kube_System' is neither \"*\" nor a namespace name (DNS-1123 label)"),
        Arguments.of(
            "namespace twice",
            "namespaces",
            "namespaces: [default, default]",
            p + "namespaces: 'default' is listed twice"),
        Arguments.of(
            "unknown field",
            "timeout",
            "timeout: 60",
            p
                + "unknown field 'timeout' (known: name, path, drifts, mode, timeoutSeconds,"
                + " maxAttempts, cooldownSeconds, namespaces)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidEntries")
  void invalidEntryIsRefusedNamingFileEntryAndField(
      String label, String field, String line, String expected) {
    assertEquals(List.of(expected), problems(entry(field, line)));
  }

  static Stream<Arguments> invalidFiles() {
    return Stream.of(
        Arguments.of(
            "empty file",
            "",
            "F: expected a mapping with the key 'scripts', got an empty document"),
        Arguments.of(
            "top level is a list",
            "- a\n",
            "F: expected a mapping with the key 'scripts', got a list"),
        Arguments.of(
            "scripts missing",
            "other: 1\n",
            "F: unknown top-level field 'other' (only 'scripts' is allowed)|"
                + "F: scripts: required (a list of script entries; [] for none)"),
        Arguments.of(
            "scripts not a list",
            "scripts: {a: 1}\n",
            "F: scripts: must be a list of script entries, got a mapping"),
        Arguments.of(
            "entry not a mapping",
            "scripts:\n  - fix\n",
            "F: scripts[0]: must be a mapping with name, path, drifts, ..., got the string 'fix'"),
        Arguments.of(
            "not YAML",
            "scripts: [\n",
            "F: not valid YAML: line 2, column 1: expected the node content, but found '<stream"
                + " end>'"),
        Arguments.of(
            "duplicate key",
            "scripts: []\nscripts: []\n",
            "F: not valid YAML: line 2, column 1: found duplicate key scripts"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidFiles")
  void invalidFileIsRefused(String label, String yaml, String expected) {
    assertEquals(List.of(expected.split("\\|")), problems(yaml));
  }

  @Test
  void missingFileIsRefusedNamingIt() {
    CatalogException e =
        assertThrows(CatalogException.class, () -> CatalogLoader.load(dir.resolve("none.yaml")));
    assertEquals(List.of(dir.resolve("none.yaml") + ": cannot read: no such file"), e.problems());
  }

  @Test
  void everyProblemOfEveryEntryIsReportedAtOnce() {
    List<String> problems =
        problems(
            """
            scripts:
              - name: fix
                path: nope.sh
                drifts: [Nope]
                timeoutSeconds: 0
              - name: fix
                path: ok.sh
                drifts: [OrphanedPod]
                mode: always
              - path: /abs.sh
            """);
    assertEquals(
        List.of(
            "F: scripts[0] (name 'fix'): path: D/nope.sh does not exist",
            "F: scripts[0] (name 'fix'): drifts: unknown drift kind 'Nope' (known: OrphanedPod,"
                + " UnknownToKubelet, UidMismatch, StaleKubeletView, StuckTerminating,"
                + " MissingMirrorPod, ContainerNotRunning, TerminalButRunning)",
            "F: scripts[0] (name 'fix'): timeoutSeconds: must be a whole number from 1 to 3600,"
                + " got 0",
            "F: scripts[1] (name 'fix'): name: 'fix' is used by an earlier entry; names must be"
                + " unique",
            "F: scripts[1] (name 'fix'): mode: 'always' is not one of auto, manual, dry-run",
            "F: scripts[2]: name: required",
            "F: scripts[2]: path: '/abs.sh' must be relative to the catalog's folder D",
            "F: scripts[2]: drifts: required (one or more of OrphanedPod, UnknownToKubelet,"
                + " UidMismatch, StaleKubeletView, StuckTerminating, MissingMirrorPod,"
                + " ContainerNotRunning, TerminalButRunning)"),
        problems);
  }

  @Test
  void defaultsApplyWhenFieldsAreOmitted() throws CatalogException {
    Catalog c = load(entry("", ""));
    assertEquals(
        List.of(
            new CatalogEntry(
                "fix",
                dir.resolve("ok.sh"),
                Set.of(DriftKind.ORPHANED_POD),
                CatalogEntry.Mode.AUTO,
                Duration.ofSeconds(60),
                3,
                Duration.ofSeconds(600),
                List.of("*"))),
        c.entries());
    assertEquals(file, c.file());
  }

  @Test
  void everyFieldIsRead() throws CatalogException {
    Catalog c =
        load(
            """
            scripts:
              - name: nested-fix
                path: sub/nested.sh
                drifts: [StuckTerminating, UidMismatch]
                mode: dry-run
                timeoutSeconds: 3600
                maxAttempts: 100
                cooldownSeconds: 0
                namespaces: [default, kube-system]
              - name: manual-fix
                path: ./ok.sh
                drifts: [MissingMirrorPod]
                mode: manual
                timeoutSeconds: 1
                maxAttempts: 1
            """);
    assertEquals(
        List.of(
            new CatalogEntry(
                "nested-fix",
                dir.resolve("sub/nested.sh"),
                Set.of(DriftKind.STUCK_TERMINATING, DriftKind.UID_MISMATCH),
                CatalogEntry.Mode.DRY_RUN,
                Duration.ofHours(1),
                100,
                Duration.ZERO,
                List.of("default", "kube-system")),
            new CatalogEntry(
                "manual-fix",
                dir.resolve("ok.sh"),
                Set.of(DriftKind.MISSING_MIRROR_POD),
                CatalogEntry.Mode.MANUAL,
                Duration.ofSeconds(1),
                1,
                Duration.ofSeconds(600),
                List.of("*"))),
        c.entries());
  }

  @Test
  void anEmptyListIsAValidCatalogWithoutScripts() throws CatalogException {
    assertEquals(List.of(), load("scripts: []\n").entries());
  }

  @Test
  void theShippedCatalogIsValid() throws CatalogException {
    Path shipped = Path.of("..", "repair-scripts", "catalog.yaml").toAbsolutePath().normalize();
    Catalog c = CatalogLoader.load(shipped);
    assertEquals(
        List.of(
            "remove-orphaned-sandbox",
            "force-delete-stuck-pod",
            "recreate-controlled-pod",
            "restart-kubelet"),
        c.entries().stream().map(CatalogEntry::name).toList());
  }

  @Test
  void utf8TextIsRead() throws Exception {
    Files.write(file, "# répare\nscripts: []\n".getBytes(StandardCharsets.UTF_8));
    assertEquals(List.of(), CatalogLoader.load(file).entries());
  }
}
