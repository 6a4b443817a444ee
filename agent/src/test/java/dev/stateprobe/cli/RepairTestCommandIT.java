package dev.stateprobe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.repair.exec.DefaultProcessRunner;
import dev.stateprobe.repair.exec.ScriptExecutor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** repair-test against a real temporary catalog and real scripts. */
class RepairTestCommandIT {
  private static final String UID = "0b6f2c7e-3d1a-4c55-9f0e-2a7b8c9d0e1f";
  private static final String DRIFT =
      "{\"kind\":\"StuckTerminating\",\"namespace\":\"shop\",\"name\":\"web-1\",\"uid\":\""
          + UID
          + "\",\"detail\":\"grace period ended\",\"firstObservedAt\":\"2026-11-02T09:58:05Z\","
          + "\"confirmedAt\":\"2026-11-02T09:59:05Z\",\"observations\":13}";

  @TempDir Path dir;
  private Path catalog;
  private Path drift;
  private Path work;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void setUp() throws IOException {
    work = Files.createDirectory(dir.resolve("work"));
    catalog = dir.resolve("catalog.yaml");
    drift = dir.resolve("drift.json");
    Files.writeString(drift, DRIFT);
    // Prints some inputs and its stdin, then exits with $TEST_EXIT (default 0).
    script(
        "show.sh",
        "#!/usr/bin/env bash\nset -euo pipefail\n"
            + "printf 'attempt=%s dry=%s node=%s job=%s\\n' \"$STATE_PROBE_ATTEMPT\""
            + " \"$STATE_PROBE_DRY_RUN\" \"$STATE_PROBE_NODE_NAME\" \"$STATE_PROBE_JOB_NAME\"\n"
            + "printf 'stdin=%s\\n' \"$(cat)\"\n"
            + "exit \"${TEST_EXIT:-0}\"\n");
    script("other.sh", "#!/usr/bin/env bash\necho other ran\n");
    script("slow.sh", "#!/usr/bin/env bash\necho started\nexec sleep 30\n");
    catalog(
        """
        scripts:
          - name: team-only
            path: other.sh
            drifts: [StuckTerminating]
            namespaces: [team-a]
          - name: show
            path: show.sh
            drifts: [StuckTerminating, OrphanedPod]
            mode: manual
            timeoutSeconds: 20
          - name: other
            path: other.sh
            drifts: [StuckTerminating]
          - name: slow
            path: slow.sh
            drifts: [UidMismatch]
            timeoutSeconds: 1
        """);
  }

