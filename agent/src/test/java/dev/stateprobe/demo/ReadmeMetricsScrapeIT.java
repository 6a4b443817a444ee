package dev.stateprobe.demo;

import static dev.stateprobe.demo.Suite.passed;
import static dev.stateprobe.demo.Suite.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.manifests.KnownMetrics;
import dev.stateprobe.testing.SimClusterExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * README's Metrics table against a real scrape of an agent that has repaired a drift (delete-lost:
 * a script run, its verdict, the records, the Events) and held repairs back (half-pods-vanish: the
 * circuit breaker): every metric the table names is in {@code /metrics}, and every {@code
 * stateprobe_} series in {@code /metrics} is in the table.
 */
class ReadmeMetricsScrapeIT {
  static final Path README = Path.of("..").toAbsolutePath().normalize().resolve("README.md");

  @RegisterExtension static final SimClusterExtension<DemoNode> SIM = Suite.demoNode();

  private static DemoNode node() {
    return SIM.get();
  }

  private static TimelineRunner runner() {
    return Suite.runner(SIM.get());
  }

  /** One row of the table: its name(s) and its type. */
  record Row(String name, String type) {
    /** The series Prometheus shows for it: a histogram by its buckets, a summary by its count. */
    String series() {
      return switch (type) {
        case "histogram" -> name + "_bucket";
        case "summary" -> name + "_count";
        default -> name;
      };
    }
  }

  static List<Row> readmeTable() throws Exception {
    String text = Files.readString(README);
    int from = text.indexOf("\n## Metrics\n");
    int to = text.indexOf("\n## ", from + 1);
    assertThat(from).as("README has a Metrics section").isPositive();
    List<Row> rows = new ArrayList<>();
    Pattern row = Pattern.compile("(?m)^\\| (`stateprobe_[^|]+) \\| (\\w+) \\|");
    Matcher m = row.matcher(text.substring(from, to));
    while (m.find()) {
      Matcher names = Pattern.compile("`(stateprobe_\\w+)`").matcher(m.group(1));
      while (names.find()) {
        rows.add(new Row(names.group(1), m.group(2)));
      }
    }
    return rows;
  }

  static Set<String> scrapedNames(String body) {
    Set<String> names = new TreeSet<>();
    for (String line : body.lines().toList()) {
      if (!line.isBlank() && !line.startsWith("#")) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  @Test
  void everyMetricInReadmesTableIsInAScrapeAfterARepairAndAHeldOneAndNoOtherIs() throws Exception {
    passed(run(runner(), "delete-lost"));
    passed(run(runner(), "half-pods-vanish"));

    HttpResponse<String> scrape =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:" + node().node().agent().httpPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(scrape.statusCode()).isEqualTo(200);
    String body = scrape.body();
    Set<String> scraped = scrapedNames(body);

    List<Row> table = readmeTable();
    assertThat(table).as("README's Metrics table rows").hasSizeGreaterThanOrEqualTo(29);
    List<String> missing =
        table.stream().map(Row::series).filter(s -> !scraped.contains(s)).toList();
    assertThat(missing).as("in README's table, not in the scrape").isEmpty();

    Set<String> documented = new TreeSet<>();
    table.forEach(r -> documented.add(r.name()));
    Set<String> undocumented = new TreeSet<>();
    for (String s : scraped) {
      if (s.startsWith("stateprobe_")
          && !documented.contains(s.replaceFirst("_(bucket|count|sum|max)$", ""))) {
        undocumented.add(s);
      }
    }
    assertThat(undocumented).as("in the scrape, not in README's table").isEmpty();
    assertThat(scraped).as("what the alerts and dashboard use").containsAll(KnownMetrics.AGENT);

    // What the two scenarios must have moved, not merely registered.
    assertThat(body)
        .containsPattern(
            "(?m)^stateprobe_repairs_total\\{outcome=\"resolved\",script=\"stop-sandbox\"} [1-9]")
        .containsPattern("(?m)^stateprobe_repairs_throttled_total\\{reason=\"circuit_open\"} [1-9]")
        .containsPattern("(?m)^stateprobe_events_total\\{reason=\"RepairStarted\"} [1-9]")
        .containsPattern("(?m)^stateprobe_repair_start_latency_seconds_count [1-9]")
        .containsPattern("(?m)^stateprobe_circuit_threshold 8\\.0$");
  }
}
