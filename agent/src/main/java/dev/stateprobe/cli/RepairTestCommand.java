package dev.stateprobe.cli;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.repair.catalog.Catalog;
import dev.stateprobe.repair.catalog.CatalogEntry;
import dev.stateprobe.repair.catalog.CatalogException;
import dev.stateprobe.repair.catalog.CatalogLoader;
import dev.stateprobe.repair.exec.ProcessRunner;
import dev.stateprobe.repair.exec.ScriptEnv;
import dev.stateprobe.repair.exec.ScriptExecutor;
import dev.stateprobe.repair.exec.ScriptInvocation;
import dev.stateprobe.repair.exec.ScriptOutcome;
import dev.stateprobe.repair.exec.ScriptResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code state-probe repair-test}: runs the catalog script the agent would pick for a drift, once,
 * and shows everything about the run. For SRE teams testing a new script or catalog before they
 * ship it.
 *
 * <p>Exit codes: 0 when the script repaired (exit 0) or found nothing to do (exit 2); 1 for any
 * other outcome; 2 when it could not get as far as running a script (bad arguments, invalid catalog
 * or drift, no matching entry).
 */
public final class RepairTestCommand {
  static final String USAGE =
      "usage: state-probe repair-test --catalog FILE --drift-file FILE [--dry-run] [--node NAME]"
          + " [--attempt N] [--script NAME] [--env NAME=VALUE]...";

  /** The job name scripts see: no ConsistencyRepairJob records a test run. */
  static final String JOB_NAME = "repair-test";

  private final ProcessRunner runner;
  private final Clock clock;
  private final ScriptExecutor.Settings settings;
  private final JsonMapper json = JsonMapper.builder().build();

  public RepairTestCommand(ProcessRunner runner, Clock clock, ScriptExecutor.Settings settings) {
    this.runner = runner;
    this.clock = clock;
    this.settings = settings;
  }

  /** Parsed command line. */
  private record Options(
      Path catalog,
      Path driftFile,
      boolean dryRun,
      String node,
      int attempt,
      String script,
      Map<String, String> env) {}

  /** The fields of a {@code /v1/drifts} entry this command needs. */
  private record DriftInput(
      DriftKind kind, String namespace, String name, String uid, String node, ObjectNode raw) {}

  /** A problem that ends the command with exit 2 before any script runs. */
  private static final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;

