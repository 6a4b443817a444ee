package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The alert rules of manifests/base/prometheusrule.yaml, run by Prometheus' own promtool: the
 * PrometheusRule's groups are extracted into a plain rules file, {@code promtool check rules}
 * checks it (expressions, templates) and {@code promtool test rules} runs the unit tests in
 * src/test/resources/promtool/ against it. Fails, never skips, without promtool (Debian's {@code
 * prometheus} package ships it; {@code .ci/run} installs it).
 */
class PromtoolIT {
  private static final Path TESTS =
      Path.of(System.getProperty("basedir", "."))
          .resolve("src/test/resources/promtool/state-probe-rules.test.yaml");

  private final RepoFiles repo = new RepoFiles();
  private final YAMLMapper yaml = new YAMLMapper();
  @TempDir Path dir;

  private static Path promtool() {
    Optional<Path> found =
        Stream.of(System.getenv().getOrDefault("PATH", "").split(":"))
            .filter(d -> !d.isEmpty())
            .map(d -> Path.of(d, "promtool"))
            .filter(Files::isExecutable)
            .findFirst();
    assertTrue(
        found.isPresent(),
        "promtool is not on PATH, so the alert rules cannot be tested (apt-get install"
            + " prometheus; .ci/run installs it)");
    return found.get();
  }

  private String run(String... args) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>();
    argv.add(promtool().toString());
    argv.addAll(List.of(args));
    Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish in 60 s");
    assertEquals(0, p.exitValue(), String.join(" ", argv) + "\n" + out);
    return out;
  }

  /** The PrometheusRule's {@code spec.groups} as a plain rules file's content. */
  private ObjectNode groups() {
    JsonNode rule = repo.yamlTree(repo.manifests().resolve("base/prometheusrule.yaml"));
    assertEquals("PrometheusRule", rule.path("kind").asString());
    ObjectNode plain = yaml.createObjectNode();
    plain.set("groups", rule.path("spec").path("groups").deepCopy());
    return plain;
  }

  private static List<ObjectNode> rules(ObjectNode groups) {
    List<ObjectNode> out = new ArrayList<>();
    for (JsonNode g : groups.path("groups")) {
      for (JsonNode r : g.path("rules")) {
        out.add((ObjectNode) r);
      }
    }
    return out;
  }

  @Test
  void theRulesAreValidForPrometheus() throws Exception {
    ObjectNode groups = groups();
    Path file = dir.resolve("state-probe-rules-full.yaml");
    Files.writeString(file, yaml.writeValueAsString(groups));
    String out = run("check", "rules", file.getFileName().toString());
    assertTrue(out.contains("SUCCESS: " + rules(groups).size() + " rules found"), out);
  }

  /**
   * A plain rules file shipped anywhere under manifests/ (for a Prometheus without the Operator)
   * holds exactly the PrometheusRule's groups: one source of truth, checked. Found by content (a
   * YAML document whose only key is {@code groups}), so a new one is checked without listing it.
   */
  @Test
  void everyPlainRulesFileInTheManifestsIsThePrometheusRulesGroups() throws Exception {
    ObjectNode groups = groups();
    List<Path> plain = new ArrayList<>();
    try (Stream<Path> files = Files.walk(repo.manifests())) {
      // Helm templates are Go templates, not YAML, until rendered.
      Path templates = repo.manifests().resolve("helm");
      for (Path f :
          files
              .filter(f -> f.toString().endsWith(".yaml") && !f.startsWith(templates))
              .sorted()
              .toList()) {
        for (String doc : repo.documents(f)) {
          JsonNode tree = repo.yamlTree(doc, f);
          if (tree.isObject() && tree.size() == 1 && tree.has("groups")) {
            plain.add(f);
            assertEquals(groups, tree, f + " differs from base/prometheusrule.yaml's groups");
          }
        }
      }
    }
    for (Path f : plain) {
      run("check", "rules", f.toString());
    }
  }

  @Test
  void theRulesPassTheirUnitTests() throws Exception {
    ObjectNode groups = groups();
    Set<String> alerts = new TreeSet<>();
    for (ObjectNode r : rules(groups)) {
      alerts.add(r.path("alert").asString());
      // The runbook is fixed text for people; the tests leave it out rather than repeat it.
      JsonNode runbook = r.path("annotations").path("runbook");
      assertFalse(
          runbook.asString().contains("{{"),
          r.path("alert").asString() + ": a runbook with templates would go untested");
      ((ObjectNode) r.path("annotations")).remove("runbook");
    }
    Files.writeString(dir.resolve("state-probe-rules.yaml"), yaml.writeValueAsString(groups));
    Files.copy(TESTS, dir.resolve(TESTS.getFileName()));

    Set<String> tested = new TreeSet<>();
    for (JsonNode t : yaml.readTree(Files.readString(TESTS)).path("tests")) {
      for (JsonNode a : t.path("alert_rule_test")) {
        tested.add(a.path("alertname").asString());
      }
    }
    assertEquals(alerts, tested, "every alert has promtool tests, and only those alerts");

    String out = run("test", "rules", TESTS.getFileName().toString());
    assertTrue(out.contains("SUCCESS"), out);
  }
}
