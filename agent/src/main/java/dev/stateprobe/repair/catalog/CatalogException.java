package dev.stateprobe.repair.catalog;

import java.util.List;

/** The catalog was refused: every problem found, each naming the file, entry and field. */
public final class CatalogException extends Exception {
  private static final long serialVersionUID = 1L;
  private final transient List<String> problems;

  public CatalogException(List<String> problems) {
    super("invalid repair catalog:\n  - " + String.join("\n  - ", problems));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a CatalogException needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
