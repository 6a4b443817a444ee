package dev.stateprobe.sim;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The {@code spec.nodeName} requirements of a pod field selector, which fabric8's CRUD mock does
 * not index (it silently matches nothing). The dispatcher strips them from the query it hands to
 * the mock and applies them itself.
 *
 * @param requirements each {@code spec.nodeName=X}, {@code ==X} or {@code !=X}; all must hold
 * @param remainingFieldSelector the other requirements, {@code ""} when none are left
 */
record SimApiNodeSelector(List<Requirement> requirements, String remainingFieldSelector) {

  static final String FIELD = "spec.nodeName";

  record Requirement(boolean equal, String value) {
    boolean matches(String nodeName) {
      String actual = nodeName == null ? "" : nodeName;
      return equal == actual.equals(value);
    }
  }

  SimApiNodeSelector {
    requirements = List.copyOf(requirements);
    Objects.requireNonNull(remainingFieldSelector, "remainingFieldSelector");
  }

  /** The node requirements of {@code fieldSelector}, or {@code null} when it has none. */
  static SimApiNodeSelector of(String fieldSelector) {
    if (fieldSelector == null || fieldSelector.isEmpty()) {
      return null;
    }
    List<Requirement> ours = new ArrayList<>();
    List<String> others = new ArrayList<>();
    for (String term : fieldSelector.split(",")) {
      Requirement r = parse(term.trim());
      if (r != null) {
        ours.add(r);
      } else if (!term.isBlank()) {
        others.add(term.trim());
      }
    }
    return ours.isEmpty() ? null : new SimApiNodeSelector(ours, String.join(",", others));
  }

  private static Requirement parse(String term) {
    if (term.startsWith(FIELD + "!=")) {
      return new Requirement(false, term.substring(FIELD.length() + 2));
    }
    if (term.startsWith(FIELD + "==")) {
      return new Requirement(true, term.substring(FIELD.length() + 2));
    }
    if (term.startsWith(FIELD + "=")) {
      return new Requirement(true, term.substring(FIELD.length() + 1));
    }
    return null;
  }

  boolean matches(String nodeName) {
    return requirements.stream().allMatch(r -> r.matches(nodeName));
  }

  /** {@code query} with the fieldSelector replaced by the remaining requirements. */
  String rewriteQuery(String query) {
    List<String> pairs = new ArrayList<>();
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals("fieldSelector")) {
        if (!remainingFieldSelector.isEmpty()) {
          pairs.add(
              "fieldSelector=" + URLEncoder.encode(remainingFieldSelector, StandardCharsets.UTF_8));
        }
      } else {
        pairs.add(pair);
      }
    }
    return String.join("&", pairs);
  }
}
