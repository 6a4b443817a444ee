package dev.stateprobe.repair.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.stateprobe.drift.DriftKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CatalogTest {
  private static CatalogEntry entry(String name, Set<DriftKind> kinds, List<String> namespaces) {
    return new CatalogEntry(
        name,
        Path.of("/scripts", name + ".sh"),
        kinds,
        CatalogEntry.Mode.AUTO,
        Duration.ofSeconds(60),
        3,
        Duration.ofSeconds(600),
        namespaces);
  }

  private final CatalogEntry gentle = entry("gentle", Set.of(DriftKind.ORPHANED_POD), List.of("*"));
  private final CatalogEntry teamOnly =
      entry("team-only", Set.of(DriftKind.ORPHANED_POD, DriftKind.UID_MISMATCH), List.of("team-a"));
  private final CatalogEntry harsh =
      entry("harsh", Set.of(DriftKind.ORPHANED_POD, DriftKind.STUCK_TERMINATING), List.of("*"));
  private final Catalog catalog =
      new Catalog(Path.of("/scripts/catalog.yaml"), List.of(gentle, teamOnly, harsh));

  @Test
  void matchingKeepsFileOrderAsEscalationOrder() {
    assertEquals(
        List.of(gentle, teamOnly, harsh), catalog.matching(DriftKind.ORPHANED_POD, "team-a"));
  }

  @Test
  void namespaceFilterLeavesOutOtherNamespaces() {
    assertEquals(List.of(gentle, harsh), catalog.matching(DriftKind.ORPHANED_POD, "team-b"));
    assertEquals(List.of(), catalog.matching(DriftKind.UID_MISMATCH, "team-b"));
    assertEquals(List.of(teamOnly), catalog.matching(DriftKind.UID_MISMATCH, "team-a"));
  }

  @Test
  void kindWithoutEntriesMatchesNothing() {
    assertEquals(List.of(), catalog.matching(DriftKind.MISSING_MIRROR_POD, "team-a"));
  }

  @Test
  void entryIsFoundByName() {
    assertEquals(Optional.of(harsh), catalog.entry("harsh"));
    assertEquals(Optional.empty(), catalog.entry("none"));
  }

  @Test
  void duplicateNamesAreRefusedInCode() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Catalog(Path.of("/c.yaml"), List.of(gentle, gentle)));
    assertEquals("/c.yaml: script name 'gentle' appears twice", e.getMessage());
  }

  @Test
  void entryConstructorGuardsInvariants() {
    assertThrows(
        IllegalArgumentException.class,
        () -> entry("Bad_Name", Set.of(DriftKind.ORPHANED_POD), List.of("*")));
    assertThrows(IllegalArgumentException.class, () -> entry("x", Set.of(), List.of("*")));
    assertThrows(
        IllegalArgumentException.class,
        () -> entry("x", Set.of(DriftKind.ORPHANED_POD), List.of()));
  }
}
