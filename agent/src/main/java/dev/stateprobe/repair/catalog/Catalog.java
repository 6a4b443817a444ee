package dev.stateprobe.repair.catalog;

import dev.stateprobe.drift.DriftKind;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A validated catalog: entries in file order, which is the escalation order.
 *
 * @param file the catalog file as configured (not its resolved real path)
 */
public record Catalog(Path file, List<CatalogEntry> entries) {

  public Catalog {
    Objects.requireNonNull(file, "file");
    entries = List.copyOf(entries);
    Set<String> names = new HashSet<>();
    for (CatalogEntry e : entries) {
      if (!names.add(e.name())) {
        throw new IllegalArgumentException(file + ": script name '" + e.name() + "' appears twice");
      }
    }
  }

  /**
   * The entries that repair {@code kind} in {@code namespace}, in escalation order: the first is
   * tried first, the next one when the previous is used up or did not resolve the drift.
   */
  public List<CatalogEntry> matching(DriftKind kind, String namespace) {
    return entries.stream().filter(e -> e.matches(kind, namespace)).toList();
  }

  public Optional<CatalogEntry> entry(String name) {
    return entries.stream().filter(e -> e.name().equals(name)).findFirst();
  }
}
