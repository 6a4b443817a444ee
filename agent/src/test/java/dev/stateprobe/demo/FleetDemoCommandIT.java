package dev.stateprobe.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The fleet demo ({@code java -jar state-probe-demo.jar --nodes N}) as a person runs it, with every
 * fleet scenario, on 6 nodes rather than the demo's 20 so that the suite stays near a minute and a
 * half (the scenarios scale their storm and the budget's slots with N: 2 slots below 10 nodes, a
 * storm of 3 nodes of 6, the first 2 over the threshold).
 */
class FleetDemoCommandIT {
  static final int NODES = 6;

  @Test
  void everyFleetScenarioPassesOnSixNodesAndTheSummaryIsJsonOnStdout() {
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        new DemoCommand(
                Map.of(),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .run(List.of("--nodes", Integer.toString(NODES), "--output", "json"));

    String live = err.toString(StandardCharsets.UTF_8);
    System.out.print(live);
    System.out.print(out.toString(StandardCharsets.UTF_8));
    JsonNode summary = JsonMapper.builder().build().readTree(out.toString(StandardCharsets.UTF_8));
    assertThat(summary.path("scenarios").get(0).path("problems").toString()).isEqualTo("[]");
    assertThat(summary.path("scenarios").get(1).path("problems").toString()).isEqualTo("[]");
    assertThat(summary.path("scenarios").get(2).path("problems").toString()).isEqualTo("[]");
    assertThat(code).isZero();
    assertThat(summary.path("passed").asBoolean()).isTrue();

    JsonNode budget = summary.path("scenarios").get(0);
    assertThat(budget.path("name").asString()).isEqualTo("fleet-budget");
    assertThat(budget.path("repairs")).hasSize(NODES);
    budget
        .path("repairs")
        .forEach(
            r -> {
              assertThat(r.path("phase").asString()).isEqualTo("Succeeded");
              assertThat(r.path("verification").asString()).isEqualTo("Resolved");
            });
    assertThat(budget.path("facts").get(0).asString())
        .matches(NODES + " scripts, at most [12] at once \\(2 slots\\), over .*");

    JsonNode storm = summary.path("scenarios").get(1);
    assertThat(storm.path("name").asString()).isEqualTo("fleet-storm");
    assertThat(storm.path("facts").toString())
        .contains("1 later storm nodes held, none recorded")
        .contains("brake on for");
    JsonNode levels = summary.path("scenarios").get(2);
    assertThat(levels.path("name").asString()).isEqualTo("fleet-levels");
    assertThat(levels.path("facts").toString())
        .contains(NODES + " of " + NODES + " nodes repaired Critical first")
        .contains(NODES + " Eventual orphans left alone");
    assertThat(live)
        .contains("[1/3] fleet-budget")
        .contains("brake off  slots 1/2: ")
        .contains("[2/3] fleet-storm")
        .contains("[3/3] fleet-levels")
        .contains("brake on  slots ")
        .contains("brake off  after ")
        .contains("PASS");
  }
}
