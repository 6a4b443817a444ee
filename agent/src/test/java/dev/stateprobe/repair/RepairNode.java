package dev.stateprobe.repair;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.Transition;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.DriftRecord;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.repair.job.RepairJobSpec;
import dev.stateprobe.repair.job.RepairJobStatus;
import dev.stateprobe.repair.job.TargetRef;
import dev.stateprobe.sim.FakeKubelet;
import dev.stateprobe.sim.SimAgent;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.sim.SimCluster;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The repair integration tests' view of a one-node {@link SimCluster} whose kubelet plays nothing
 * by itself: test catalogs laid out as a ConfigMap mount, scripts that act on the fake kubelet and
 * log their runs, the records and Events the agents wrote.
 *
 * <p>Made once per test class; {@link #reset} puts everything back between tests.
 */
final class RepairNode implements AutoCloseable {
  static final String NODE = SimCluster.CAPTURE_NODE;
  static final String NS = "shop";
  static final Path SOURCES =
      Path.of(System.getProperty("basedir", ".")).resolve("src/test/resources/repair-it");

  /** One line of a script's call log. */
  record Call(long nanos, String event, String job, String uid, int attempt, boolean dryRun) {
    static Call parse(String line) {
      String[] f = line.trim().split(" ");
      return new Call(
          Long.parseLong(f[0]),
          f[1],
          f[2],
          f[3],
          Integer.parseInt(f[4]),
          Boolean.parseBoolean(f[5]));
    }
  }

  /** One catalog entry of a test catalog. */
  record Entry(
      String name,
      String script,
      String drifts,
      String mode,
      int timeoutSeconds,
      int maxAttempts,
      int cooldownSeconds) {
    static Entry auto(String name, String script) {
      return new Entry(name, script, "OrphanedPod", "auto", 10, 3, 600);
    }

    Entry mode(String m) {
      return new Entry(name, script, drifts, m, timeoutSeconds, maxAttempts, cooldownSeconds);
    }

    Entry maxAttempts(int n) {
      return new Entry(name, script, drifts, mode, timeoutSeconds, n, cooldownSeconds);
    }

    Entry cooldown(int seconds) {
      return new Entry(name, script, drifts, mode, timeoutSeconds, maxAttempts, seconds);
    }

    Entry timeout(int seconds) {
      return new Entry(name, script, drifts, mode, seconds, maxAttempts, cooldownSeconds);
    }

    String yaml() {
      return "  - name: "
          + name
          + "\n"
          + "    path: "
          + script
          + "\n"
          + "    drifts: ["
          + drifts
          + "]\n"
          + "    mode: "
          + mode
          + "\n"
          + "    timeoutSeconds: "
          + timeoutSeconds
          + "\n"
          + "    maxAttempts: "
          + maxAttempts
          + "\n"
          + "    cooldownSeconds: "
          + cooldownSeconds
          + "\n";
    }
  }

  /**
   * A running agent and what the test watches of it. Its API client stays open after {@link #close}
   * (the simulated API server closes it at the end): what a stopped agent must not write is its
   * controller's business, not the connection's.
   */
  record Agent(
      SimNode node,
      AgentRuntime runtime,
      PrometheusMeterRegistry registry,
      List<Transition> transitions)
      implements AutoCloseable {
    double counter(String name, String... tags) {
      Counter c = registry.find(name).tags(tags).counter();
      return c == null ? 0 : c.count();
    }

    double gauge(String name, String... tags) {
      Gauge g = registry.find(name).tags(tags).gauge();
      return g == null ? Double.NaN : g.value();
    }

    /** The drifts confirmed so far, as "Kind/namespace/name/uid", in order. */
    List<String> confirmed() {
      return transitions.stream()
          .filter(t -> t.type() == Transition.Type.CONFIRMED)
          .map(
              t ->
                  t.drift().drift().kind().wireName()
                      + "/"
                      + t.drift().drift().target().namespace()
                      + "/"
                      + t.drift().drift().target().name()
                      + "/"
                      + t.drift().drift().target().uid())
          .toList();
    }

    @Override
    public void close() {
      node.stopAgent();
    }
  }

  final SimCluster sim;
  final SimNode simNode;
  final SimApiServer api;
  final FakeKubelet kubelet;
  final KubernetesClient cluster;
  final Path dir;
  private final String token;
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final Map<String, String> orphans = new ConcurrentHashMap<>();

  /** Every state a record was seen in by a watch: "name phase/verification", in order. */
  private final List<String> recordStates = new CopyOnWriteArrayList<>();

  private final Watch recordWatch;
  private Path catalogDir;
  private Path calls;
  private int catalogVersion;
  private int testNumber;

  RepairNode() {
    sim =
        SimCluster.builder()
            .nodes(1)
            .seed(SimCluster.Seed.EMPTY)
            .kubeletFollows(false)
            .scriptKillGrace(Duration.ofMillis(200))
            .catalogCheck(Duration.ofMillis(100))
            .build();
    simNode = sim.node(0);
    api = sim.api();
    kubelet = simNode.kubelet();
    cluster = api.client();
    dir = simNode.dir();
    token = simNode.initialToken();
    recordWatch =
        cluster
            .resources(ConsistencyRepairJob.class)
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, ConsistencyRepairJob job) {
                    if (action == Action.ADDED || action == Action.MODIFIED) {
                      RepairJobStatus s = job.getStatus();
                      recordStates.add(
                          job.name()
                              + " "
                              + (s == null
                                  ? "-"
                                  : s.phase().wireName()
                                      + (s.verification() == null
                                          ? ""
                                          : "/" + s.verification().wireName())));
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                });
  }

  /**
   * The states the record went through as a watch saw them, repeats removed: "-" for no status,
   * else "Phase" or "Phase/Verification".
   */
  List<String> states(String name) {
    List<String> out = new ArrayList<>();
    for (String s : recordStates) {
      if (s.startsWith(name + " ")) {
        String state = s.substring(name.length() + 1);
        if (out.isEmpty() || !out.getLast().equals(state)) {
          out.add(state);
        }
      }
    }
    return out;
  }

  /** Back to an empty node: no agent, pods, records, events, annotations or faults. */
  void reset() throws IOException {
    closeAgents();
    cluster
        .resources(ConsistencyRepairJob.class)
        .list()
        .getItems()
        .forEach(j -> cluster.resource(j).delete());
    cluster.pods().inAnyNamespace().list().getItems().forEach(p -> cluster.resource(p).delete());
    // The cluster repair budget's slot Leases, with their hourly count.
    cluster.leases().inAnyNamespace().list().getItems().forEach(l -> cluster.resource(l).delete());
    cluster
        .events()
        .v1()
        .events()
        .inAnyNamespace()
        .list()
        .getItems()
        .forEach(e -> cluster.resource(e).delete());
    cluster
        .nodes()
        .withName(NODE)
        .edit(
            n -> new NodeBuilder(n).editMetadata().withAnnotations(Map.of()).endMetadata().build());
    recordStates.clear();
    api.clearRequests();
    kubelet.reset(token);
    kubelet.loadPodList(
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[]}"
            .getBytes(StandardCharsets.UTF_8));
    testNumber++;
    catalogDir = Files.createDirectories(dir.resolve("catalog-" + testNumber));
    calls = dir.resolve("calls-" + testNumber + ".log");
    Files.writeString(calls, "");
    catalogVersion = 0;
    for (String script : List.of("stop-sandbox.sh", "no-op.sh")) {
      Path to = catalogDir.resolve(script);
      Files.copy(SOURCES.resolve(script), to, StandardCopyOption.REPLACE_EXISTING);
      Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  // ---- catalog, laid out as the kubelet mounts a ConfigMap ----

  /**
   * Writes a new version of the catalog and swaps the {@code ..data} symlink to it, as a ConfigMap
   * update does. The scripts stay in the catalog's folder.
   */
  Path catalog(String yaml) {
    try {
      catalogVersion++;
      Path version = Files.createDirectories(catalogDir.resolve("..v" + catalogVersion));
      Files.writeString(version.resolve("catalog.yaml"), yaml);
      Path tmp = catalogDir.resolve("..data_tmp");
      Files.deleteIfExists(tmp);
      Files.createSymbolicLink(tmp, version.getFileName());
      Files.move(
          tmp,
          catalogDir.resolve("..data"),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      Path file = catalogDir.resolve("catalog.yaml");
      if (!Files.isSymbolicLink(file)) {
        Files.createSymbolicLink(file, Path.of("..data/catalog.yaml"));
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path catalog(Entry... entries) {
    StringBuilder b = new StringBuilder("scripts:\n");
    for (Entry e : entries) {
      b.append(e.yaml());
    }
    return catalog(b.toString());
  }

  Path catalogFile() {
    return catalogDir.resolve("catalog.yaml");
  }

  /**
   * The shipped catalog and scripts (repair-scripts/), laid out as the base install mounts them.
   */
  Path shippedCatalog() {
    Path shipped =
        Path.of(System.getProperty("basedir", ".")).resolve("../repair-scripts").normalize();
    try (var files = Files.list(shipped)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".sh")).toList()) {
        Path to = catalogDir.resolve(f.getFileName());
        Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("r-xr-xr-x"));
      }
      return catalog(Files.readString(shipped.resolve("catalog.yaml")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path file(String name) {
    return dir.resolve(name + "-" + testNumber);
  }

  // ---- agents ----

  /** The settings every test starts from; {@code overrides} replace or add variables. */
  Map<String, String> env(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("POLL_INTERVAL", "200ms");
    env.put("MIN_OBSERVATIONS", "2");
    for (DriftKind k : DriftKind.values()) {
      env.put(k.windowVariable(), "300ms");
    }
    env.put("REPAIR_MODE", "on");
    env.put("CATALOG_FILE", catalogFile().toString());
    env.put("CIRCUIT_RECOVERY", "1s");
    env.putAll(overrides);
    return env;
  }

  Agent start(Map<String, String> overrides) {
    return start(overrides, Map.of());
  }

  /**
   * Starts an agent with its own API client (as a process has), the test settings and the scripts'
   * environment: the fake kubelet's URL and token, the call log, plus {@code scriptEnv}.
   */
  Agent start(Map<String, String> overrides, Map<String, String> scriptEnv) {
    return start(overrides, scriptEnv, null);
  }

  /**
   * As {@link #start(Map, Map)}, with {@code scriptPath} as the scripts' whole PATH (null: the
   * fixed PATH), e.g. the image's userland.
   */
  Agent start(Map<String, String> overrides, Map<String, String> scriptEnv, String scriptPath) {
    Map<String, String> env = new HashMap<>();
    env.put("FAKE_KUBELET_URL", kubelet.url().toString());
    env.put("FAKE_KUBELET_TOKEN", token);
    env.put("CALLS_FILE", calls.toString());
    env.putAll(scriptEnv);
    SimAgent a = simNode.startAgent(env(overrides), env, scriptPath);
    List<Transition> transitions = new CopyOnWriteArrayList<>();
    a.runtime().agent().onCycle(c -> transitions.addAll(c.transitions()));
    return new Agent(simNode, a.runtime(), a.registry(), transitions);
  }

  void closeAgents() {
    simNode.stopAgent();
  }

  // ---- pods ----

  /**
   * A running pod bound to the node, in the API server and, as the API server serves it, in the
   * kubelet's list and runtime: no drift.
   */
  Pod healthyPod(String name) {
    return inApiAndKubelet(pod(name, null));
  }

  /**
   * A pod the API server says has Succeeded while its container still runs: TerminalButRunning. The
   * kubelet lists the API server's copy, so nothing else differs.
   */
  Pod terminalButRunning(String name) {
    Pod p = pod(name, null);
    p.getStatus().setPhase("Succeeded");
    return inApiAndKubelet(p);
  }

  private Pod inApiAndKubelet(Pod p) {
    Pod created = cluster.pods().inNamespace(NS).resource(p).create();
    kubelet.putPod(serialization.asJson(created));
    return created;
  }

  /**
   * A pod the kubelet runs under a UID the API server does not have (its sandbox outlived the pod's
   * deletion): an OrphanedPod. Stopping its sandbox also drops it from the kubelet's list.
   *
   * @return its UID
   */
  String orphan(String name) {
    String uid = UUID.randomUUID().toString();
    orphans.put(uid, serialization.asJson(pod(name, uid)));
    orphanAgain(uid);
    return uid;
  }

  /** The orphan's sandbox is back, as if something restarted it. */
  void orphanAgain(String uid) {
    kubelet.putPod(orphans.get(uid));
    kubelet.markOrphaned(uid);
  }

  // ---- what an agent before the one under test left ----

  /** The spec a previous agent wrote for the orphan {@code pod} (UID {@code uid}). */
  static RepairJobSpec previousSpec(String pod, String uid, String script) {
    Instant before = Instant.parse("2026-01-01T00:00:00Z");
    return new RepairJobSpec(
        NODE,
        new DriftRecord(
            "OrphanedPod",
            new TargetRef(NS, pod, uid),
            "seen by the agent before",
            before,
            before.plusSeconds(60),
            3,
            null),
        script,
        false,
        false);
  }

  /** Creates the record as a previous agent did (labels, spec), with {@code status} if given. */
  ConsistencyRepairJob previousRecord(RepairJobSpec spec, RepairJobStatus status) {
    ConsistencyRepairJob job =
        cluster
            .resources(ConsistencyRepairJob.class)
            .resource(
                ConsistencyRepairJob.of(
                    new ObjectMetaBuilder()
                        .withName(spec.jobName())
                        .addToLabels("stateprobe.dev/node", NODE)
                        .addToLabels("stateprobe.dev/kind", spec.drift().kind())
                        .addToLabels("stateprobe.dev/script", spec.script())
                        .addToLabels("app.kubernetes.io/managed-by", "state-probe")
                        .build(),
                    spec,
                    null))
            .create();
    return status == null
        ? job
        : cluster
            .resources(ConsistencyRepairJob.class)
            .resource(job.withStatus(status))
            .updateStatus();
  }

  /**
   * A record whose script exited 0 a moment ago and whose verdict the previous agent never wrote
   * (it stopped first).
   *
   * @return its name
   */
  String succeededLeftPending(String pod, String uid, String script) {
    Instant t = Instant.now().minusSeconds(1);
    RepairJobStatus status =
        RepairJobStatus.pending("created", t)
            .start(1, false, t)
            .finish(Phase.SUCCEEDED, 0, "done", script + ": exit 0", t);
    return previousRecord(previousSpec(pod, uid, script), status).name();
  }

  // ---- what people do ----

  void pause(boolean paused) {
    cluster
        .nodes()
        .withName(NODE)
        .edit(
            n ->
                new NodeBuilder(n)
                    .editMetadata()
                    .withAnnotations(
                        paused ? Map.of(RepairController.PAUSE_ANNOTATION, "true") : Map.of())
                    .endMetadata()
                    .build());
  }

  /** What {@code kubectl patch crj NAME --type merge -p '{"spec":{"approved":true}}'} does. */
  void approve(String name) {
    cluster
        .resources(ConsistencyRepairJob.class)
        .withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"approved\":true}}");
  }

  private static Pod pod(String name, String uid) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .withUid(uid)
        .addToLabels("app", name)
        .endMetadata()
        .withNewSpec()
        .withNodeName(NODE)
        .addNewContainer()
        .withName("app")
        .withImage("registry.example/app:1")
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .addNewContainerStatus()
        .withName("app")
        .withImage("registry.example/app:1")
        .withReady(true)
        .withNewState()
        .withNewRunning()
        .withStartedAt("2026-01-01T00:00:00Z")
        .endRunning()
        .endState()
        .endContainerStatus()
        .endStatus()
        .build();
  }

  // ---- what happened ----

  List<Call> calls() {
    try {
      return Files.readAllLines(calls).stream().filter(l -> !l.isBlank()).map(Call::parse).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The most scripts that ran at the same time, from the start and end lines of the log. */
  int mostAtOnce() {
    int running = 0;
    int most = 0;
    for (Call c : calls().stream().sorted(Comparator.comparingLong(Call::nanos)).toList()) {
      running += c.event().equals("start") ? 1 : -1;
      most = Math.max(most, running);
    }
    return most;
  }

  /** Script runs (their start lines), in order. */
  List<Call> runs() {
    return calls().stream().filter(c -> c.event().equals("start")).toList();
  }

  List<ConsistencyRepairJob> records() {
    return cluster.resources(ConsistencyRepairJob.class).list().getItems().stream()
        .sorted(Comparator.comparing(ConsistencyRepairJob::name))
        .toList();
  }

  /** Events about the object with this UID (a pod), as "reason" strings, sorted by time written. */
  List<Event> eventsAbout(String uid) {
    return cluster.events().v1().events().inAnyNamespace().list().getItems().stream()
        .filter(e -> e.getRegarding() != null && uid.equals(e.getRegarding().getUid()))
        .toList();
  }

  List<Event> nodeEvents() {
    return cluster.events().v1().events().inAnyNamespace().list().getItems().stream()
        .filter(e -> e.getRegarding() != null && "Node".equals(e.getRegarding().getKind()))
        .toList();
  }

  @Override
  public void close() {
    recordWatch.close();
    sim.close();
  }
}
