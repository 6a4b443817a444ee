package dev.stateprobe.report;

/**
 * Text from outside the agent (names and messages from the kubelet, the API server, scripts) made
 * safe for a line of logfmt or a terminal: a value can neither end its line, nor start another
 * field, nor send an escape sequence to whoever reads the log in a terminal.
 *
 * <p>Control characters (C0, DEL, C1) and the Unicode bidirectional overrides are written as {@code
 * \\uXXXX}; in quoted values {@code "} and {@code \\} are escaped too. Pure.
 */
public final class Logfmt {
  /** How much of a refused value a message repeats. */
  static final int SHORT = 64;

  private Logfmt() {}

  /**
   * A logfmt value: as it is when it holds nothing but visible characters other than {@code "},
   * {@code \\} and {@code =}; quoted and escaped otherwise (an empty one as {@code ""}).
   */
  public static String value(Object o) {
    String s = String.valueOf(o);
    if (s.isEmpty()) {
      return "\"\"";
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ' ' || c == '"' || c == '\\' || c == '=' || unsafe(c)) {
        return quoted(s);
      }
    }
    return s;
  }

  /** {@code "…"} with everything in it escaped. */
  public static String quoted(Object o) {
    return '"' + escaped(o) + '"';
  }

  /** The inside of a quoted logfmt value: for a pattern that writes the quotes itself. */
  public static String escaped(Object o) {
    String s = String.valueOf(o);
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String rep =
          switch (c) {
            case '"' -> "\\\"";
            case '\\' -> "\\\\";
            case '\n' -> "\\n";
            case '\r' -> "\\r";
            case '\t' -> "\\t";
            default -> unsafe(c) ? unicodeEscape(c) : null;
          };
      if (rep != null && out == null) {
        out = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (out != null) {
        if (rep != null) {
          out.append(rep);
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? s : out.toString();
  }

  /**
   * Only the control characters escaped, quotes and backslashes left alone: for a terminal, and for
   * text that is quoted again where it is written (a JSON string, a quoted log value).
   */
  public static String printable(Object o) {
    String s = String.valueOf(o);
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean bad = unsafe(c) || c == '\n' || c == '\r' || c == '\t';
      if (bad && out == null) {
        out = new StringBuilder(s.length() + 16).append(s, 0, i);
      }
      if (out != null) {
        if (bad) {
          out.append(unicodeEscape(c));
        } else {
          out.append(c);
        }
      }
    }
    return out == null ? s : out.toString();
  }

  /** The first {@value #SHORT} characters, with {@code …} when there were more. */
  public static String shortened(String s) {
    return s.length() <= SHORT ? s : s.substring(0, SHORT) + "…";
  }

  /** C0, DEL, C1, the line and paragraph separators, and the bidirectional controls. */
  static boolean unsafe(char c) {
    return c < 0x20
        || c >= 0x7f && c <= 0x9f
        || c == '\u2028'
        || c == '\u2029'
        || c >= '\u202a' && c <= '\u202e'
        || c >= '\u2066' && c <= '\u2069'
        || c == '\u200e'
        || c == '\u200f';
  }

  private static String unicodeEscape(char c) {
    return String.format("\\u%04x", (int) c);
  }
}
