package dev.stateprobe.repair.job;

import dev.stateprobe.drift.DriftKind;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The name of a ConsistencyRepairJob: deterministic from (node, drift kind, target UID, script), so
 * that a second create of the same repair answers AlreadyExists.
 *
 * <p>Shape: {@code <node>-<kind>-<script>-<uid prefix>-<hash>}, each part lower-cased with every
 * run of other characters turned into one {@code -}; the readable part is cut so that the whole
 * name stays within {@link #MAX_LENGTH}. The hash is of the exact inputs, so two different repairs
 * never share a name, however they are cut. The result is a DNS-1123 subdomain (and even a
 * label-like string without dots).
 */
public final class JobNames {
  /** The longest DNS-1123 subdomain. */
  public static final int MAX_LENGTH = 253;

  static final int HASH_CHARS = 16;
  private static final int UID_PREFIX = 8;

  private JobNames() {}

  public static String of(String node, DriftKind kind, String uid, String script) {
    requireText(node, "node");
    Objects.requireNonNull(kind, "kind");
    requireText(uid, "uid");
    requireText(script, "script");
    // Length-prefixed, so that moving characters between parts changes the hash.
    String identity =
        node.length()
            + ":"
            + node
            + "|"
            + kind.wireName()
            + "|"
            + uid.length()
            + ":"
            + uid
            + "|"
            + script;
    String hash = Labels.sha256Hex(identity).substring(0, HASH_CHARS);
    String readable =
        Stream.of(
                node, kind.wireName(), script, uid.substring(0, Math.min(UID_PREFIX, uid.length())))
            .map(JobNames::clean)
            .filter(p -> !p.isEmpty())
            .collect(Collectors.joining("-"));
    int room = MAX_LENGTH - HASH_CHARS - 1;
    if (readable.length() > room) {
      readable = readable.substring(0, room).replaceAll("-+$", "");
    }
    return readable.isEmpty() ? hash : readable + "-" + hash;
  }

  private static String clean(String s) {
    return s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
  }

  private static void requireText(String s, String what) {
    Objects.requireNonNull(s, what);
    if (s.isBlank()) {
      throw new IllegalArgumentException("job name: " + what + " is blank");
    }
  }
}
