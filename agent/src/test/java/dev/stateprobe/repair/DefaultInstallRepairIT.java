package dev.stateprobe.repair;

import static dev.stateprobe.repair.RepairNode.NODE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.image.ScriptUserland;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.RepairNode.Agent;
import dev.stateprobe.repair.job.ConsistencyRepairJob;
import dev.stateprobe.repair.job.JobNames;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.testing.SimClusterExtension;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default install, repairs on: the real agent with the shipped catalog and scripts
 * (repair-scripts/), run with the default image's userland ({@link ScriptUserland}: no crictl) and
 * without the host-repair overlay (no runtime socket, no host PID namespace), against the simulated
 * API server and fake kubelet. A drift whose script needs the host gets exactly one Failed record
 * that says what is missing, and no retry; the repair counters say so in a real scrape, from 0.
 */
@Timeout(60)
class DefaultInstallRepairIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String SCRIPT = "remove-orphaned-sandbox";
  private static final Pattern SERIES =
      Pattern.compile("^stateprobe_repairs_total\\{([^}]*)} (\\S+)$", Pattern.MULTILINE);

  @RegisterExtension
  static final SimClusterExtension<RepairNode> SIM = SimClusterExtension.of(RepairNode::new);

  private static RepairNode node() {
    return SIM.get();
  }

  @TempDir static Path temp;
  private static ScriptUserland userland;

  @BeforeAll
  static void startNode() throws Exception {
    userland = ScriptUserland.get();
  }

  @BeforeEach
  void reset() throws IOException {
    node().reset();
    node().healthyPod("web-1");
  }

  /** {@code stateprobe_repairs_total} from the agent's /metrics, as "script/outcome" to count. */
  private static Map<String, Double> scrapeRepairs(Agent agent) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + agent.runtime().httpPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    Map<String, Double> out = new TreeMap<>();
    Matcher m = SERIES.matcher(r.body());
    while (m.find()) {
      Matcher script = Pattern.compile("script=\"([^\"]*)\"").matcher(m.group(1));
      Matcher outcome = Pattern.compile("outcome=\"([^\"]*)\"").matcher(m.group(1));
      assertThat(script.find() && outcome.find()).as(m.group()).isTrue();
      out.put(script.group(1) + "/" + outcome.group(1), Double.parseDouble(m.group(2)));
    }
    return out;
  }

  private static Map<String, Double> allZeroExcept(Map<String, Double> counts) {
    Map<String, Double> out = new TreeMap<>();
    for (String s :
        List.of(
            "remove-orphaned-sandbox",
            "force-delete-stuck-pod",
            "recreate-controlled-pod",
            "restart-kubelet")) {
      for (String o : Metrics.REPAIR_OUTCOMES) {
        out.put(s + "/" + o, 0.0);
      }
    }
    out.putAll(counts);
    return out;
  }

  private static ConsistencyRepairJob record(String name) {
    return node().records().stream().filter(j -> j.name().equals(name)).findFirst().orElse(null);
  }

  @Test
  void aDriftThatNeedsTheHostGetsOneFailedRecordSayingWhatIsMissingAndNoRetry() throws Exception {
    node().shippedCatalog();
    String orphan = node().orphan("cart-1");
    String finished = node().terminalButRunning("batch-1").getMetadata().getUid();
    Agent agent = node().start(Map.of("REPAIR_MODE", "on"), Map.of(), userland.path());
    // Registered when the catalog loaded, before any repair: the first failure is an increase.
    assertThat(scrapeRepairs(agent)).isEqualTo(allZeroExcept(Map.of()));

    List<String> names =
        List.of(
            JobNames.of(NODE, DriftKind.ORPHANED_POD, orphan, SCRIPT),
            JobNames.of(NODE, DriftKind.TERMINAL_BUT_RUNNING, finished, SCRIPT));
    for (String name : names) {
      await()
          .atMost(WAIT)
          .until(
              () -> record(name),
              j -> j != null && j.getStatus() != null && j.getStatus().phase() == Phase.FAILED);
    }
    // Time for a retry or an escalation, were there one: the drifts stay confirmed.
    long target = agent.runtime().agent().cycles() + 10;
    await().atMost(WAIT).until(() -> agent.runtime().agent().cycles() >= target);

    assertThat(node().records())
        .extracting(ConsistencyRepairJob::name)
        .containsExactlyElementsOf(names.stream().sorted().toList());
    for (String name : names) {
      ConsistencyRepairJob job = record(name);
      assertThat(job.getStatus().phase()).isEqualTo(Phase.FAILED);
      assertThat(job.getStatus().attempts()).isEqualTo(1);
      assertThat(job.getStatus().history()).hasSize(1);
      assertThat(job.getStatus().exitCode()).isEqualTo(3);
      assertThat(job.getStatus().reason()).contains("exit 3");
      assertThat(job.getStatus().output())
          .startsWith(
              "remove-orphaned-sandbox: cannot repair here: crictl not found on PATH ("
                  + userland.path()
                  + "): the default image does not ship it, the host-repair image does; no"
                  + " container runtime socket is mounted (looked for ")
          .endsWith("Needs the host-repair overlay (manifests/overlays/host-repair)\n");
    }
    assertThat(agent.runtime().agent().last().drifts())
        .extracting(d -> d.key().target().uid())
        .contains(orphan, finished);
    assertThat(scrapeRepairs(agent))
        .isEqualTo(allZeroExcept(Map.of("remove-orphaned-sandbox/failed", 2.0)));
  }

  @Test
  void withRepairsOffTheAgentStartsWithoutACatalogAndDetects() throws Exception {
    Path missing = temp.resolve("no-such-folder/catalog.yaml");
    assertThat(Files.exists(missing)).isFalse();
    String orphan = node().orphan("cart-2");
    Agent agent =
        node().start(Map.of("REPAIR_MODE", "off", "CATALOG_FILE", missing.toString()), Map.of());

    await()
        .atMost(WAIT)
        .until(() -> agent.confirmed().contains("OrphanedPod/shop/cart-2/" + orphan));
    long target = agent.runtime().agent().cycles() + 5;
    await().atMost(WAIT).until(() -> agent.runtime().agent().cycles() >= target);
    assertThat(node().records()).isEmpty();
    assertThat(agent.runtime().catalog().current().entries()).isEmpty();
    assertThat(scrapeRepairs(agent)).isEmpty();
  }
}
