package dev.stateprobe.policy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;

/**
 * Reads one ConsistencyPolicy object (as the API server serves it) and validates it with the same
 * rules as the CRD's schema and CEL, so that a policy that slipped past admission (an older CRD, a
 * cluster without CEL) is refused here rather than half-applied. The first fault is reported, with
 * the policy's name and the field's path, even when the name comes after the fault in the JSON.
 *
 * <p>Unknown fields under {@code spec} are refused too: a field this agent does not know (a newer
 * CRD) could narrow what the policy means, and applying the rest would widen it.
 */
public final class PolicyDecoder {

  /** Limits shared with the CRD: keep them equal (PolicyCrdTest compares). */
  static final int MAX_NAMESPACES = 64;

  static final int MAX_SCRIPTS = 32;
  static final int MAX_EXPRESSIONS = 16;
  static final int MAX_MATCH_LABELS = 32;
  static final int MAX_VALUES = 64;
  static final int MAX_OBSERVATIONS = 100;
  static final int MAX_ATTEMPTS = 10;
  static final Duration MIN_WINDOW = Duration.ofSeconds(1);
  static final Duration MAX_WINDOW = Duration.ofHours(24);

  private static final Pattern DNS1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS1123_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final Pattern LABEL_NAME =
      Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern LABEL_VALUE =
      Pattern.compile("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  private static final Pattern DURATION =
      Pattern.compile("(?:[0-9]+(?:\\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+");
  private static final Pattern DURATION_PART =
      Pattern.compile("([0-9]+)(?:\\.([0-9]+))?(ns|us|µs|ms|s|m|h)");

  private final JsonFactory factory =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  private final Set<String> driftKinds;

  /**
   * @param driftKinds the wire names of the drift kinds a window override may name
   */
  public PolicyDecoder(Set<String> driftKinds) {
    this.driftKinds = Set.copyOf(driftKinds);
  }

  /** Reads and validates one policy; a fault is a {@link PolicyException} naming it. */
  public ConsistencyPolicy decode(byte[] json) throws PolicyException {
    return decode(json, 0, json.length);
  }

  public ConsistencyPolicy decode(byte[] json, int offset, int length) throws PolicyException {
    Scratch s = new Scratch();
    try (JsonParser p = factory.createParser(ObjectReadContext.empty(), json, offset, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        s.fail("(object)", "a ConsistencyPolicy must be a JSON object");
      } else {
        object(p, s);
      }
    } catch (JacksonException e) {
      s.fail("(json)", "malformed JSON: " + e.getOriginalMessage());
    }
    return s.result(driftKinds);
  }

  /** One policy's fields as read, and its first fault. */
  private static final class Scratch {
    String name = "";
    String resourceVersion = "";
    String uid = "";
    String field;
    String message;
    boolean sawSpec;
    String level;
    final Set<String> namespaces = new LinkedHashSet<>();
    LabelSelector podSelector;
    final Map<String, Duration> windows = new HashMap<>();
    Integer minObservations;
    RepairModeOverride mode;
    Set<String> scripts;
    Integer maxAttempts;
    String pool = ConsistencyPolicy.DEFAULT_POOL;

    void fail(String where, String why) {
      if (field == null) {
        field = where;
        message = why;
      }
    }

    boolean failed() {
      return field != null;
    }

    ConsistencyPolicy result(Set<String> kinds) throws PolicyException {
      if (!failed()) {
        validate(kinds);
      }
      if (failed()) {
        throw new PolicyException(new InvalidPolicy(name, resourceVersion, uid, field, message));
      }
      return new ConsistencyPolicy(
          name,
          resourceVersion,
          namespaces,
          Optional.ofNullable(podSelector),
          ConsistencyLevel.fromWireName(level).orElseThrow(),
          new ConsistencyPolicy.Overrides(
              windows,
              minObservations == null ? OptionalInt.empty() : OptionalInt.of(minObservations),
              Optional.ofNullable(mode),
              Optional.ofNullable(scripts),
              maxAttempts == null ? OptionalInt.empty() : OptionalInt.of(maxAttempts)),
          pool);
    }

    private void validate(Set<String> kinds) {
      if (name.isEmpty()) {
        fail("metadata.name", "missing");
        return;
      }
      if (!sawSpec) {
        fail("spec", "missing");
        return;
      }
      if (level == null) {
        fail("spec.consistencyLevel", "missing; one of Eventual, Strict, Critical");
        return;
      }
      ConsistencyLevel l = ConsistencyLevel.fromWireName(level).orElse(null);
      if (l == null) {
        fail(
            "spec.consistencyLevel",
            "\"" + level + "\" is not a level; one of Eventual, Strict, Critical");
        return;
      }
      for (String k : windows.keySet()) {
        if (!kinds.contains(k)) {
          fail(
              "spec.overrides.windows." + k,
              "not a drift kind; one of " + String.join(", ", kinds.stream().sorted().toList()));
          return;
        }
      }
      if (l == ConsistencyLevel.CRITICAL && minObservations != null && minObservations < 2) {
        fail(
            "spec.overrides.minObservations",
            "must be at least 2 for a Critical policy, got " + minObservations);
      }
      if (l == ConsistencyLevel.EVENTUAL && mode == RepairModeOverride.AUTO) {
        fail(
            "spec.overrides.repair.mode",
            "auto contradicts Eventual, whose repairs never run on their own; use approval or"
                + " off, or a Strict policy");
      }
    }
  }

  private static void object(JsonParser p, Scratch s) {
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "metadata" -> {
          if (t == JsonToken.START_OBJECT) {
            metadata(p, s);
          } else {
            s.fail("metadata", "must be an object");
            p.skipChildren();
          }
        }
        case "spec" -> {
          if (t == JsonToken.START_OBJECT) {
            s.sawSpec = true;
            spec(p, s);
          } else {
            s.fail("spec", "must be an object");
            p.skipChildren();
          }
        }
        default -> p.skipChildren(); // apiVersion, kind, status: not the agent's to judge
      }
    }
  }

  private static void metadata(JsonParser p, Scratch s) {
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "name" -> s.name = orEmpty(string(p, t, s, "metadata.name"));
        case "resourceVersion" ->
            s.resourceVersion = orEmpty(string(p, t, s, "metadata.resourceVersion"));
        case "uid" -> s.uid = orEmpty(string(p, t, s, "metadata.uid"));
        default -> p.skipChildren();
      }
    }
  }

  private static void spec(JsonParser p, Scratch s) {
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "consistencyLevel" -> s.level = string(p, t, s, "spec.consistencyLevel");
        case "selector" -> {
          if (object(p, t, s, "spec.selector")) {
            selector(p, s);
          }
        }
        case "overrides" -> {
          if (object(p, t, s, "spec.overrides")) {
            overrides(p, s);
          }
        }
        case "conflictResolution" -> {
          if (object(p, t, s, "spec.conflictResolution")) {
            conflictResolution(p, s);
          }
        }
        default -> unknown(p, s, "spec." + f);
      }
    }
  }

  private static void selector(JsonParser p, Scratch s) {
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "namespaces" -> {
          String where = "spec.selector.namespaces";
          if (array(p, t, s, where)) {
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              String ns = string(p, p.currentToken(), s, where + "[" + i + "]");
              if (ns != null && !dns1123Label(ns)) {
                s.fail(where + "[" + i + "]", "\"" + ns + "\" is not a namespace name");
              } else if (ns != null && !s.namespaces.add(ns)) {
                s.fail(where + "[" + i + "]", "\"" + ns + "\" is listed twice");
              }
              i++;
            }
            if (s.namespaces.size() > MAX_NAMESPACES) {
              s.fail(where, "at most " + MAX_NAMESPACES + " namespaces");
            }
          }
        }
        case "namespaceSelector" -> {
          s.fail(
              "spec.selector.namespaceSelector",
              "not supported: agents would need a watch on every namespace to read their labels;"
                  + " list the namespaces by name in spec.selector.namespaces");
          p.skipChildren();
        }
        case "podSelector" -> {
          if (object(p, t, s, "spec.selector.podSelector")) {
            s.podSelector = labelSelector(p, s, "spec.selector.podSelector");
          }
        }
        default -> unknown(p, s, "spec.selector." + f);
      }
    }
  }

  private static LabelSelector labelSelector(JsonParser p, Scratch s, String where) {
    Map<String, String> labels = new HashMap<>();
    List<LabelSelector.Requirement> requirements = new ArrayList<>();
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "matchLabels" -> {
          if (object(p, t, s, where + ".matchLabels")) {
            String k;
            while ((k = p.nextName()) != null) {
              String at = where + ".matchLabels." + k;
              String v = string(p, p.nextToken(), s, at);
              labelKey(k, s, at);
              labelValue(v, s, at);
              labels.put(k, v == null ? "" : v);
            }
            if (labels.size() > MAX_MATCH_LABELS) {
              s.fail(where + ".matchLabels", "at most " + MAX_MATCH_LABELS + " labels");
            }
          }
        }
        case "matchExpressions" -> {
          if (array(p, t, s, where + ".matchExpressions")) {
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              String at = where + ".matchExpressions[" + i++ + "]";
              if (object(p, p.currentToken(), s, at)) {
                requirements.add(requirement(p, s, at));
              }
            }
            if (requirements.size() > MAX_EXPRESSIONS) {
              s.fail(where + ".matchExpressions", "at most " + MAX_EXPRESSIONS + " expressions");
            }
          }
        }
        default -> unknown(p, s, where + "." + f);
      }
    }
    return new LabelSelector(labels, requirements);
  }

  private static LabelSelector.Requirement requirement(JsonParser p, Scratch s, String where) {
    String key = null;
    String operator = null;
    List<String> values = null;
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "key" -> key = string(p, t, s, where + ".key");
        case "operator" -> operator = string(p, t, s, where + ".operator");
        case "values" -> {
          values = new ArrayList<>();
          if (array(p, t, s, where + ".values")) {
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              String at = where + ".values[" + i++ + "]";
              String v = string(p, p.currentToken(), s, at);
              labelValue(v, s, at);
              values.add(v == null ? "" : v);
            }
          }
        }
        default -> unknown(p, s, where + "." + f);
      }
    }
    if (key == null) {
      s.fail(where + ".key", "missing");
      key = "";
    } else {
      labelKey(key, s, where + ".key");
    }
    LabelSelector.Operator op =
        operator == null ? null : LabelSelector.Operator.fromWireName(operator).orElse(null);
    if (op == null) {
      s.fail(
          where + ".operator",
          (operator == null ? "missing" : "\"" + operator + "\" is not an operator")
              + "; one of In, NotIn, Exists, DoesNotExist");
      return new LabelSelector.Requirement(key, LabelSelector.Operator.EXISTS, Set.of());
    }
    List<String> vs = values == null ? List.of() : values;
    boolean needsValues = op == LabelSelector.Operator.IN || op == LabelSelector.Operator.NOT_IN;
    if (needsValues && vs.isEmpty()) {
      s.fail(where + ".values", "must not be empty for " + operator);
    } else if (!needsValues && !vs.isEmpty()) {
      s.fail(where + ".values", "must be empty for " + operator);
    } else if (vs.size() > MAX_VALUES) {
      s.fail(where + ".values", "at most " + MAX_VALUES + " values");
    }
    return new LabelSelector.Requirement(key, op, Set.copyOf(vs));
  }

  private static void overrides(JsonParser p, Scratch s) {
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "windows" -> {
          if (object(p, t, s, "spec.overrides.windows")) {
            String k;
            while ((k = p.nextName()) != null) {
              String at = "spec.overrides.windows." + k;
              String v = string(p, p.nextToken(), s, at);
              if (v != null) {
                Optional<Duration> d = duration(v);
                if (d.isEmpty()) {
                  s.fail(at, "\"" + v + "\" is not a duration such as 30s, 2m or 1m30s");
                } else if (d.get().compareTo(MIN_WINDOW) < 0 || d.get().compareTo(MAX_WINDOW) > 0) {
                  s.fail(at, v + " is outside 1s..24h");
                } else {
                  s.windows.put(k, d.get());
                }
              }
            }
          }
        }
        case "minObservations" -> {
          Integer n = integer(p, t, s, "spec.overrides.minObservations", 1, MAX_OBSERVATIONS);
          s.minObservations = n;
        }
        case "repair" -> {
          if (object(p, t, s, "spec.overrides.repair")) {
            repair(p, s);
          }
        }
        default -> unknown(p, s, "spec.overrides." + f);
      }
    }
  }

  private static void repair(JsonParser p, Scratch s) {
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "mode" -> {
          String m = string(p, t, s, "spec.overrides.repair.mode");
          if (m != null) {
            s.mode = RepairModeOverride.fromWireName(m).orElse(null);
            if (s.mode == null) {
              s.fail(
                  "spec.overrides.repair.mode",
                  "\"" + m + "\" is not a mode; one of auto, approval, off");
            }
          }
        }
        case "scripts" -> {
          String where = "spec.overrides.repair.scripts";
          if (array(p, t, s, where)) {
            Set<String> scripts = new LinkedHashSet<>();
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              String at = where + "[" + i++ + "]";
              String v = string(p, p.currentToken(), s, at);
              if (v != null && (v.length() > 253 || !DNS1123_SUBDOMAIN.matcher(v).matches())) {
                s.fail(at, "\"" + v + "\" is not a catalog entry name (DNS-1123)");
              } else if (v != null && !scripts.add(v)) {
                s.fail(at, "\"" + v + "\" is listed twice");
              }
            }
            if (scripts.isEmpty()) {
              s.fail(where, "must not be empty; to allow no script set repair.mode: off");
            } else if (scripts.size() > MAX_SCRIPTS) {
              s.fail(where, "at most " + MAX_SCRIPTS + " scripts");
            }
            s.scripts = scripts;
          }
        }
        case "maxAttemptsPerDrift" ->
            s.maxAttempts =
                integer(p, t, s, "spec.overrides.repair.maxAttemptsPerDrift", 1, MAX_ATTEMPTS);
        default -> unknown(p, s, "spec.overrides.repair." + f);
      }
    }
  }

  private static void conflictResolution(JsonParser p, Scratch s) {
    String f;
    while ((f = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (f) {
        case "strategy" -> {
          String v = string(p, t, s, "spec.conflictResolution.strategy");
          if (v != null && !v.equals("LeaseBased")) {
            s.fail(
                "spec.conflictResolution.strategy",
                "\"" + v + "\" is not a strategy; the only one is LeaseBased");
          }
        }
        case "pool" -> {
          String v = string(p, t, s, "spec.conflictResolution.pool");
          if (v != null && (v.length() > 63 || !dns1123Label(v))) {
            s.fail("spec.conflictResolution.pool", "\"" + v + "\" is not a pool name (DNS-1123)");
          } else if (v != null) {
            s.pool = v;
          }
        }
        default -> unknown(p, s, "spec.conflictResolution." + f);
      }
    }
  }

  /** Go's (and CEL's) duration syntax: decimal numbers with a unit each, {@code 1m30s}. */
  static Optional<Duration> duration(String v) {
    if (!DURATION.matcher(v).matches()) {
      return Optional.empty();
    }
    Matcher m = DURATION_PART.matcher(v);
    java.math.BigDecimal nanos = java.math.BigDecimal.ZERO;
    while (m.find()) {
      long unit =
          switch (m.group(3)) {
            case "ns" -> 1L;
            case "us", "µs" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
          };
      String number = m.group(1) + (m.group(2) == null ? "" : "." + m.group(2));
      nanos =
          nanos.add(new java.math.BigDecimal(number).multiply(java.math.BigDecimal.valueOf(unit)));
    }
    if (nanos.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofNanos(nanos.longValue()));
  }

  private static boolean dns1123Label(String v) {
    return v.length() <= 63 && DNS1123_LABEL.matcher(v).matches();
  }

  /** A label key: an optional DNS-1123 prefix and a name of at most 63 characters. */
  private static void labelKey(String k, Scratch s, String where) {
    int slash = k.indexOf('/');
    String prefix = slash < 0 ? null : k.substring(0, slash);
    String name = slash < 0 ? k : k.substring(slash + 1);
    boolean ok =
        name.length() <= 63
            && LABEL_NAME.matcher(name).matches()
            && (prefix == null
                || (prefix.length() <= 253 && DNS1123_SUBDOMAIN.matcher(prefix).matches()));
    if (!ok) {
      s.fail(where, "\"" + k + "\" is not a label key");
    }
  }

  private static void labelValue(String v, Scratch s, String where) {
    if (v != null && (v.length() > 63 || !LABEL_VALUE.matcher(v).matches())) {
      s.fail(where, "\"" + v + "\" is not a label value");
    }
  }

  private static void unknown(JsonParser p, Scratch s, String where) {
    s.fail(where, "unknown field (a newer CRD than this agent?)");
    p.skipChildren();
  }

  private static boolean object(JsonParser p, JsonToken t, Scratch s, String where) {
    if (t == JsonToken.START_OBJECT) {
      return true;
    }
    if (t != JsonToken.VALUE_NULL) {
      s.fail(where, "must be an object");
    }
    p.skipChildren();
    return false;
  }

  private static boolean array(JsonParser p, JsonToken t, Scratch s, String where) {
    if (t == JsonToken.START_ARRAY) {
      return true;
    }
    if (t != JsonToken.VALUE_NULL) {
      s.fail(where, "must be a list");
    }
    p.skipChildren();
    return false;
  }

  private static String string(JsonParser p, JsonToken t, Scratch s, String where) {
    if (t == JsonToken.VALUE_STRING) {
      return p.getString();
    }
    if (t != JsonToken.VALUE_NULL) {
      s.fail(where, "must be a string");
    }
    p.skipChildren();
    return null;
  }

  private static Integer integer(
      JsonParser p, JsonToken t, Scratch s, String where, int min, int max) {
    if (t == JsonToken.VALUE_NUMBER_INT) {
      long v = p.getLongValue();
      if (v < min || v > max) {
        s.fail(where, "must be between " + min + " and " + max + ", got " + v);
        return null;
      }
      return (int) v;
    }
    if (t != JsonToken.VALUE_NULL) {
      s.fail(where, "must be an integer");
    }
    p.skipChildren();
    return null;
  }

  private static String orEmpty(String v) {
    return v == null ? "" : v;
  }
}
