package dev.stateprobe.sim;

import dev.stateprobe.drift.DriftKind;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A simulated cluster: one {@link SimApiServer} (with the project's CRDs and the discovery
 * documents) and N {@link SimNode}s, each a {@link FakeKubelet} over HTTPS played by a {@link
 * SimulatedKubelet}, its Node object, its token file, its kubeconfig and its agent's environment.
 * The demo, the integration tests, the fleet tests and the scale harness all build their nodes
 * here.
 *
 * <p>It scales by sharing: one API server, one Vert.x (one event loop) and one two-thread worker
 * pool for every fake kubelet and its simulated kubelet; every port is chosen by the OS. Agents are
 * not part of it: a node starts one on request ({@link SimNode#startAgent}), with its own Vert.x as
 * the agent's process has.
 *
 * <pre>{@code
 * try (SimCluster cluster = SimCluster.builder().nodes(20).seed(Seed.CAPTURE)
 *     .env("REPAIR_MODE", "on").catalog(catalogFile).build()) {
 *   SimAgent agent = cluster.node(0).startAgent();
 * }
 * }</pre>
 *
 * <p>Thread-safety: built and closed on one thread; the nodes' helpers may be called from any.
 */
public final class SimCluster implements AutoCloseable {
  /** The captured node's name: the name of a cluster's only node, as the demo shows it. */
  public static final String CAPTURE_NODE = "datagen-1-35";

  /** Classpath folder of the simulator's files (copied there by the build from their originals). */
  static final String RESOURCES = "/demo/";

  static final String CAPTURE = "kubelet-pods_k8s-1.35_minikube-containerd_nri-kubernetes.json";

  /** The project's CRDs (copied from {@code manifests/crds/} by the build), applied at start. */
  static final List<String> CRDS = List.of("consistencyrepairjobs.stateprobe.dev.yaml");

  static final String DISCOVERY = "discovery.json";

  /** What each node starts with. */
  public enum Seed {
    /** No pods: the test puts what it needs in the API server and the kubelet. */
    EMPTY,
    /**
     * The real 1.35 kubelet capture: its ordinary pods are created in the API server (the simulated
     * kubelet then runs them), its static pods are given to the kubelet (which then posts their
     * mirror pods). On clusters of more than one node each node's copies are renamed after it, so
     * that names stay unique.
     */
    CAPTURE
  }

  private final Builder settings;
  private final Path dir;
  private final ObjectMapper json = JsonMapper.builder().build();
  private final List<SimNode> nodes = new ArrayList<>();
  private final Map<String, SimNode> byName = new LinkedHashMap<>();
  private Vertx vertx;
  private WorkerExecutor worker;
  private SimApiServer api;
  private Path catalog;
  private Path apiToken;

  private SimCluster(Builder settings, Path dir) {
    this.settings = settings;
    this.dir = dir;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** How to build a cluster; every setting has a default that a test rarely needs to change. */
  public static final class Builder {
    int nodeCount = 1;
    List<String> names;
    Seed seed = Seed.CAPTURE;
    final Map<String, String> env = new LinkedHashMap<>();
    final Map<String, String> scriptEnv = new LinkedHashMap<>();
    Path catalogFile;
    Duration kubeletSync = Duration.ofMillis(500);
    Duration scriptKillGrace = Duration.ofSeconds(2);
    Duration catalogCheck = Duration.ofSeconds(1);
    boolean kubeletFollows = true;

    private Builder() {}

    public Builder nodes(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("a cluster needs at least one node, got " + n);
      }
      this.nodeCount = n;
      this.names = null;
      return this;
    }

    /**
     * Nodes of these names (one each) instead of the defaults: the capture's node for a cluster of
     * one, {@code node-001}… for more.
     */
    public Builder names(String... nodeNames) {
      nodes(nodeNames.length);
      this.names = List.of(nodeNames);
      return this;
    }

    public Builder seed(Seed s) {
      this.seed = s;
      return this;
    }

    /** An agent variable for every node, replacing the default ({@link SimNode#env()}). */
    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    public Builder env(Map<String, String> variables) {
      env.putAll(variables);
      return this;
    }

    /** A variable every node's scripts get, beside the kubelet's and API server's addresses. */
    public Builder scriptEnv(String name, String value) {
      scriptEnv.put(name, value);
      return this;
    }

    /**
     * The catalog every node's agent reads; without one, a valid catalog of one manual no-op entry
     * (as an install has one).
     */
    public Builder catalog(Path file) {
      this.catalogFile = file;
      return this;
    }

    /** How often each simulated kubelet compares itself with the API server. */
    public Builder kubeletSync(Duration every) {
      this.kubeletSync = every;
      return this;
    }

    /**
     * Whether each node's {@link SimulatedKubelet} plays the kubelet (the default): false leaves
     * the fake kubelet serving only what the test puts in it, as tests that break one view by hand
     * need.
     */
    public Builder kubeletFollows(boolean follows) {
      this.kubeletFollows = follows;
      return this;
    }

    /** Between a timed-out script's SIGTERM and SIGKILL. */
    public Builder scriptKillGrace(Duration grace) {
      this.scriptKillGrace = grace;
      return this;
    }

    /** How often agents look for a changed catalog. */
    public Builder catalogCheck(Duration every) {
      this.catalogCheck = every;
      return this;
    }

    /** Builds the cluster (blocking); on failure closes what was made. */
    public SimCluster build() {
      SimCluster c;
      try {
        c = new SimCluster(this, Files.createTempDirectory("state-probe-sim-"));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot make the simulated cluster's folder", e);
      }
      try {
        c.start();
        return c;
      } catch (RuntimeException | Error e) {
        c.close();
        throw e;
      }
    }
  }

  private void start() {
    try {
      catalog = settings.catalogFile == null ? noOpCatalog() : settings.catalogFile;
      apiToken = dir.resolve("api-token");
      Files.writeString(apiToken, "sim-api-token\n"); // the simulated API server checks none
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    vertx =
        Vertx.vertx(
            new VertxOptions()
                .setEventLoopPoolSize(1)
                .setWorkerPoolSize(2)
                .setInternalBlockingPoolSize(2)
                .setPreferNativeTransport(false));
    worker = vertx.createSharedWorkerExecutor("state-probe-sim", 2);
    api = new SimApiServer().start();
    serveDiscovery();
    for (String crd : CRDS) {
      applyCrd(read(crd));
    }
    byte[] capture = settings.seed == Seed.CAPTURE ? read(CAPTURE) : null;
    int n = settings.nodeCount;
    for (int i = 0; i < n; i++) {
      String name =
          settings.names != null
              ? settings.names.get(i)
              : n == 1 ? CAPTURE_NODE : "node-%03d".formatted(i + 1);
      SimNode node = new SimNode(this, i, name, nodeDir(name));
      nodes.add(node);
      byName.put(name, node);
      node.build(capture, !name.equals(CAPTURE_NODE));
    }
  }

  private Path nodeDir(String name) {
    try {
      return Files.createDirectories(dir.resolve("nodes").resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path noOpCatalog() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("catalog"));
    Path script = folder.resolve("noop.sh");
    Files.writeString(script, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path file = folder.resolve("catalog.yaml");
    Files.writeString(
        file,
        """
        scripts:
          - name: noop
            path: noop.sh
            drifts: [OrphanedPod]
            mode: manual
        """);
    return file;
  }

  private void serveDiscovery() {
    JsonNode docs = json.readTree(read(DISCOVERY));
    for (Map.Entry<String, JsonNode> e : docs.properties()) {
      api.serveDocument(e.getKey(), json.writeValueAsString(e.getValue()));
    }
  }

  /** Creates a CRD (YAML) in the API server, as {@code kubectl apply} of the manifest would. */
  public void applyCrd(byte[] yaml) {
    KubernetesClient c = api.client();
    CustomResourceDefinition crd =
        c.apiextensions()
            .v1()
            .customResourceDefinitions()
            .load(new ByteArrayInputStream(yaml))
            .item();
    c.apiextensions().v1().customResourceDefinitions().resource(crd).create();
  }

  /** The bytes of one of the simulator's classpath files. */
  static byte[] read(String name) {
    try (InputStream in = SimCluster.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IllegalStateException(
            "simulator resource " + RESOURCES + name + " is missing from the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read simulator resource " + RESOURCES + name, e);
    }
  }

  // ---- what nodes share ----

  Builder settings() {
    return settings;
  }

  WorkerExecutor worker() {
    return worker;
  }

  Path apiTokenFile() {
    return apiToken;
  }

  /** The agent variables every node starts from, before the node's own and the overrides. */
  Map<String, String> baseEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("POLL_INTERVAL", "200ms");
    env.put("HTTP_PORT", "0");
    env.put("MIN_OBSERVATIONS", "3");
    env.put("REPAIR_MODE", "off");
    env.put("CATALOG_FILE", catalog.toString());
    for (DriftKind k : DriftKind.values()) {
      env.put(k.windowVariable(), "1s");
    }
    return env;
  }

  // ---- accessors ----

  public SimApiServer api() {
    return api;
  }

  /** The cluster's own client (people, controllers, the simulated kubelets): never faulted. */
  public KubernetesClient client() {
    return api.client();
  }

  /** The Vert.x the fake kubelets run on. */
  public Vertx vertx() {
    return vertx;
  }

  public List<SimNode> nodes() {
    return List.copyOf(nodes);
  }

  public int size() {
    return nodes.size();
  }

  public SimNode node(int index) {
    return nodes.get(index);
  }

  public SimNode node(String name) {
    SimNode n = byName.get(name);
    if (n == null) {
      throw new NoSuchElementException("the simulated cluster has no node " + name);
    }
    return n;
  }

  /** The catalog the agents read unless a node's environment says otherwise. */
  public Path catalogFile() {
    return catalog;
  }

  /** The cluster's temporary folder, deleted by {@link #close()}. */
  public Path dir() {
    return dir;
  }

  /** A kubeconfig for the simulated API server (as an agent process or {@code check} uses it). */
  public Path kubeconfig() {
    return kubeconfig(api.url());
  }

  /** A kubeconfig for a server at {@code url}, e.g. one where nothing listens. */
  public Path kubeconfig(String url) {
    try {
      Path file = Files.createTempFile(dir, "kubeconfig", ".yaml");
      Files.writeString(
          file,
          """
          apiVersion: v1
          kind: Config
          clusters:
          - name: sim
            cluster:
              server: %s
          contexts:
          - name: sim
            context:
              cluster: sim
              user: sim
              namespace: default
          current-context: sim
          users:
          - name: sim
            user:
              token: sim-api-token-0003
          """
              .formatted(url));
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops every agent, then the kubelets, the API server and Vert.x; deletes the folder. */
  @Override
  public void close() {
    for (SimNode n : nodes) {
      try {
        n.close();
      } catch (RuntimeException e) {
        // the others still close
      }
    }
    if (api != null) {
      api.close();
    }
    if (vertx != null) {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // closing anyway
      }
    }
    deleteTree(dir);
  }

  private static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.deleteIfExists(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      // a temporary folder left behind is not worth failing for
    }
  }
}
