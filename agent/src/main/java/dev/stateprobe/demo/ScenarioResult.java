package dev.stateprobe.demo;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.Verification;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How one scenario went.
 *
 * @param expected the drifts that had to be confirmed, in key order
 * @param confirmed the drifts the agent confirmed while it ran, in key order
 * @param repairs the records written while it ran, as the API server has them
 * @param facts findings for people (re-lists, the breaker's threshold, ...)
 * @param problems every way it did not behave as expected; empty when it passed
 */
public record ScenarioResult(
    String name,
    String title,
    String expectation,
    Duration duration,
    List<DriftKey> expected,
    List<DriftKey> confirmed,
    List<Repair> repairs,
    List<String> facts,
    List<String> problems) {

  /** One repair record as the API server has it at the end of the scenario. */
  public record Repair(
      String record,
      String script,
      DriftKey drift,
      Phase phase,
      int attempts,
      Integer exitCode,
      Verification verification) {}

  public ScenarioResult {
    Objects.requireNonNull(name, "name");
    expected = List.copyOf(expected);
    confirmed = List.copyOf(confirmed);
    repairs = List.copyOf(repairs);
    facts = List.copyOf(facts);
    problems = List.copyOf(problems);
  }

  public boolean passed() {
    return problems.isEmpty();
  }
}
