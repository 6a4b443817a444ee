package dev.stateprobe.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Go-style durations ({@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h30m}), as Kubernetes users
 * write them.
 */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h)");

  /**
   * The longest duration accepted at all: 10 years, far beyond any setting's own bound, and short
   * enough that adding it to any instant or multiplying it by a few never overflows.
   */
  public static final Duration MAX = Duration.ofDays(3650);

  private Durations() {}

  private static IllegalArgumentException tooLong(String text) {
    return new IllegalArgumentException(
        "'" + text + "' is longer than " + format(MAX) + ", the longest duration accepted");
  }

  /**
   * @throws IllegalArgumentException naming the accepted format when {@code text} is not one
   */
  public static Duration parse(String text) {
    String s = text.strip();
    if (s.isEmpty()) {
      throw new IllegalArgumentException("empty duration");
    }
    Matcher m = PART.matcher(s);
    Duration total = Duration.ZERO;
    int at = 0;
    while (at < s.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException(
            "'" + text + "' is not a duration (use e.g. 500ms, 5s, 2m, 1h)");
      }
      try {
        long n = Long.parseLong(m.group(1));
        total =
            total.plus(
                switch (m.group(2)) {
                  case "ms" -> Duration.ofMillis(n);
                  case "s" -> Duration.ofSeconds(n);
                  case "m" -> Duration.ofMinutes(n);
                  case "h" -> Duration.ofHours(n);
                  default -> throw new IllegalStateException(m.group(2));
                });
      } catch (NumberFormatException | ArithmeticException e) {
        throw tooLong(text);
      }
      if (total.compareTo(MAX) > 0) {
        throw tooLong(text);
      }
      at = m.end();
    }
    return total;
  }

  /** The shortest exact form: {@code 1500ms}, {@code 5s}, {@code 2m}, {@code 24h}. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0 && ms != 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms % 60_000 == 0 && ms != 0) {
      return ms / 60_000 + "m";
    }
    if (ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
