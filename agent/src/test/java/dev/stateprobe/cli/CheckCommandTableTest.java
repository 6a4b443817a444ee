package dev.stateprobe.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.view.PodRef;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckCommandTableTest {
  @Test
  void theTableNeverSendsAControlCharacterToTheTerminal() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    CheckCommand check = new CheckCommand(Map.of(), out, out);
    Instant t0 = Instant.parse("2026-12-06T00:00:00Z");
    String name = "web\u001b]0;owned\u0007\r\n\u001b[2J-0";
    TrackedDrift d =
        new TrackedDrift(
            new Drift.UnknownToKubelet(new PodRef("ns\u0000", name, "u-1")), t0, t0, 3);

    check.printTable(
        new CheckCommand.Options("n1\u001b[31m", null, null, 3, Duration.ofSeconds(1), false),
        List.of(d));

    String table = bytes.toString(StandardCharsets.UTF_8);
    assertThat(table.chars().filter(c -> c < 0x20 && c != '\n')).as(table).isEmpty();
    assertThat(table.lines()).hasSize(2);
    assertThat(table).contains("web\\u001b]0;owned\\u0007\\u000d\\u000a\\u001b[2J-0");
  }
}
