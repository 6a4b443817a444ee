package dev.stateprobe.bench;

import dev.stateprobe.sim.FakeKubelet;
import dev.stateprobe.sim.SimApiRequest;
import dev.stateprobe.sim.SimApiServer;
import dev.stateprobe.sim.SimCluster;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The footprint harness's node ({@code agent/bench/footprint.sh}): a one-node {@link SimCluster} in
 * its own JVM so that the agent's process holds only the agent, with {@code N} pods bound to node
 * {@value PodSynth#NODE} in the API server, and a fake HTTPS kubelet serving the same pods as the
 * kubelet would (static pods as themselves, the others with the kubelet's annotations), so that a
 * correct agent sees no drift.
 *
 * <p>Usage: {@code FootprintNode --pods N --dir DIR [--churn SECONDS]}. With {@code --churn}, one
 * pod changes every that many seconds (a label, in the API server and then in the kubelet's copy,
 * as a controller's edit reaches both), so that {@code /pods} is never the same twice and the
 * informer gets watch events, as on a node whose pods change. Writes {@code DIR/kubeconfig}, {@code
 * DIR/kubelet-token}, {@code DIR/simnode.env} (shell variables for the harness) and prints {@code
 * SIMNODE READY}. A control port on 127.0.0.1 answers:
 *
 * <ul>
 *   <li>{@code GET /stats}: the agent's API requests ({@code key=value} lines), by verb and
 *       resource, and pod LISTs after the first one;
 *   <li>{@code POST /orphans?count=K}: K running pods appear in the kubelet's {@code /pods} and
 *       runtime that the API server does not have (OrphanedPod drift); stopping the sandbox through
 *       the fake kubelet's control endpoint removes them;
 * </ul>
 *
 * Runs until SIGTERM (a background job's standard input is {@code /dev/null}, so it is not
 * watched).
 */
public final class FootprintNode {
  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private final PodSynth synth = new PodSynth();
  private int orphans; // guarded by this

  private FootprintNode() {}

  public static void main(String[] args) throws Exception {
    int pods = 110;
    Path dir = null;
    double churnSeconds = 0;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--pods" -> pods = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--churn" -> churnSeconds = Double.parseDouble(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (dir == null) {
      throw new IllegalArgumentException("--dir is required");
    }
    Files.createDirectories(dir);

    // The simulated cluster's node: API server, Node object, fake kubelet, token file. The
    // kubelet serves only what is loaded below (the synthesized pods), as the harness measures.
    SimCluster sim =
        SimCluster.builder()
            .names(PodSynth.NODE)
            .seed(SimCluster.Seed.EMPTY)
            .kubeletFollows(false)
            .build();
    SimApiServer api = sim.api();
    dev.stateprobe.sim.SimNode simNode = sim.node(0);
    FakeKubelet kubelet = simNode.kubelet();
    Vertx vertx = sim.vertx();

    long t0 = System.nanoTime();
    FootprintNode node = new FootprintNode();
    PodSynth synth = node.synth;
    KubernetesClient cluster = api.client();
    List<ObjectNode> kubeletPods = synth.kubeletPods(pods);
    List<ObjectNode> apiPods = synth.apiPods(kubeletPods);
    KubernetesSerialization serialization = cluster.getKubernetesSerialization();
    StringBuilder list =
        new StringBuilder("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[");
    for (int i = 0; i < apiPods.size(); i++) {
      ObjectNode a = apiPods.get(i);
      ((ObjectNode) a.get("metadata")).remove("resourceVersion");
      Pod created =
          cluster
              .pods()
              .inNamespace(a.path("metadata").path("namespace").asString("default"))
              .resource(serialization.unmarshal(MAPPER.writeValueAsString(a), Pod.class))
              .create();
      ObjectNode k = kubeletPods.get(i);
      boolean isStatic = a.path("metadata").path("annotations").has(PodSynth.CONFIG_MIRROR);
      ObjectNode served = isStatic ? k : kubeletCopy(serialization.asJson(created), k);
      list.append(i == 0 ? "" : ",").append(MAPPER.writeValueAsString(served));
    }
    kubelet.loadPodList(list.append("]}").toString().getBytes(StandardCharsets.UTF_8));
    long seededMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    Path kubeconfig = dir.resolve("kubeconfig");
    Files.copy(sim.kubeconfig(), kubeconfig, StandardCopyOption.REPLACE_EXISTING);
    Path tokenFile = dir.resolve("kubelet-token");
    Files.copy(simNode.kubeletTokenFile(), tokenFile, StandardCopyOption.REPLACE_EXISTING);
    HttpServer control =
        vertx
            .createHttpServer()
            .requestHandler(req -> node.control(req, api, kubelet))
            .listen(0, "127.0.0.1")
            .await(10, TimeUnit.SECONDS);
    String env =
        String.join(
            "\n",
            "SIM_PODS=" + pods,
            "SIM_NODE=" + PodSynth.NODE,
            "SIM_KUBECONFIG=" + kubeconfig,
            "SIM_KUBELET_URL=" + kubelet.url(),
            "SIM_KUBELET_CA=" + kubelet.caFile(),
            "SIM_KUBELET_TOKEN_FILE=" + tokenFile,
            "SIM_CONTROL=http://127.0.0.1:" + control.actualPort(),
            "SIM_API=" + api.url(),
            "SIM_KUBELET_PODS_BYTES=" + kubelet.podsBody().length,
            "SIM_SEED_MS=" + seededMs,
            "");
    Files.writeString(dir.resolve("simnode.env"), env);
    if (churnSeconds > 0) {
      node.startChurn(cluster, kubelet, kubeletPods, apiPods, churnSeconds);
    }
    System.out.print(env);
    System.out.println("SIMNODE READY");
    System.out.flush();

    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown, "simnode-stop"));
    stop.await();
    control.close();
    sim.close();
  }

  /**
   * Every {@code seconds}, the next non-static pod gets a new value of one label: first in the API
   * server (which sends a MODIFIED event), then in the kubelet's copy. On a daemon thread: the
   * edits block.
   */
  private void startChurn(
      KubernetesClient cluster,
      FakeKubelet kubelet,
      List<ObjectNode> kubeletPods,
      List<ObjectNode> apiPods,
      double seconds) {
    List<Integer> changeable = new ArrayList<>();
    for (int i = 0; i < apiPods.size(); i++) {
      if (!apiPods.get(i).path("metadata").path("annotations").has(PodSynth.CONFIG_MIRROR)) {
        changeable.add(i);
      }
    }
    KubernetesSerialization serialization = cluster.getKubernetesSerialization();
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "simnode-churn");
              t.setDaemon(true);
              return t;
            });
    long[] n = {0};
    long period = Math.max(1, Math.round(seconds * 1000));
    timer.scheduleAtFixedRate(
        () -> {
          try {
            long k = n[0]++;
            int index = changeable.get((int) (k % changeable.size()));
            ObjectNode a = apiPods.get(index);
            String ns = a.path("metadata").path("namespace").asString("default");
            String name = a.path("metadata").path("name").asString();
            Pod edited =
                cluster
                    .pods()
                    .inNamespace(ns)
                    .withName(name)
                    .edit(
                        p -> {
                          Map<String, String> labels = new TreeMap<>();
                          if (p.getMetadata().getLabels() != null) {
                            labels.putAll(p.getMetadata().getLabels());
                          }
                          labels.put("bench.stateprobe.dev/churn", Long.toString(k));
                          p.getMetadata().setLabels(labels);
                          return p;
                        });
            ObjectNode synthesized = kubeletPods.get(index);
            kubelet.putPod(
                MAPPER.writeValueAsString(kubeletCopy(serialization.asJson(edited), synthesized)));
          } catch (RuntimeException e) {
            System.err.println("churn failed: " + e);
          }
        },
        period,
        period,
        TimeUnit.MILLISECONDS);
  }

  /** The API server's object as the kubelet holds it: plus the kubelet's own annotations. */
  private static ObjectNode kubeletCopy(String apiJson, ObjectNode synthesized) {
    ObjectNode pod = (ObjectNode) MAPPER.readTree(apiJson);
    ObjectNode meta = (ObjectNode) pod.get("metadata");
    JsonNode ann = meta.get("annotations");
    ObjectNode a = ann instanceof ObjectNode o ? o : meta.putObject("annotations");
    JsonNode kubeletAnn = synthesized.path("metadata").path("annotations");
    a.put(PodSynth.CONFIG_SOURCE, "api");
    a.put(
        PodSynth.CONFIG_SEEN,
        kubeletAnn.path(PodSynth.CONFIG_SEEN).asString("2026-01-01T00:00:00Z"));
    return pod;
  }

  private void control(HttpServerRequest req, SimApiServer api, FakeKubelet kubelet) {
    switch (req.path()) {
      case "/stats" -> req.response().end(stats(api));
      case "/orphans" -> {
        int count = Integer.parseInt(req.getParam("count", "1"));
        List<String> uids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          ObjectNode pod = orphan();
          String uid = pod.get("metadata").get("uid").asString();
          kubelet.putPod(MAPPER.writeValueAsString(pod));
          kubelet.markOrphaned(uid);
          uids.add(uid);
        }
        req.response().end(String.join("\n", uids) + "\n");
      }
      default -> req.response().setStatusCode(404).end("no such path\n");
    }
  }

  /** A copy of the first running, non-static capture pod, under a name and UID of its own. */
  private synchronized ObjectNode orphan() {
    int n = orphans++;
    for (ObjectNode candidate : synth.kubeletPods(synth.templates())) {
      JsonNode ann = candidate.path("metadata").path("annotations");
      boolean isStatic = "file".equals(ann.path(PodSynth.CONFIG_SOURCE).asString(""));
      boolean running = false;
      for (JsonNode s : candidate.path("status").path("containerStatuses")) {
        running |= s.path("state").has("running");
      }
      if (!isStatic && running) {
        ObjectNode meta = (ObjectNode) candidate.get("metadata");
        meta.put("name", "orphan-" + n);
        meta.put(
            "uid",
            UUID.nameUUIDFromBytes(("state-probe-orphan-" + n).getBytes(StandardCharsets.UTF_8))
                .toString());
        return candidate;
      }
    }
    throw new IllegalStateException("no running capture pod to copy");
  }

  /**
   * The agent's requests (faults and the harness's own writes go through the backstage client and
   * are not counted): {@code verb.resource=N}, pod LISTs after the first, open watches.
   */
  private static String stats(SimApiServer api) {
    Map<String, Integer> byVerb = new TreeMap<>();
    int podLists = 0;
    for (SimApiRequest r : api.requests()) {
      if (r.backstage()) {
        continue;
      }
      String key = r.verb() + "." + (r.resource() == null ? r.path() : r.resource());
      byVerb.merge(key, 1, Integer::sum);
      // A page after the first of one list carries the continue token: same list, not another.
      if (r.isPodCollection("list") && (r.query() == null || !r.query().contains("continue="))) {
        podLists++;
      }
    }
    StringBuilder out = new StringBuilder();
    byVerb.forEach((k, v) -> out.append(k).append('=').append(v).append('\n'));
    out.append("pod_lists_after_first=").append(Math.max(0, podLists - 1)).append('\n');
    out.append("open_watches=").append(api.openWatches()).append('\n');
    return out.toString();
  }
}
