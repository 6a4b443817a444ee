package dev.stateprobe.repair.job;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/** The labels of a ConsistencyRepairJob, and how any string becomes a valid label value. */
public final class Labels {
  public static final String NODE = "stateprobe.dev/node";
  public static final String KIND = "stateprobe.dev/kind";
  public static final String SCRIPT = "stateprobe.dev/script";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY_VALUE = "state-probe";

  static final int MAX_VALUE = 63;
  private static final int HASH_CHARS = 10;
  private static final Pattern VALID =
      Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");

  private Labels() {}

  /**
   * {@code raw} itself when it is a valid label value; otherwise a readable, deterministic
   * substitute: invalid characters replaced, cut to fit, and a hash of {@code raw} appended so that
   * two different inputs never share a value.
   */
  public static String value(String raw) {
    Objects.requireNonNull(raw, "label value");
    if (raw.length() <= MAX_VALUE && VALID.matcher(raw).matches()) {
      return raw;
    }
    String cleaned = raw.replaceAll("[^A-Za-z0-9_.-]+", "-");
    int room = MAX_VALUE - HASH_CHARS - 1;
    if (cleaned.length() > room) {
      cleaned = cleaned.substring(0, room);
    }
    cleaned = cleaned.replaceAll("^[^A-Za-z0-9]+", "").replaceAll("[^A-Za-z0-9]+$", "");
    String hash = sha256Hex(raw).substring(0, HASH_CHARS);
    return cleaned.isEmpty() ? hash : cleaned + "-" + hash;
  }

  static String sha256Hex(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
