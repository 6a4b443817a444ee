package dev.stateprobe.repair.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.DriftKind;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JobNamesTest {
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  private static final String UID = "3f2a9c1d-7b4e-4c2a-9d3e-0a1b2c3d4e5f";

  private static void assertValid(String name) {
    assertTrue(name.length() <= 253, "too long (" + name.length() + "): " + name);
    assertTrue(DNS1123_SUBDOMAIN.matcher(name).matches(), "not a DNS-1123 subdomain: " + name);
  }

  /** Pinned: a changed name would make an upgraded agent repeat repairs instead of adopting. */
  @Test
  void namesAreStableAcrossReleases() {
    assertEquals(
        "worker-1-orphanedpod-remove-orphaned-sandbox-3f2a9c1d-64667dd0900e177e",
        JobNames.of("worker-1", DriftKind.ORPHANED_POD, UID, "remove-orphaned-sandbox"));
    assertEquals(
        "worker-1-orphanedpod-remove-orphaned-sandbox-uid-cart-4126f423a796d8e0",
        JobNames.of(
            "worker-1", DriftKind.ORPHANED_POD, "uid-cart-7d9f", "remove-orphaned-sandbox"));
  }

  @ParameterizedTest(name = "{0} / {1} / {2}: starts with {3}")
  @CsvSource(
      delimiter = '|',
      value = {
        "ip-10-0-3-17.eu-west-1.compute.internal | 3f2a9c1d-7b4e | restart-kubelet |"
            + " ip-10-0-3-17-eu-west-1-compute-internal-orphanedpod-restart-kubelet-3f2a9c1d-",
        "Node_With.UPPER:Case | ABCDEF12-3456 | Fix__It |"
            + " node-with-upper-case-orphanedpod-fix-it-abcdef12-",
        "nödé-ü | 42 | s | n-d-orphanedpod-s-42-",
        "___ | --- | x | orphanedpod-x-",
        "-lead-and-trail- | u | y.z | lead-and-trail-orphanedpod-y-z-u-",
      })
  void oddInputsGiveValidReadableNames(String node, String uid, String script, String prefix) {
    String name = JobNames.of(node, DriftKind.ORPHANED_POD, uid, script);
    assertValid(name);
    assertEquals(prefix, name.substring(0, name.length() - JobNames.HASH_CHARS), name);
  }

  @Test
  void aVeryLongNodeNameIsCutToFit() {
    String node = "n".repeat(253);
    String name = JobNames.of(node, DriftKind.STUCK_TERMINATING, UID, "force-remove");
    assertValid(name);
    assertEquals(253, name.length());
  }

  @Test
  void cutsNeverEndOnAHyphenBeforeTheHash() {
    for (int n = 200; n < 253; n++) {
      String name = JobNames.of("a".repeat(n), DriftKind.UID_MISMATCH, UID, "s");
      assertValid(name);
      assertTrue(!name.contains("--"), name);
    }
  }

  @Test
  void inputsThatDifferOnlyPastTheCutStillGetDifferentNames() {
    String base = "n".repeat(300);
    String a = JobNames.of(base + "a", DriftKind.ORPHANED_POD, UID, "s");
    String b = JobNames.of(base + "b", DriftKind.ORPHANED_POD, UID, "s");
    assertEquals(a.substring(0, 200), b.substring(0, 200));
    assertNotEquals(a, b);
  }

  @Test
  void inputsThatCleanAlikeStillGetDifferentNames() {
    assertNotEquals(
        JobNames.of("Worker_1", DriftKind.ORPHANED_POD, UID, "s"),
        JobNames.of("worker-1", DriftKind.ORPHANED_POD, UID, "s"));
    assertNotEquals(
        JobNames.of("a-b", DriftKind.ORPHANED_POD, "c", "s"),
        JobNames.of("a", DriftKind.ORPHANED_POD, "b-c", "s"));
    assertNotEquals(
        JobNames.of("n", DriftKind.ORPHANED_POD, UID, "s"),
        JobNames.of("n", DriftKind.UNKNOWN_TO_KUBELET, UID, "s"));
    assertNotEquals(
        JobNames.of("n", DriftKind.ORPHANED_POD, UID, "s1"),
        JobNames.of("n", DriftKind.ORPHANED_POD, UID, "s2"));
  }

  @Test
  void manyRandomInputsGiveValidUniqueNames() {
    Random r = new Random(42);
    String alphabet = "abcXYZ019-._:/ üé\u00df\u4e2d";
    Set<String> names = new HashSet<>();
    Set<String> inputs = new HashSet<>();
    for (int i = 0; i < 2000; i++) {
      String node = randomText(r, alphabet, 1 + r.nextInt(300));
      String uid = randomText(r, alphabet, 1 + r.nextInt(40));
      String script = randomText(r, alphabet, 1 + r.nextInt(80));
      if (node.isBlank() || uid.isBlank() || script.isBlank()) {
        continue;
      }
      DriftKind kind = DriftKind.values()[r.nextInt(DriftKind.values().length)];
      String name = JobNames.of(node, kind, uid, script);
      assertValid(name);
      assertEquals(name, JobNames.of(node, kind, uid, script));
      if (inputs.add(node + "\0" + kind + "\0" + uid + "\0" + script)) {
        assertTrue(names.add(name), "collision: " + name);
      }
    }
  }

  private static String randomText(Random r, String alphabet, int length) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      b.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  @Test
  void blankInputsAreRefusedByName() {
    assertEquals(
        "job name: node is blank",
        assertThrows(
                IllegalArgumentException.class,
                () -> JobNames.of(" ", DriftKind.ORPHANED_POD, UID, "s"))
            .getMessage());
    assertEquals(
        "job name: uid is blank",
        assertThrows(
                IllegalArgumentException.class,
                () -> JobNames.of("n", DriftKind.ORPHANED_POD, "", "s"))
            .getMessage());
    assertEquals(
        "job name: script is blank",
        assertThrows(
                IllegalArgumentException.class,
                () -> JobNames.of("n", DriftKind.ORPHANED_POD, UID, ""))
            .getMessage());
    assertThrows(NullPointerException.class, () -> JobNames.of("n", null, UID, "s"));
  }
}
