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
 * The demo ({@code java -jar state-probe-demo.jar}) as a person runs it, with one short scenario.
 */
class DemoCommandIT {

  @Test
  void oneScenarioRunsEndToEndAndItsSummaryIsJsonOnStdout() {
    // The suite's JVM keeps logging to stderr: a configured log file wins over the demo's.
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();

    int code =
        new DemoCommand(
                Map.of(),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .run(
                List.of(
                    "--scenario",
                    "delete-lost",
                    "--output",
                    "json",
                    "--speed",
                    Double.toString(Suite.SPEED)));

    String live = err.toString(StandardCharsets.UTF_8);
    System.out.print(live);
    assertThat(code).isZero();
    JsonNode summary = JsonMapper.builder().build().readTree(out.toString(StandardCharsets.UTF_8));
    assertThat(summary.path("passed").asBoolean()).isTrue();
    assertThat(summary.path("node").asString()).isEqualTo("datagen-1-35");
    JsonNode scenario = summary.path("scenarios").get(0);
    assertThat(scenario.path("name").asString()).isEqualTo("delete-lost");
    assertThat(scenario.path("confirmedDrifts").get(0).path("kind").asString())
        .isEqualTo("OrphanedPod");
    assertThat(scenario.path("repairs").get(0).path("script").asString()).isEqualTo("stop-sandbox");
    assertThat(scenario.path("repairs").get(0).path("verification").asString())
        .isEqualTo("Resolved");
    assertThat(scenario.path("problems").size()).isZero();
    assertThat(live)
        .contains("[1/1] delete-lost: a delete that never reaches the kubelet")
        .contains("injected")
        .contains("confirmed  OrphanedPod shop/cart-7d9f8b6c5-hx2kq")
        .contains("stop-sandbox attempt 1 started")
        .contains("verified   stop-sandbox: Resolved")
        .contains("PASS");
  }
}
