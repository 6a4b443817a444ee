package dev.stateprobe.demo;

import dev.stateprobe.sim.SimAgent;
import dev.stateprobe.sim.SimNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The demo ({@code state-probe-demo.jar}): builds a {@link DemoNode}, plays the timeline on it,
 * prints a line per step and then a summary, and exits 0 only when every scenario behaved as
 * expected.
 */
public final class DemoCommand {
  static final int MIN_NODES = 2;
  static final int MAX_NODES = 200;
  static final int DEFAULT_FLEET_NODES = 20;

  static final String USAGE =
      """
      Usage: java -jar state-probe-demo.jar [flags]

      Runs a simulated node (API server, kubelet over HTTPS, container runtime) with the real agent
      on it, breaks it in known ways, one scenario after another, and shows what the agent
      suspects, confirms, repairs and verifies. Exits 0 when every scenario behaved as expected.

        --list                 list the scenarios and exit
        --scenario NAME        run only this scenario (repeatable; default: all, in order)
        --speed N              time scale (default 1: polls every 250ms, confirms after 2s;
                               2 is twice as fast, 0.5 half as fast; %s to %s)
        --keep-running         leave the node and the agent up afterwards and print their URLs
                               (/metrics, /v1/drifts, the API server, a kubectl line); Ctrl-C ends
        --output table|json    the summary as a table (default) or as JSON on stdout (the live
                               lines then go to stderr)
        --http-port N          the agent's HTTP port (default: a free one)
        --nodes N              a fleet instead: N simulated nodes (%d to %d), an agent on each, one
                               coordinator; runs the fleet-* scenarios (a fleet-* --scenario alone
                               means %d nodes)

      Needs bash and curl (the demo's repair scripts use them). The agent's own log goes to a file,
      named at the start.
      """
          .formatted(Timing.MIN_SPEED, Timing.MAX_SPEED, MIN_NODES, MAX_NODES, DEFAULT_FLEET_NODES);

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;

  public DemoCommand(Map<String, String> env, PrintStream out, PrintStream err) {
    this.env = env;
    this.out = out;
    this.err = err;
  }

  /** The parsed flags. */
  record Options(
      boolean list,
      List<String> scenarios,
      double speed,
      boolean keepRunning,
      boolean json,
      int httpPort,
      int nodes) {

    boolean fleet() {
      return nodes > 1;
    }
  }

