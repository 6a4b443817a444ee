package dev.stateprobe.demo;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.repair.job.Verification;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** How the demo writes drifts and results for people (the summary table) and for tools (JSON). */
public final class DemoText {
  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

  private DemoText() {}

  /** {@code OrphanedPod shop/cart-7d9f8b6c5-hx2kq}. */
  public static String drift(DriftKey k) {
    return k.kind().wireName() + " " + k.target().namespace() + "/" + k.target().name();
  }

  /** The summary table: one row per scenario, then the verdict. */
  public static String table(List<ScenarioResult> results, Duration total) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"#", "scenario", "confirmed", "repair", "result", "time"});
    int i = 0;
    for (ScenarioResult r : results) {
      rows.add(
          new String[] {
            Integer.toString(++i),
            r.name(),
            confirmed(r),
            repairs(r),
            r.passed() ? "PASS" : "FAIL",
            Observer.seconds(r.duration())
          });
    }
    int[] width = new int[rows.getFirst().length];
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        width[c] = Math.max(width[c], row[c].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < row.length; c++) {
        line.append(
            c == 0
                ? String.format(Locale.ROOT, "%" + width[c] + "s", row[c])
                : pad(row[c], width[c]));
        line.append("  ");
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    long passed = results.stream().filter(ScenarioResult::passed).count();
    out.append('\n')
        .append(passed)
        .append(" of ")
        .append(results.size())
        .append(" scenarios behaved as expected in ")
        .append(Observer.seconds(total))
        .append('.')
        .append('\n');
    for (ScenarioResult r : results) {
      for (String p : r.problems()) {
        out.append("  ").append(r.name()).append(": ").append(p).append('\n');
      }
    }
    return out.toString();
  }

  private static String pad(String s, int width) {
    return s + " ".repeat(Math.max(0, width - s.length()));
  }

  /** {@code OrphanedPod}, {@code 12× UnknownToKubelet}, or {@code none}, plus the findings. */
  static String confirmed(ScenarioResult r) {
    if (r.confirmed().isEmpty()) {
      return r.facts().isEmpty() ? "none" : "none (" + String.join("; ", r.facts()) + ")";
    }
    Map<String, Integer> kinds = new LinkedHashMap<>();
    r.confirmed().forEach(k -> kinds.merge(k.kind().wireName(), 1, Integer::sum));
    List<String> parts = new ArrayList<>();
    kinds.forEach((k, n) -> parts.add(n == 1 ? k : n + "× " + k));
    String s = String.join(", ", parts);
    return r.facts().isEmpty() ? s : s + " (" + String.join("; ", r.facts()) + ")";
  }

  /** {@code stop-sandbox: Succeeded, Resolved}, or {@code none}. */
  static String repairs(ScenarioResult r) {
    if (r.repairs().isEmpty()) {
      return "none";
    }
    List<String> parts = new ArrayList<>();
    for (ScenarioResult.Repair rep : r.repairs()) {
      String v =
          rep.verification() == null || rep.verification() == Verification.PENDING
              ? ""
              : ", " + rep.verification().wireName();
      String attempts = rep.attempts() == 1 ? "" : " ×" + rep.attempts();
      parts.add(rep.script() + attempts + ": " + rep.phase().wireName() + v);
    }
    return String.join("; ", parts);
  }

  /** The whole run as JSON, for {@code --output json}. */
  public static String json(List<ScenarioResult> results, Duration total, String node) {
    ObjectNode root = JSON.createObjectNode();
    root.put("node", node);
    root.put("passed", results.stream().allMatch(ScenarioResult::passed));
    root.put("seconds", total.toMillis() / 1000.0);
    ArrayNode list = root.putArray("scenarios");
    for (ScenarioResult r : results) {
      ObjectNode s = list.addObject();
      s.put("name", r.name());
      s.put("title", r.title());
      s.put("expectation", r.expectation());
      s.put("passed", r.passed());
      s.put("seconds", r.duration().toMillis() / 1000.0);
      drifts(s.putArray("expectedDrifts"), r.expected());
      drifts(s.putArray("confirmedDrifts"), r.confirmed());
      ArrayNode reps = s.putArray("repairs");
      for (ScenarioResult.Repair rep : r.repairs()) {
        ObjectNode o = reps.addObject();
        o.put("record", rep.record());
        o.put("script", rep.script());
        o.put("kind", rep.drift().kind().wireName());
        o.put("namespace", rep.drift().target().namespace());
        o.put("name", rep.drift().target().name());
        o.put("uid", rep.drift().target().uid());
        o.put("phase", rep.phase().wireName());
        o.put("attempts", rep.attempts());
        if (rep.exitCode() == null) {
          o.putNull("exitCode");
        } else {
          o.put("exitCode", rep.exitCode());
        }
        o.put("verification", rep.verification() == null ? null : rep.verification().wireName());
      }
      ArrayNode facts = s.putArray("facts");
      r.facts().forEach(facts::add);
      ArrayNode problems = s.putArray("problems");
      r.problems().forEach(problems::add);
    }
    return JSON.writeValueAsString(root) + "\n";
  }

  private static void drifts(ArrayNode out, List<DriftKey> keys) {
    for (DriftKey k : keys) {
      ObjectNode o = out.addObject();
      o.put("kind", k.kind().wireName());
      o.put("namespace", k.target().namespace());
      o.put("name", k.target().name());
      o.put("uid", k.target().uid());
    }
  }
}
