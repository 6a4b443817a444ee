package dev.stateprobe;

import dev.stateprobe.build.BuildInfo;
import dev.stateprobe.cli.AgentCommand;
import dev.stateprobe.cli.CheckCommand;
import dev.stateprobe.cli.CoordinatorCommand;
import dev.stateprobe.cli.RepairTestCommand;
import dev.stateprobe.repair.exec.DefaultProcessRunner;
import dev.stateprobe.repair.exec.ScriptExecutor;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Entry point: picks the mode and exits with its code. The only place that calls {@code
 * System.exit}; everything a mode needs is built inside the mode, from here down, never static.
 */
public final class Main {
  static final String USAGE =
      """
      state-probe — finds and repairs drift between the API server, the kubelet and the runtime.

      Usage: java -jar state-probe.jar MODE [flags]

      Modes:
        agent        run on a node (the DaemonSet): poll, detect, confirm, repair; until SIGTERM.
                     Configured by environment variables, each also a --flag (see README).
        check        one-shot from a laptop: --node NODE [--kubeconfig F] [--kubelet-url URL]
                     [--samples N] [--interval D] [--output table|json]
                     exits 0 (no drift), 1 (drift), 2 (error)
        repair-test  run the script the catalog would pick for a drift, exactly as the agent would:
                     --catalog F --drift-file D [--dry-run] [--node N] [--attempt N]
        coordinator  the fleet storm brake's coordinator (a Deployment of 2, leader-elected): counts
                     the fleet's repair records and publishes the brake Lease; until SIGTERM.
        version      print the version
        help         this text

      The demo (a simulated node with scripted faults, end to end, in one process) is its own jar,
      built next to this one by `./mvnw package`: java -jar agent/target/state-probe-demo.jar --help

      """;

  static final String DEMO_MOVED =
      "the demo is not in the agent jar: run java -jar agent/target/state-probe-demo.jar"
          + " (built next to state-probe.jar by ./mvnw package)";

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(Arrays.asList(args), System.getenv(), System.out, System.err));
  }

  /** Runs one mode with this environment; returns the exit code. */
  static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    if (args.isEmpty()) {
      err.print(USAGE);
      return 2;
    }
    String mode = args.getFirst();
    List<String> rest = args.subList(1, args.size());
    return switch (mode) {
      case "agent" -> new AgentCommand(env, out, err).run(rest);
      case "check" -> new CheckCommand(env, out, err).run(rest);
      case "coordinator" -> new CoordinatorCommand(env, out, err).run(rest);
      case "repair-test" ->
          new RepairTestCommand(
                  DefaultProcessRunner.create(),
                  Clock.systemUTC(),
                  ScriptExecutor.Settings.defaults(Path.of(System.getProperty("java.io.tmpdir"))))
              .run(rest, out, err);
      case "demo" -> {
        err.println(DEMO_MOVED);
        yield 2;
      }
      case "version", "--version" -> {
        out.println("state-probe " + BuildInfo.version());
        yield 0;
      }
      case "help", "--help", "-h" -> {
        out.print(USAGE);
        yield 0;
      }
      default -> {
        err.println("unknown mode '" + mode + "'");
        err.print(USAGE);
        yield 2;
      }
    };
  }
}
