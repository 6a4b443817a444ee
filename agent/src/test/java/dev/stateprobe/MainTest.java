package dev.stateprobe;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The modes as the jar's entry point runs them, without the process around it. */
class MainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) {
    return Main.run(
        List.of(args),
        env,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpListsEveryMode() {
    assertThat(run(Map.of(), "--help")).isZero();
    assertThat(out()).contains("Modes:");
    for (String mode : List.of("agent", "check", "repair-test", "version", "help")) {
      assertThat(out()).containsPattern("(?m)^  " + mode + " ");
    }
    assertThat(out()).contains("java -jar agent/target/state-probe-demo.jar");
    assertThat(err()).isEmpty();
  }

  @Test
  void theDemoModeNamesTheDemoJarThatNowCarriesIt() {
    assertThat(run(Map.of(), "demo", "--list")).isEqualTo(2);
    assertThat(err()).isEqualTo(Main.DEMO_MOVED + System.lineSeparator());
    assertThat(Main.DEMO_MOVED).contains("java -jar agent/target/state-probe-demo.jar");
    assertThat(out()).isEmpty();
  }

  @Test
  void noModeIsAnErrorThatShowsTheUsage() {
    assertThat(run(Map.of())).isEqualTo(2);
    assertThat(err()).contains("Modes:");
  }

  @Test
  void anUnknownModeIsNamed() {
    assertThat(run(Map.of(), "watch")).isEqualTo(2);
    assertThat(err()).startsWith("unknown mode 'watch'");
  }

  @Test
  void agentModeListsEveryConfigurationProblemAtOnceAndExits2() {
    int code =
        run(
            Map.of("POLL_INTERVAL", "fast", "MIN_OBSERVATIONS", "0", "REPAIR_MODE", "sometimes"),
            "agent",
            "--http-port=70000",
            "--no-such-flag=1");

    assertThat(code).isEqualTo(2);
    assertThat(err())
        .contains("NODE_NAME is required")
        .contains("KUBELET_URL or NODE_IP is required")
        .contains("POLL_INTERVAL")
        .contains("MIN_OBSERVATIONS must be between 1 and 1000, got 0")
        .contains("REPAIR_MODE must be one of on, dry-run, off, got 'sometimes'")
        .contains("HTTP_PORT must be between 0 and 65535, got 70000")
        .contains("unknown flag --no-such-flag");
    assertThat(out()).isEmpty();
  }

  @Test
  void aFlagWinsOverItsVariable() {
    // The variable is bad, the flag that overrides it is good: only NODE_NAME's problem is left.
    int code =
        run(Map.of("POLL_INTERVAL", "fast", "NODE_IP", "10.0.0.1"), "agent", "--poll-interval=1s");

    assertThat(code).isEqualTo(2);
    assertThat(err()).contains("NODE_NAME is required").doesNotContain("POLL_INTERVAL");
  }

  @Test
  void agentHelpListsItsVariables() {
    assertThat(run(Map.of(), "agent", "--help")).isZero();
    assertThat(out())
        .contains("NODE_NAME")
        .contains("POLL_INTERVAL")
        .contains("WINDOW_ORPHANED_POD");
  }

  @Test
  void checkWithoutANodeExits2() {
    assertThat(run(Map.of(), "check", "--samples", "0")).isEqualTo(2);
    assertThat(err())
        .contains("--node is required")
        .contains("--samples must be between 1 and 1000, got 0");
  }
}