  private void script(String name, String text) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, text);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private void catalog(String yaml) throws IOException {
    Files.writeString(catalog, yaml);
  }

  private int run(String... extra) {
    List<String> args =
        new ArrayList<>(List.of("--catalog", catalog.toString(), "--drift-file", drift.toString()));
    args.addAll(List.of(extra));
    RepairTestCommand cmd =
        new RepairTestCommand(
            DefaultProcessRunner.create(),
            Clock.systemUTC(),
            ScriptExecutor.Settings.defaults(work));
    return cmd.run(
        args,
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
  void runsTheFirstMatchingEntryAndPrintsDecisionEnvironmentOutputAndOutcome() {
    assertEquals(0, run("--node", "node-a", "--env", "STATE_PROBE_API_URL=https://api:6443"));
    String expectedStdin =
        DRIFT.substring(0, DRIFT.length() - 1) + ",\"node\":\"node-a\",\"job\":\"repair-test\"}";
    String o = out();
    String head = o.substring(0, o.indexOf("--- end of output ---\n") + 22);
    assertEquals(
        "catalog: "
            + catalog
            + " (4 scripts)\n"
            + "drift: StuckTerminating shop/web-1 (uid "
            + UID
            + ") on node node-a\n"
            + "escalation order: show -> other\n"
            + "decision: run show (first matching entry: the agent's first attempt)\n"
            + "  script "
            + dir.resolve("show.sh")
            + ", mode manual, timeout 20s, maxAttempts 3, cooldown 600s\n"
            + "  mode manual: the agent does not run this entry on its own\n"
            + "environment (besides PATH, HOME, TMPDIR, LANG):\n"
            + "  STATE_PROBE_API_URL=https://api:6443\n"
            + "  STATE_PROBE_ATTEMPT=1\n"
            + "  STATE_PROBE_DRIFT_FILE=<working dir>/drift.json\n"
            + "  STATE_PROBE_DRIFT_KIND=StuckTerminating\n"
            + "  STATE_PROBE_DRY_RUN=false\n"
            + "  STATE_PROBE_JOB_NAME=repair-test\n"
            + "  STATE_PROBE_NODE_NAME=node-a\n"
            + "  STATE_PROBE_POD_NAME=web-1\n"
            + "  STATE_PROBE_POD_NAMESPACE=shop\n"
            + "  STATE_PROBE_POD_UID="
            + UID
            + "\n"
            + "  STATE_PROBE_RUN_ID=<working dir>\n"
            + "--- output ---\n"
            + "attempt=1 dry=false node=node-a job=repair-test\n"
            + "stdin="
            + expectedStdin
            + "\n"
            + "--- end of output ---\n",
        head);
    String tail = o.substring(head.length());
    assertTrue(
        tail.matches("outcome: succeeded \\(exit 0\\) after \\d+ms: show: exit 0 \\(repaired\\)\n"),
        tail);
    assertEquals("", err());
  }

  @Test
  void notApplicableCountsAsSuccessOtherFailuresDoNot() {
    assertEquals(0, run("--node", "n", "--env", "TEST_EXIT=2"));
    assertTrue(out().contains("outcome: not_applicable (exit 2)"), out());
    out.reset();
    assertEquals(1, run("--node", "n", "--env", "TEST_EXIT=1"));
    assertTrue(out().contains("outcome: retryable_failure (exit 1)"), out());
    out.reset();
    assertEquals(1, run("--node", "n", "--env", "TEST_EXIT=3"));
    assertTrue(out().contains("outcome: permanent_failure (exit 3)"), out());
  }

  @Test
  void timedOutScriptExitsOne() throws IOException {
    Files.writeString(drift, DRIFT.replace("StuckTerminating", "UidMismatch"));
    assertEquals(1, run("--node", "n"));
    assertTrue(out().contains("started\n--- end of output ---\noutcome: timed_out after "), out());
  }

  @Test
  void flagsSetDryRunAttemptNodeAndTheScript() {
    assertEquals(0, run("--dry-run", "--attempt=3", "--node=node-b", "--script", "other"));
    String o = out();
    assertTrue(o.contains("decision: run other (chosen with --script)\n"), o);
    assertTrue(o.contains("  STATE_PROBE_DRY_RUN=true\n"), o);
    assertTrue(o.contains("  STATE_PROBE_ATTEMPT=3\n"), o);
    assertTrue(o.contains("  STATE_PROBE_NODE_NAME=node-b\n"), o);
    assertTrue(o.contains("--- output ---\nother ran\n--- end of output ---\n"), o);
  }

  @Test
  void nodeComesFromTheDriftWhenNotGiven() throws IOException {
    Files.writeString(drift, DRIFT.replace("}", ",\"node\":\"node-c\"}"));
    assertEquals(0, run());
    assertTrue(out().contains("attempt=1 dry=false node=node-c job=repair-test\n"), out());
  }

  @Test
  void dryRunModeEntryAlwaysRunsDry() throws IOException {
    catalog(
        "scripts:\n  - name: show\n    path: show.sh\n    drifts: [StuckTerminating]\n"
            + "    mode: dry-run\n");
    assertEquals(0, run("--node", "n"));
    assertTrue(out().contains("attempt=1 dry=true node=n"), out());
    assertTrue(out().contains("  mode dry-run: always runs with STATE_PROBE_DRY_RUN=true\n"));
  }

  @Test
  void invalidCatalogListsEveryProblemAndRunsNothing() throws IOException {
    catalog("scripts:\n  - name: Bad\n    path: none.sh\n    drifts: [StuckTerminating]\n");
    assertEquals(2, run("--node", "n"));
    assertEquals(
        "repair-test: the catalog is invalid:\n"
            + "  - "
            + catalog
            + ": scripts[0] (name 'Bad'): name: 'Bad' is not a DNS-1123 label (lower-case letters,"
            + " digits and '-', at most 63, starting and ending with a letter or digit)\n"
            + "  - "
            + catalog
            + ": scripts[0] (name 'Bad'): path: "
            + dir.resolve("none.sh")
            + " does not exist\n",
        err());
    assertEquals("", out());
  }

  @Test
  void noMatchingEntrySaysWhy() throws IOException {
    Files.writeString(drift, DRIFT.replace("StuckTerminating", "MissingMirrorPod"));
    assertEquals(2, run("--node", "n"));
    assertEquals(
        "repair-test: no catalog entry repairs MissingMirrorPod in namespace shop: no entry lists"
            + " this drift kind\n",
        err());

    err.reset();
    catalog(
        "scripts:\n  - name: team-only\n    path: other.sh\n    drifts: [StuckTerminating]\n"
            + "    namespaces: [team-a, team-b]\n");
    Files.writeString(drift, DRIFT);
    assertEquals(2, run("--node", "n"));
    assertEquals(
        "repair-test: no catalog entry repairs StuckTerminating in namespace shop: the entries"
            + " for this kind do not apply to that namespace: team-only (namespaces [team-a,"
            + " team-b])\n",
        err());
    assertEquals("", out());
  }

  @Test
  void scriptThatDoesNotMatchTheDriftIsRefused() {
    assertEquals(2, run("--node", "n", "--script", "slow"));
    assertEquals(
        "repair-test: --script slow: it does not repair StuckTerminating in namespace shop"
            + " (drifts [UidMismatch], namespaces [*])\n",
        err());
  }

  @Test
  void badDriftFileListsEveryProblem() throws IOException {
    Files.writeString(drift, "{\"kind\":\"Stuck\",\"namespace\":\"shop\",\"name\":\"\"}");
    assertEquals(2, run("--node", "n"));
    assertEquals(
        "repair-test: the drift file "
            + drift
            + " is not a /v1/drifts entry: name: required (a non-empty string); uid: required"
            + " (a non-empty string); kind: unknown drift kind 'Stuck' (known: OrphanedPod,"
            + " UnknownToKubelet, UidMismatch, StaleKubeletView, StuckTerminating,"
            + " MissingMirrorPod, ContainerNotRunning, TerminalButRunning)\n",
        err());

    err.reset();
    Files.writeString(drift, "[" + DRIFT + "]");
    assertEquals(2, run("--node", "n"));
    assertEquals(
        "repair-test: the drift file "
            + drift
            + " must hold one /v1/drifts entry (a JSON object), got an array: pick one entry,"
            + " e.g. with jq '.[0]'\n",
        err());
  }

  @Test
  void missingNodeIsRefused() {
    assertEquals(2, run());
    assertEquals("repair-test: the drift has no 'node' field: pass --node NAME\n", err());
  }

  @Test
  void usageErrorsExitTwo() {
    RepairTestCommand cmd =
        new RepairTestCommand(
            DefaultProcessRunner.create(),
            Clock.systemUTC(),
            ScriptExecutor.Settings.defaults(work));
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    assertEquals(2, cmd.run(List.of("--drift-file", "d"), o, e));
    assertEquals("repair-test: --catalog is required\n" + RepairTestCommand.USAGE + "\n", err());
    err.reset();
    assertEquals(2, run("--attempt", "0"));
    assertEquals("repair-test: --attempt must be a whole number >= 1, got '0'\n", err());
    err.reset();
    assertEquals(2, run("--bogus", "x"));
    assertEquals(
        "repair-test: unknown argument '--bogus'\n" + RepairTestCommand.USAGE + "\n", err());
    err.reset();
    assertEquals(2, run("--node", "n", "--env", "PATH=/tmp"));
    assertEquals("repair-test: --env PATH: the executor sets it; it cannot be replaced\n", err());
    err.reset();
    assertEquals(2, run("--node", "n", "--env", "1X=y"));
    assertEquals("repair-test: extraEnv: '1X' is not a variable name\n", err());
  }
}
