package dev.stateprobe.cli;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.build.BuildInfo;
import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigException;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.config.Durations;
import dev.stateprobe.controlplane.PodLister;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftDetector;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.kubelet.ApiProxyKubeletSource;
import dev.stateprobe.kubelet.DirectKubeletSource;
import dev.stateprobe.kubelet.KubeletSource;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.report.Logfmt;
import dev.stateprobe.report.Reports;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.RuntimeView;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.io.File;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code state-probe check}: samples both views N times and reports drift seen in every sample as
 * confirmed (seen in some: suspected). Exit 0 no confirmed drift, 1 drift, 2 error.
 */
public final class CheckCommand {
  private final Map<String, String> env;
  private final PrintStream out;
  private final PrintStream err;
  private final Clock clock;

  public CheckCommand(Map<String, String> env, PrintStream out, PrintStream err) {
    this(env, out, err, Clock.systemUTC());
  }

  CheckCommand(Map<String, String> env, PrintStream out, PrintStream err, Clock clock) {
    this.env = env;
    this.out = out;
    this.err = err;
    this.clock = clock;
  }

  record Options(
      String node,
      String kubeconfig,
      String kubeletUrl,
      int samples,
      Duration interval,
      boolean json) {}

  static Options parse(List<String> args, List<String> problems) {
    String node = null;
    String kubeconfig = null;
    String url = null;
    int samples = 3;
    Duration interval = Duration.ofSeconds(2);
    boolean json = false;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      String v = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        v = a.substring(eq + 1);
        a = a.substring(0, eq);
      } else if (i + 1 < args.size()) {
        v = args.get(i + 1);
      }
      boolean consumed = eq < 0 && v != null;
      switch (a) {
        case "--node" -> node = v;
        case "--kubeconfig" -> kubeconfig = v;
        case "--kubelet-url" -> url = v;
        case "--samples" -> {
          try {
            samples = Integer.parseInt(String.valueOf(v));
            if (samples < 1 || samples > 1000) {
              problems.add("--samples must be between 1 and 1000, got " + v);
            }
          } catch (NumberFormatException e) {
            problems.add("--samples must be a whole number, got '" + v + "'");
          }
        }
        case "--interval" -> {
          try {
            interval = Durations.parse(String.valueOf(v));
          } catch (IllegalArgumentException e) {
            problems.add("--interval: " + e.getMessage());
          }
        }
        case "--output" -> {
          if ("json".equals(v)) {
            json = true;
          } else if (!"table".equals(v)) {
            problems.add("--output must be table or json, got '" + v + "'");
          }
        }
        default -> {
          problems.add("unknown argument '" + args.get(i) + "'");
          consumed = false;
        }
      }
      if (consumed) {
        i++;
      }
    }
    if (node == null || node.isBlank()) {
      problems.add("--node is required");
    }
    return new Options(node, kubeconfig, url, samples, interval, json);
  }

  public int run(List<String> args) {
    List<String> problems = new ArrayList<>();
    Options opts = parse(args, problems);
    if (!problems.isEmpty()) {
      err.println("check: " + String.join("; ", problems));
      return 2;
    }
    Map<String, String> kubeletEnv = new HashMap<>(env);
    kubeletEnv.put("NODE_NAME", opts.node());
    if (opts.kubeletUrl() != null) {
      kubeletEnv.put("KUBELET_URL", opts.kubeletUrl());
      kubeletEnv.put("KUBELET_VIA_API_PROXY", "false");
    } else {
      kubeletEnv.put("KUBELET_VIA_API_PROXY", "true");
    }
    AgentConfig config;
    try {
      config = ConfigLoader.load(kubeletEnv, List.of());
    } catch (ConfigException e) {
      err.println("check: " + e.getMessage());
      return 2;
    }
    Vertx vertx = AgentRuntime.newVertx();
    KubernetesClient client = null;
    try {
      client = client(vertx, opts.kubeconfig());
      return check(vertx, client, config, opts);
    } catch (Exception e) {
      err.println(
          "check: " + Logfmt.printable(e.getMessage() == null ? e.toString() : e.getMessage()));
      return 2;
    } finally {
      // Vert.x before the client: see AgentCommand.
      AgentCommand.closeVertx(vertx);
      if (client != null) {
        client.close();
      }
    }
  }

  /**
   * A one-shot command must say quickly that the API server cannot be reached: fabric8's default of
   * 10 retries with doubling back-off kept {@code check} silent for 20 s and more before exit 2.
   */
  static final int API_RETRIES = 2;

  private static KubernetesClient client(Vertx vertx, String kubeconfig) {
    if (kubeconfig != null && !new File(kubeconfig).isFile()) {
      throw new IllegalArgumentException("--kubeconfig " + kubeconfig + " is not a readable file");
    }
    Config config =
        kubeconfig != null
            ? Config.fromKubeconfig(new File(kubeconfig))
            : Config.autoConfigure(null);
    config =
        new ConfigBuilder(config)
            .withRequestRetryBackoffLimit(
                Math.min(
                    API_RETRIES,
                    java.util.Objects.requireNonNullElse(
                        config.getRequestRetryBackoffLimit(), API_RETRIES)))
            .build();
    return new KubernetesClientBuilder()
        .withHttpClientFactory(new Vertx5HttpClientFactory(vertx))
        .withConfig(config)
        .build();
  }

  /** Runs the samples against an existing client (tests use the simulated API server). */
  int check(Vertx vertx, KubernetesClient client, AgentConfig config, Options opts)
      throws Exception {
    PodJsonDecoder decoder = new PodJsonDecoder();
    Metrics metrics = new Metrics(new SimpleMeterRegistry(), BuildInfo.version(), clock::millis);
    WorkerExecutor worker = vertx.createSharedWorkerExecutor("state-probe-worker", 2);
    try (metrics) {
      return sample(vertx, client, config, opts, decoder, metrics, worker);
    } finally {
      worker.close();
    }
  }

  private int sample(
      Vertx vertx,
      KubernetesClient client,
      AgentConfig config,
      Options opts,
      PodJsonDecoder decoder,
      Metrics metrics,
      WorkerExecutor worker)
      throws Exception {
    try (KubeletSource kubelet =
        opts.kubeletUrl() == null
            ? new ApiProxyKubeletSource(
                vertx, client, opts.node(), config.kubelet(), decoder, metrics, clock, worker)
            : new DirectKubeletSource(vertx, config.kubelet(), decoder, metrics, clock, worker)) {
      PodLister lister = new PodLister(client, opts.node(), decoder);
      DriftDetector detector = new DriftDetector();
      Map<DriftKey, Seen> seen = new TreeMap<>();
      Instant first = null;
      Instant lastAt = null;
      for (int i = 0; i < opts.samples(); i++) {
        if (i > 0) {
          pause(vertx, opts.interval());
        }
        KubeletView k = kubelet.pollPods().await(60, TimeUnit.SECONDS);
        Optional<RuntimeView> r = kubelet.pollRunningPods().await(60, TimeUnit.SECONDS);
        Instant now = clock.instant();
        ControlPlaneView api = lister.list(now);
        first = first == null ? now : first;
        lastAt = now;
        for (Drift d : detector.detect(api, k, r, now)) {
          seen.merge(
              d.key(),
              new Seen(d, now, 1),
              (a, b) -> new Seen(b.drift(), a.firstAt(), a.count() + 1));
        }
      }
      List<TrackedDrift> drifts = new ArrayList<>();
      boolean confirmed = false;
      for (Seen s : seen.values()) {
        boolean all = s.count() == opts.samples();
        confirmed |= all;
        drifts.add(new TrackedDrift(s.drift(), s.firstAt(), all ? lastAt : null, s.count()));
      }
      if (opts.json()) {
        out.println(new Reports().drifts(opts.node(), true, lastAt, drifts));
      } else {
        printTable(opts, drifts);
      }
      return confirmed ? 1 : 0;
    }
  }

  private record Seen(Drift drift, Instant firstAt, int count) {}

  private static void pause(Vertx vertx, Duration d) throws Exception {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(Math.max(1, d.toMillis()), id -> p.complete());
    p.future().await(d.toMillis() + 10_000, TimeUnit.MILLISECONDS);
  }

  void printTable(Options opts, List<TrackedDrift> drifts) {
    if (drifts.isEmpty()) {
      out.printf(
          "node %s: no drift in %d samples%n", Logfmt.printable(opts.node()), opts.samples());
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"KIND", "STATE", "NAMESPACE", "NAME", "UID", "SEEN", "DETAIL"});
    for (TrackedDrift d : drifts) {
      // Names and details come from the kubelet and the API server: a terminal must not receive
      // their control characters (an escape sequence could rewrite what the operator sees).
      rows.add(
          new String[] {
            d.drift().kind().wireName(),
            d.state().wireName(),
            Logfmt.printable(d.drift().target().namespace()),
            Logfmt.printable(d.drift().target().name()),
            Logfmt.printable(d.drift().target().uid()),
            d.observations() + "/" + opts.samples(),
            Logfmt.printable(d.drift().detail())
          });
    }
    int[] w = new int[7];
    for (String[] r : rows) {
      for (int i = 0; i < 6; i++) {
        w[i] = Math.max(w[i], r[i].length());
      }
    }
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < 6; i++) {
        line.append(String.format("%-" + w[i] + "s  ", r[i]));
      }
      line.append(r[6]);
      out.println(line.toString().stripTrailing());
    }
  }
}