  /** Parses the flags; a bad one is an {@link IllegalArgumentException} naming it. */
  static Options parse(List<String> args) {
    boolean list = false;
    Set<String> scenarios = new LinkedHashSet<>();
    double speed = 1;
    boolean keep = false;
    boolean json = false;
    int port = 0;
    int nodes = 1;
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      String flag = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      switch (flag) {
        case "--list" -> list = true;
        case "--keep-running" -> keep = true;
        case "--scenario" -> {
          String name = value != null ? value : next(args, ++i, flag);
          if (TimelineScenarios.byName(name).isEmpty() && FleetScenarios.byName(name).isEmpty()) {
            throw new IllegalArgumentException(
                "--scenario: unknown scenario '"
                    + name
                    + "'; known: "
                    + String.join(", ", TimelineScenarios.names())
                    + ", "
                    + String.join(", ", FleetScenarios.names()));
          }
          scenarios.add(name);
        }
        case "--speed" -> {
          String v = value != null ? value : next(args, ++i, flag);
          try {
            speed = Double.parseDouble(v);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--speed: '" + v + "' is not a number");
          }
          if (!(speed >= Timing.MIN_SPEED && speed <= Timing.MAX_SPEED)) {
            throw new IllegalArgumentException(
                "--speed must be between "
                    + Timing.MIN_SPEED
                    + " and "
                    + Timing.MAX_SPEED
                    + ", got "
                    + v);
          }
        }
        case "--output" -> {
          String v = value != null ? value : next(args, ++i, flag);
          json =
              switch (v) {
                case "json" -> true;
                case "table" -> false;
                default ->
                    throw new IllegalArgumentException(
                        "--output must be table or json, got '" + v + "'");
              };
        }
        case "--http-port" -> {
          String v = value != null ? value : next(args, ++i, flag);
          try {
            port = Integer.parseInt(v);
          } catch (NumberFormatException e) {
            port = -1;
          }
          if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(
                "--http-port must be a port from 0 to 65535, got '" + v + "'");
          }
        }
        case "--nodes" -> {
          String v = value != null ? value : next(args, ++i, flag);
          try {
            nodes = Integer.parseInt(v);
          } catch (NumberFormatException e) {
            nodes = -1;
          }
          if (nodes < MIN_NODES || nodes > MAX_NODES) {
            throw new IllegalArgumentException(
                "--nodes must be a whole number from "
                    + MIN_NODES
                    + " to "
                    + MAX_NODES
                    + ", got '"
                    + v
                    + "'");
          }
        }
        default -> throw new IllegalArgumentException("unknown flag '" + arg + "'");
      }
    }
    boolean fleetNamed = scenarios.stream().anyMatch(n -> FleetScenarios.byName(n).isPresent());
    boolean nodeNamed = scenarios.stream().anyMatch(n -> TimelineScenarios.byName(n).isPresent());
    if (fleetNamed && nodeNamed) {
      throw new IllegalArgumentException(
          "--scenario: the fleet-* scenarios run on a fleet and the others on one node; run them"
              + " apart");
    }
    if (nodes == 1 && fleetNamed) {
      nodes = DEFAULT_FLEET_NODES;
    }
    if (nodes > 1 && nodeNamed) {
      throw new IllegalArgumentException(
          "--nodes: only the fleet-* scenarios run on a fleet; known: "
              + String.join(", ", FleetScenarios.names()));
    }
    if (nodes > 1 && (keep || port != 0)) {
      throw new IllegalArgumentException(
          "--keep-running and --http-port are for the one-node demo, not with --nodes");
    }
    return new Options(list, List.copyOf(scenarios), speed, keep, json, port, nodes);
  }

  private static String next(List<String> args, int i, String flag) {
    if (i >= args.size() || args.get(i).startsWith("--")) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args.get(i);
  }

  public int run(List<String> args) {
    if (args.contains("--help") || args.contains("-h")) {
      out.print(USAGE);
      return 0;
    }
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      err.println("state-probe demo: " + e.getMessage());
      err.print(USAGE);
      return 2;
    }
    if (o.list()) {
      for (String name : TimelineScenarios.names()) {
        Scenario s = TimelineScenarios.byName(name).orElseThrow();
        out.printf(
            Locale.ROOT, "%-22s %s%n%-22s   expect: %s%n", name, s.title(), "", s.expectation());
      }
      for (String name : FleetScenarios.names()) {
        FleetScenarios.FleetScenario s = FleetScenarios.byName(name).orElseThrow();
        out.printf(
            Locale.ROOT,
            "%-22s (--nodes N) %s%n%-22s   expect: %s%n",
            name,
            s.title(),
            "",
            s.expectation());
      }
      return 0;
    }
    List<String> missing = missingTools();
    if (!missing.isEmpty()) {
      err.println(
          "state-probe demo: the demo's repair scripts need "
              + String.join(" and ", missing)
              + ", which are not in /usr/local/bin, /usr/bin or /bin; install them and run again");
      return 2;
    }
    Path log = logFile();
    PrintStream live = o.json() ? err : out;
    if (o.fleet()) {
      return fleet(o, live, log);
    }
    List<Scenario> scenarios =
        o.scenarios().isEmpty()
            ? TimelineScenarios.all()
            : o.scenarios().stream().map(n -> TimelineScenarios.byName(n).orElseThrow()).toList();
    Timing timing = Timing.of(o.speed());
    live.println("state-probe demo: a simulated node with the real agent on it");
    live.printf(
        Locale.ROOT,
        "  time scale %s: poll %dms, confirmation windows %s, circuit recovery %s; agent log: %s%n",
        o.speed() == 1 ? "1" : Double.toString(o.speed()),
        timing.poll().toMillis(),
        Observer.seconds(timing.window()),
        Observer.seconds(timing.circuitRecovery()),
        log);
    Instant t0 = Instant.now();
    DemoNode node;
    try {
      node = DemoNode.start(DemoNode.Settings.demo(timing, o.httpPort()));
    } catch (Exception e) {
      err.println("state-probe demo: the simulated node did not start: " + e);
      return 2;
    }
    describe(node, live, Duration.between(t0, Instant.now()));
    if (o.keepRunning()) {
      urls(node, live);
    }
    Instant start = Instant.now();
    List<ScenarioResult> results = new TimelineRunner(node, live, Clock.systemUTC()).run(scenarios);
    Duration total = Duration.between(start, Instant.now());
    live.println();
    if (o.json()) {
      out.print(DemoText.json(results, total, node.node().name()));
    } else {
      out.print(DemoText.table(results, total));
    }
    int code = results.stream().allMatch(ScenarioResult::passed) ? 0 : 1;
    if (!o.keepRunning()) {
      node.close();
      return code;
    }
    urls(node, live);
    live.println("Everything stays up until Ctrl-C.");
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  node.close();
                  stopped.countDown();
                },
                "state-probe-demo-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return code;
  }

  /** {@code --nodes N}: the fleet scenarios on N nodes, with one coordinator. */
  private int fleet(Options o, PrintStream live, Path log) {
    List<FleetScenarios.FleetScenario> scenarios =
        o.scenarios().isEmpty()
            ? FleetScenarios.all()
            : o.scenarios().stream().map(n -> FleetScenarios.byName(n).orElseThrow()).toList();
    Timing timing = Timing.of(o.speed());
    int slots = o.nodes() >= 10 ? 5 : 2;
    live.printf(
        Locale.ROOT,
        "state-probe demo: a simulated fleet of %d nodes, the real agent on each, one"
            + " coordinator%n",
        o.nodes());
    live.printf(
        Locale.ROOT,
        "  poll %dms, confirmation windows %s, CLUSTER_REPAIR_SLOTS=%d, FLEET_BRAKE=on"
            + " (heartbeat 500ms, max age 5s); each script runs %ds; agent log: %s%n",
        timing.poll().toMillis(),
        Observer.seconds(timing.window()),
        slots,
        FleetDemo.SCRIPT_SECONDS,
        log);
    Instant t0 = Instant.now();
    FleetDemo fleet;
    try {
      fleet = FleetDemo.start(o.nodes(), slots, timing);
    } catch (Exception e) {
      err.println("state-probe demo: the simulated fleet did not start: " + e);
      return 2;
    }
    try {
      live.printf(
          Locale.ROOT,
          "  API server %s; %d nodes (%s … %s), %d pods each from the 1.35 capture; built and"
              + " agents started in %s%n",
          fleet.cluster().api().url(),
          o.nodes(),
          fleet.nodes().getFirst().name(),
          fleet.nodes().getLast().name(),
          fleet.nodes().getFirst().capturePods(),
          Observer.seconds(Duration.between(t0, Instant.now())));
      live.println(
          "  the timeline prints the brake Lease and the slot Leases' holders whenever they"
              + " change");
      Instant start = Instant.now();
      List<ScenarioResult> results = new FleetScenarios.Runner(fleet, live).run(scenarios);
      Duration total = Duration.between(start, Instant.now());
      live.println();
      if (o.json()) {
        out.print(DemoText.json(results, total, o.nodes() + " nodes"));
      } else {
        out.print(FleetScenarios.table(results, total, o.nodes()));
      }
      return results.stream().allMatch(ScenarioResult::passed) ? 0 : 1;
    } finally {
      fleet.close();
    }
  }

  private static void describe(DemoNode demo, PrintStream live, Duration took) {
    SimNode node = demo.node();
    SimAgent agent = node.agent();
    live.printf(
        Locale.ROOT,
        "  node %s: %d pods from a real kubelet capture (Kubernetes 1.35, minikube, containerd), %d"
            + " of them static%n",
        node.name(),
        node.capturePods(),
        node.staticPods());
    live.println(
        "  API server  " + node.cluster().api().url() + "  (fabric8 mock server, CRUD mode)");
    live.println(
        "  kubelet     "
            + node.kubelet().url()
            + "  (fake: self-signed TLS, bearer token, control endpoint)");
    live.printf(
        Locale.ROOT,
        "  agent       http://127.0.0.1:%d/  REPAIR_MODE=on, demo catalog %s%n",
        agent.httpPort(),
        node.catalogFile());
    live.printf(Locale.ROOT, "  started in %s%n", Observer.seconds(took));
  }

  private static void urls(DemoNode demo, PrintStream live) {
    int port = demo.node().agent().httpPort();
    String api = demo.cluster().api().url();
    String server = api.endsWith("/") ? api.substring(0, api.length() - 1) : api;
    live.println();
    live.println("  metrics     http://127.0.0.1:" + port + "/metrics");
    live.println("  drifts      http://127.0.0.1:" + port + "/v1/drifts");
    live.println("  views       http://127.0.0.1:" + port + "/v1/views");
    live.println("  API server  " + server);
    live.println(
        "  kubectl     kubectl --kubeconfig /dev/null --server " + server + " get pods,crj -A");
  }

  /** bash and curl, looked up where the scripts' fixed PATH looks. */
  private static List<String> missingTools() {
    List<String> missing = new ArrayList<>();
    for (String tool : List.of("bash", "curl")) {
      boolean found =
          List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
              .stream()
              .anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
      if (!found) {
        missing.add(tool);
      }
    }
    return missing;
  }

  /**
   * The agent's log goes to a file so that the step lines stay readable. slf4j-simple reads its
   * settings once, from system properties, when the first logger is made: this runs before that, at
   * the top of the demo mode, and a {@code -Dorg.slf4j.simpleLogger.logFile} given by the user
   * wins.
   */
  private Path logFile() {
    String configured = System.getProperty("org.slf4j.simpleLogger.logFile");
    if (configured != null) {
      return Path.of(configured);
    }
    Path file =
        Path.of(
            Optional.ofNullable(env.get("TMPDIR")).orElse(System.getProperty("java.io.tmpdir")),
            "state-probe-demo-" + ProcessHandle.current().pid() + ".log");
    System.setProperty("org.slf4j.simpleLogger.logFile", file.toString());
    return file;
  }
}
