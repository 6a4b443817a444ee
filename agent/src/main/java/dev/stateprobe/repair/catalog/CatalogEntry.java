package dev.stateprobe.repair.catalog;

import dev.stateprobe.drift.DriftKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One script of the catalog. {@link CatalogLoader} reports bad YAML values field by field; this
 * constructor only guards the invariants, for entries built in code.
 *
 * @param name unique in its catalog, a DNS-1123 label (it becomes part of the job's name and the
 *     {@code script} metric tag)
 * @param script absolute path of the script, resolved against the catalog's folder
 * @param drifts the drift kinds it repairs (never empty)
 * @param mode whether the agent may run it on its own
 * @param timeout 1 s to 1 h, default 60 s
 * @param maxAttempts 1 to 100, default 3
 * @param cooldown per target, default 600 s
 * @param namespaces the namespaces it applies to; {@code ["*"]} (the default) means all
 */
public record CatalogEntry(
    String name,
    Path script,
    Set<DriftKind> drifts,
    Mode mode,
    Duration timeout,
    int maxAttempts,
    Duration cooldown,
    List<String> namespaces) {

  public static final String ALL_NAMESPACES = "*";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration MAX_TIMEOUT = Duration.ofHours(1);
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  public static final int MAX_MAX_ATTEMPTS = 100;
  public static final Duration DEFAULT_COOLDOWN = Duration.ofSeconds(600);

  /** The catalog's {@code mode} field. */
  public enum Mode {
    /** The agent runs the script when {@code REPAIR_MODE} allows it. */
    AUTO("auto"),
    /** The agent does not run the script on its own; a person decides. */
    MANUAL("manual"),
    /** The script always runs with {@code STATE_PROBE_DRY_RUN=true}, whatever REPAIR_MODE says. */
    DRY_RUN("dry-run");

    private final String wireName;

    Mode(String wireName) {
      this.wireName = wireName;
    }

    public String wireName() {
      return wireName;
    }

    public static Optional<Mode> fromWireName(String s) {
      return Arrays.stream(values()).filter(m -> m.wireName.equals(s)).findFirst();
    }
  }

  public CatalogEntry {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(script, "script");
    Objects.requireNonNull(drifts, "drifts");
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(cooldown, "cooldown");
    Objects.requireNonNull(namespaces, "namespaces");
    if (!Names.isDns1123Label(name)) {
      throw new IllegalArgumentException("name '" + name + "' is not a DNS-1123 label");
    }
    if (drifts.isEmpty()) {
      throw new IllegalArgumentException(name + ": drifts must not be empty");
    }
    if (timeout.compareTo(Duration.ofSeconds(1)) < 0 || timeout.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(name + ": timeout must be 1s..1h, got " + timeout);
    }
    if (maxAttempts < 1 || maxAttempts > MAX_MAX_ATTEMPTS) {
      throw new IllegalArgumentException(name + ": maxAttempts must be 1..100, got " + maxAttempts);
    }
    if (cooldown.isNegative()) {
      throw new IllegalArgumentException(name + ": cooldown must not be negative");
    }
    if (namespaces.isEmpty()) {
      throw new IllegalArgumentException(name + ": namespaces must not be empty (use [\"*\"])");
    }
    drifts = Collections.unmodifiableSet(EnumSet.copyOf(drifts));
    namespaces = List.copyOf(namespaces);
  }

  /** Whether this entry repairs {@code kind} in {@code namespace}. */
  public boolean matches(DriftKind kind, String namespace) {
    return drifts.contains(kind)
        && (namespaces.contains(ALL_NAMESPACES) || namespaces.contains(namespace));
  }
}
