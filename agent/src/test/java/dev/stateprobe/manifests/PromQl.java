package dev.stateprobe.manifests;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the metric names in a PromQL expression, well enough for the expressions in manifests/: it
 * drops string literals, label matchers, range and subquery brackets and the label lists of {@code
 * by}/{@code without}/{@code on}/{@code ignoring}/{@code group_*}, then keeps every identifier that
 * is neither a function call nor a keyword. Not a parser: an expression it cannot read fails the
 * test that uses it, which is the safe direction.
 */
final class PromQl {
  private PromQl() {}

  private static final Set<String> KEYWORDS =
      Set.of(
          "and",
          "or",
          "unless",
          "by",
          "without",
          "on",
          "ignoring",
          "group_left",
          "group_right",
          "offset",
          "bool",
          "atan2",
          "inf",
          "nan");

  private static final Pattern STRING =
      Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");
  private static final Pattern MATCHERS = Pattern.compile("\\{[^{}]*}");
  private static final Pattern RANGE = Pattern.compile("\\[[^\\[\\]]*]");
  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^()]*\\)");
  private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

  static Set<String> metricNames(String expr) {
    String s = STRING.matcher(expr).replaceAll(" ");
    s = MATCHERS.matcher(s).replaceAll(" ");
    s = RANGE.matcher(s).replaceAll(" ");
    s = GROUPING.matcher(s).replaceAll(" ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENT.matcher(s);
    while (m.find()) {
      String word = m.group();
      int start = m.start();
      if (start > 0 && (Character.isDigit(s.charAt(start - 1)) || s.charAt(start - 1) == '.')) {
        continue; // the unit or exponent of a number, e.g. 1e3
      }
      if (KEYWORDS.contains(word.toLowerCase(java.util.Locale.ROOT))) {
        continue;
      }
      int next = m.end();
      while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
        next++;
      }
      if (next < s.length() && s.charAt(next) == '(') {
        continue; // a function or aggregation
      }
      names.add(word);
    }
    return names;
  }
}