    Refusal(String message) {
      super(message);
    }
  }

  public int run(List<String> args, PrintStream out, PrintStream err) {
    try {
      Options o = parse(args);
      Catalog catalog = CatalogLoader.load(o.catalog());
      DriftInput drift = readDrift(o.driftFile());
      CatalogEntry entry = choose(catalog, drift, o.script());
      return execute(o, catalog, drift, entry, out);
    } catch (CatalogException e) {
      err.println("repair-test: the catalog is invalid:");
      e.problems().forEach(p -> err.println("  - " + p));
      return 2;
    } catch (Refusal e) {
      err.println("repair-test: " + e.getMessage());
      return 2;
    }
  }

  private int execute(
      Options o, Catalog catalog, DriftInput drift, CatalogEntry entry, PrintStream out)
      throws Refusal {
    String node = o.node() != null ? o.node() : drift.node();
    if (node == null) {
      throw new Refusal("the drift has no 'node' field: pass --node NAME");
    }
    boolean dryRun = o.dryRun() || entry.mode() == CatalogEntry.Mode.DRY_RUN;
    ObjectNode payload = drift.raw().deepCopy();
    payload.put("node", node);
    payload.put("job", JOB_NAME);
    ScriptInvocation invocation;
    try {
      invocation =
          new ScriptInvocation(
              entry.name(),
              entry.script(),
              entry.timeout(),
              drift.kind(),
              node,
              drift.namespace(),
              drift.name(),
              drift.uid(),
              JOB_NAME,
              o.attempt(),
              dryRun,
              json.writeValueAsString(payload),
              o.env());
    } catch (IllegalArgumentException e) {
      throw new Refusal(e.getMessage());
    }

    List<CatalogEntry> order = catalog.matching(drift.kind(), drift.namespace());
    out.println("catalog: " + catalog.file() + " (" + catalog.entries().size() + " scripts)");
    out.println(
        "drift: "
            + drift.kind().wireName()
            + " "
            + drift.namespace()
            + "/"
            + drift.name()
            + " (uid "
            + drift.uid()
            + ") on node "
            + node);
    out.println(
        "escalation order: "
            + order.stream().map(CatalogEntry::name).collect(Collectors.joining(" -> ")));
    out.println(
        "decision: run "
            + entry.name()
            + (o.script() != null
                ? " (chosen with --script)"
                : " (first matching entry: the agent's first attempt)"));
    out.println(
        "  script "
            + entry.script()
            + ", mode "
            + entry.mode().wireName()
            + ", timeout "
            + entry.timeout().toSeconds()
            + "s, maxAttempts "
            + entry.maxAttempts()
            + ", cooldown "
            + entry.cooldown().toSeconds()
            + "s");
    switch (entry.mode()) {
      case AUTO -> {}
      case MANUAL -> out.println("  mode manual: the agent does not run this entry on its own");
      case DRY_RUN -> out.println("  mode dry-run: always runs with STATE_PROBE_DRY_RUN=true");
    }
    out.println("environment (besides PATH, HOME, TMPDIR, LANG):");
    ScriptEnv.of(invocation, Path.of("<working dir>"), settings.path())
        .forEach(
            (k, v) -> {
              if (k.startsWith("STATE_PROBE_")) {
                out.println("  " + k + "=" + v);
              }
            });
    out.println("--- output ---");
    ScriptResult r = new ScriptExecutor(runner, clock, settings).run(invocation);
    out.print(r.output());
    if (!r.output().isEmpty() && !r.output().endsWith("\n")) {
      out.println();
    }
    out.println("--- end of output ---");
    out.println(
        "outcome: "
            + r.outcome().tag()
            + (r.exitCode() == null ? "" : " (exit " + r.exitCode() + ")")
            + " after "
            + r.duration().toMillis()
            + "ms: "
            + r.reason());
    return r.outcome() == ScriptOutcome.SUCCEEDED || r.outcome() == ScriptOutcome.NOT_APPLICABLE
        ? 0
        : 1;
  }

  private static CatalogEntry choose(Catalog catalog, DriftInput drift, String script)
      throws Refusal {
    List<CatalogEntry> matching = catalog.matching(drift.kind(), drift.namespace());
    if (script != null) {
      CatalogEntry named =
          catalog
              .entry(script)
              .orElseThrow(
                  () -> new Refusal("--script " + script + ": the catalog has no such entry"));
      if (!matching.contains(named)) {
        throw new Refusal(
            "--script "
                + script
                + ": it does not repair "
                + drift.kind().wireName()
                + " in namespace "
                + drift.namespace()
                + " (drifts "
                + named.drifts().stream().map(DriftKind::wireName).toList()
                + ", namespaces "
                + named.namespaces()
                + ")");
      }
      return named;
    }
    if (matching.isEmpty()) {
      List<String> sameKind =
          catalog.entries().stream()
              .filter(e -> e.drifts().contains(drift.kind()))
              .map(e -> e.name() + " (namespaces " + e.namespaces() + ")")
              .toList();
      throw new Refusal(
          "no catalog entry repairs "
              + drift.kind().wireName()
              + " in namespace "
              + drift.namespace()
              + (sameKind.isEmpty()
                  ? ": no entry lists this drift kind"
                  : ": the entries for this kind do not apply to that namespace: "
                      + String.join(", ", sameKind)));
    }
    return matching.get(0);
  }

  private DriftInput readDrift(Path file) throws Refusal {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new Refusal("cannot read the drift file " + file + ": " + e);
    }
    JsonNode root;
    try {
      root = json.readTree(text);
    } catch (JacksonException e) {
      throw new Refusal("the drift file " + file + " is not JSON: " + e.getOriginalMessage());
    }
    if (!(root instanceof ObjectNode obj)) {
      throw new Refusal(
          "the drift file "
              + file
              + " must hold one /v1/drifts entry (a JSON object), got "
              + (root.isArray()
                  ? "an array: pick one entry, e.g. with jq '.[0]'"
                  : root.toString()));
    }
    List<String> problems = new ArrayList<>();
    String kindName = text(obj, "kind", problems);
    String namespace = text(obj, "namespace", problems);
    String name = text(obj, "name", problems);
    String uid = text(obj, "uid", problems);
    DriftKind kind = null;
    if (kindName != null) {
      kind = DriftKind.fromWireName(kindName).orElse(null);
      if (kind == null) {
        problems.add(
            "kind: unknown drift kind '"
                + kindName
                + "' (known: "
                + Arrays.stream(DriftKind.values())
                    .map(DriftKind::wireName)
                    .collect(Collectors.joining(", "))
                + ")");
      }
    }
    JsonNode nodeField = obj.get("node");
    String node = nodeField != null && nodeField.isString() ? nodeField.stringValue() : null;
    if (!problems.isEmpty()) {
      throw new Refusal(
          "the drift file " + file + " is not a /v1/drifts entry: " + String.join("; ", problems));
    }
    return new DriftInput(kind, namespace, name, uid, node, obj);
  }

  private static String text(ObjectNode obj, String field, List<String> problems) {
    JsonNode v = obj.get(field);
    if (v == null || !v.isString() || v.stringValue().isEmpty()) {
      problems.add(field + ": required (a non-empty string)");
      return null;
    }
    return v.stringValue();
  }

  private static Options parse(List<String> args) throws Refusal {
    Path catalog = null;
    Path driftFile = null;
    boolean dryRun = false;
    String node = null;
    int attempt = 1;
    String script = null;
    Map<String, String> env = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--")) {
        throw new Refusal("unknown argument '" + arg + "'\n" + USAGE);
      }
      String flag = arg;
      Optional<String> inline = Optional.empty();
      int eq = arg.indexOf('=');
      if (eq > 0) {
        flag = arg.substring(0, eq);
        inline = Optional.of(arg.substring(eq + 1));
      }
      if (flag.equals("--dry-run")) {
        if (inline.isPresent()) {
          throw new Refusal("--dry-run takes no value\n" + USAGE);
        }
        dryRun = true;
        continue;
      }
      String value;
      if (inline.isPresent()) {
        value = inline.get();
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        throw new Refusal(flag + " needs a value\n" + USAGE);
      }
      switch (flag) {
        case "--catalog" -> catalog = Path.of(value);
        case "--drift-file" -> driftFile = Path.of(value);
        case "--node" -> node = value;
        case "--script" -> script = value;
        case "--attempt" -> {
          try {
            attempt = Integer.parseInt(value);
          } catch (NumberFormatException e) {
            attempt = 0;
          }
          if (attempt < 1) {
            throw new Refusal("--attempt must be a whole number >= 1, got '" + value + "'");
          }
        }
        case "--env" -> {
          int at = value.indexOf('=');
          if (at <= 0) {
            throw new Refusal("--env takes NAME=VALUE, got '" + value + "'");
          }
          String name = value.substring(0, at);
          if (ScriptEnv.RESERVED.contains(name)) {
            throw new Refusal("--env " + name + ": the executor sets it; it cannot be replaced");
          }
          env.put(name, value.substring(at + 1));
        }
        default -> throw new Refusal("unknown argument '" + arg + "'\n" + USAGE);
      }
    }
    if (catalog == null || driftFile == null) {
      throw new Refusal(
          (catalog == null ? "--catalog" : "--drift-file") + " is required\n" + USAGE);
    }
    return new Options(catalog, driftFile, dryRun, node, attempt, script, env);
  }
}
