package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.stateprobe.repair.catalog.Catalog;
import dev.stateprobe.repair.catalog.CatalogEntry;
import dev.stateprobe.repair.catalog.CatalogLoader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.node.StringNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The Helm chart (manifests/helm/state-probe), rendered in-process by helm-java: lint, the default
 * render equal object by object to {@code kubectl kustomize manifests/}, each variant equal to its
 * overlay or different from the default in exactly what its value says, and extra scripts that
 * reach the catalog the agent loads.
 *
 * <p>What the comparison with kustomize ignores, and why (see {@link #normalized}):
 *
 * <ul>
 *   <li>the labels Helm puts on every object ({@code helm.sh/chart}, {@code
 *       app.kubernetes.io/managed-by}, {@code app.kubernetes.io/instance}): release bookkeeping;
 *   <li>kustomize's content-hash suffix on {@code state-probe-repair-scripts} (its name and the
 *       DaemonSet's volume) against Helm's {@code checksum/repair-scripts} pod annotation: the two
 *       ways the same thing (a changed script rolls the DaemonSet out) is done;
 *   <li>blank lines inside strings outside ConfigMap data: kustomize's YAML library adds one before
 *       a more-indented line of a folded scalar (PromQL and CEL expressions), Helm's does not;
 *   <li>the formatting of YAML held in ConfigMap data: Helm writes it back from the parsed tree, so
 *       the trees are compared;
 *   <li>the Namespace: Helm cannot own the namespace that holds its own release record; README.md
 *       has it applied from manifests/base/namespace.yaml before {@code helm install}.
 * </ul>
 */
// One instance: kubectl kustomize and helm run once per variant; no test changes the files.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HelmChartTest {
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final Set<String> HELM_LABELS =
      Set.of("helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance");
  private static final Pattern KUSTOMIZE_HASH =
      Pattern.compile("^(state-probe-repair-scripts)-[a-z0-9]{10}$");
  private static final String DS = "DaemonSet/state-probe";
  private static final String SCRIPTS = "ConfigMap/state-probe-repair-scripts";

  private final RepoFiles repo = new RepoFiles();
  private final Path chart = repo.manifests().resolve("helm/state-probe");
  private final Rendered defaults = render(Map.of());

  @TempDir Path tmp;

  // ---- lint and the defaults --------------------------------------------------------------------

  @Test
  void theChartLintsCleanInStrictMode() {
    LintResult result = new Helm(chart).lint().strict().call();
    assertFalse(result.isFailed(), String.join("\n", result.getMessages()));
  }

  @Test
  void theDefaultRenderIsTheKustomizeInstallObjectByObject() {
    assertSameObjects(Rendered.kustomize(repo.manifests()), defaults);
  }

  @Test
  void nodesProxyIsTheNodesProxyOverlay() {
    Rendered helm = render(Map.of("kubeletAuthz", "nodes/proxy"));
    assertSameObjects(Rendered.kustomize(repo.manifests().resolve("overlays/nodes-proxy")), helm);
    assertEquals(
        Set.of("ClusterRole/state-probe-nodes-proxy", "ClusterRoleBinding/state-probe-nodes-proxy"),
        added(defaults, helm));
  }

  @Test
  void withoutThePrometheusOperatorIsTheWithoutOperatorOverlay() {
    Rendered helm = render(Map.of("prometheusOperator", Map.of("enabled", false)));
    assertSameObjects(
        Rendered.kustomize(repo.manifests().resolve("overlays/without-prometheus-operator")), helm);
    assertEquals(Set.of("ConfigMap/state-probe-prometheus-rules"), added(defaults, helm));
    assertEquals(
        Set.of("PodMonitor/state-probe", "PrometheusRule/state-probe"), added(helm, defaults));
  }

  @Test
  void theAdmissionPolicyCanBeLeftOut() {
    Rendered helm = render(Map.of("admissionPolicy", Map.of("enabled", false)));
    assertEquals(
        Set.of(
            "ValidatingAdmissionPolicy/state-probe-own-node",
            "ValidatingAdmissionPolicyBinding/state-probe-own-node"),
        added(helm, defaults));
    assertEquals(Set.of(), added(defaults, helm));
    assertUnchangedExcept(defaults, helm, Set.of());
  }

  // ---- what each value changes ----------------------------------------------------------------

  @Test
  void imageValuesSetTheAgentAndCoordinatorImageOnly() {
    Rendered helm =
        render(
            Map.of(
                "image",
                Map.of(
                    "repository", "registry.example/sp", "tag", "1.2.3", "pullPolicy", "Always")));
    JsonNode agent = agent(helm);
    assertEquals("registry.example/sp:1.2.3", agent.path("image").asString());
    assertEquals("Always", agent.path("imagePullPolicy").asString());
    assertEquals(
        Set.of(
            "/spec/template/spec/containers/0/image",
            "/spec/template/spec/containers/0/imagePullPolicy"),
        differences(defaults.get(DS), helm.get(DS)));
    // The coordinator is the same jar in another mode: the same image.
    String coordinator = "Deployment/state-probe-coordinator";
    assertEquals(
        "registry.example/sp:1.2.3",
        helm.get(coordinator).at("/spec/template/spec/containers/0/image").asString());
    assertEquals(
        Set.of(
            "/spec/template/spec/containers/0/image",
            "/spec/template/spec/containers/0/imagePullPolicy"),
        differences(defaults.get(coordinator), helm.get(coordinator)));
    assertUnchangedExcept(defaults, helm, Set.of(DS, coordinator));
  }

  @Test
  void repairModeAndLimitsBecomeTheAgentsEnvironment() {
    Map<String, Object> repair = new LinkedHashMap<>();
    repair.put("mode", "on");
    repair.put("maxConcurrentRepairs", 2);
    repair.put("maxRepairsPerHour", 20);
    repair.put("circuitMin", 5);
    repair.put("circuitPercent", 40);
    repair.put("circuitRecovery", "2m");
    repair.put("crjTtl", "72h");
    repair.put("crjMaxPerNode", 500);
    Rendered helm =
        render(
            Map.of(
                "repair",
                repair,
                "extraEnv",
                List.of(Map.of("name", "POLL_INTERVAL", "value", "10s"))));
    Map<String, String> env = env(helm);
    Map<String, String> expected = new LinkedHashMap<>(env(defaults));
    expected.put("REPAIR_MODE", "on");
    expected.put("CIRCUIT_MIN", "5");
    expected.put("CIRCUIT_PERCENT", "40");
    expected.put("CIRCUIT_RECOVERY", "2m");
    expected.put("CRJ_MAX_PER_NODE", "500");
    expected.put("CRJ_TTL", "72h");
    expected.put("MAX_CONCURRENT_REPAIRS", "2");
    expected.put("MAX_REPAIRS_PER_HOUR", "20");
    expected.put("POLL_INTERVAL", "10s");
    assertEquals(expected, env);
    // The shipped variables keep their place and value (JAVA_TOOL_OPTIONS among them).
    List<String> names = new ArrayList<>(env.keySet());
    assertEquals(new ArrayList<>(env(defaults).keySet()), names.subList(0, env(defaults).size()));
    for (String d : differences(defaults.get(DS), helm.get(DS))) {
      assertTrue(d.startsWith("/spec/template/spec/containers/0/env"), d);
    }
    assertUnchangedExcept(defaults, helm, Set.of(DS));
  }

  @Test
  void clusterBudgetValuesSetTheEnvironmentAndTheSlotsTheRoleNames() {
    Rendered helm = render(Map.of("clusterBudget", Map.of("slots", 7, "maxRepairsPerHour", 40)));
    Map<String, String> expected = new LinkedHashMap<>(env(defaults));
    expected.put("CLUSTER_MAX_REPAIRS_PER_HOUR", "40");
    expected.put("CLUSTER_REPAIR_SLOTS", "7");
    assertEquals(expected, env(helm));
    String role = "Role/state-probe-repair-slots";
    List<String> names = new ArrayList<>();
    helm.get(role).at("/rules/1/resourceNames").forEach(n -> names.add(n.asString()));
    assertEquals(
        java.util.stream.IntStream.range(0, 7).mapToObj(i -> "state-probe-slot-" + i).toList(),
        names);
    for (String d : differences(defaults.get(role), helm.get(role))) {
      assertTrue(d.startsWith("/rules/1/resourceNames"), d);
    }
    assertUnchangedExcept(defaults, helm, Set.of(DS, role));
  }

  @Test
  void theDefaultRepairModeIsTheBasesDryRun() {
    assertEquals("dry-run", env(defaults).get("REPAIR_MODE"));
    assertEquals(
        env(Rendered.kustomize(repo.manifests())), env(defaults), "env taken from the base as is");
  }

  @Test
  void schedulingAndResourceValuesChangeOnlyThePodSpec() {
    Rendered helm =
        render(
            Map.of(
                "priorityClassName", "node-agents",
                "tolerations", List.of(Map.of("key", "dedicated", "operator", "Exists")),
                "nodeSelector", Map.of("pool", "general"),
                "resources",
                    Map.of(
                        "requests", Map.of("cpu", "50m", "memory", "200Mi"),
                        "limits", Map.of("memory", "300Mi"))));
    JsonNode pod = helm.get(DS).at("/spec/template/spec");
    assertEquals("node-agents", pod.path("priorityClassName").asString());
    assertEquals("dedicated", pod.at("/tolerations/0/key").asString());
    assertEquals(1, pod.path("tolerations").size());
    // Helm merges a map value into the default map: the default key stays unless set to null.
    assertEquals(
        Map.of("pool", "general", "kubernetes.io/os", "linux"),
        YAML.convertValue(pod.path("nodeSelector"), Map.class));
    assertEquals("300Mi", pod.at("/containers/0/resources/limits/memory").asString());
    for (String d : differences(defaults.get(DS), helm.get(DS))) {
      assertTrue(
          d.startsWith("/spec/template/spec/priorityClassName")
              || d.startsWith("/spec/template/spec/tolerations")
              || d.startsWith("/spec/template/spec/nodeSelector")
              || d.startsWith("/spec/template/spec/containers/0/resources"),
          d);
    }
    assertUnchangedExcept(defaults, helm, Set.of(DS));
    assertFalse(defaults.get(DS).at("/spec/template/spec").has("priorityClassName"));
  }

  @Test
  void anotherReleaseNamespaceMovesEveryNamespacedObjectAndTheServiceAccountName() {
    Rendered helm = render(Map.of(), "node-agents");
    for (var e : helm.objects().entrySet()) {
      String kind = e.getKey().substring(0, e.getKey().indexOf('/'));
      JsonNode ns = e.getValue().at("/metadata/namespace");
      if (ManifestObjectsTest.CLUSTER_SCOPED.contains(kind)) {
        assertTrue(ns.isMissingNode(), e.getKey());
      } else {
        assertEquals("node-agents", ns.asString(), e.getKey());
      }
    }
    assertEquals(
        "node-agents",
        helm.get("ClusterRoleBinding/state-probe").at("/subjects/0/namespace").asString());
    String condition =
        helm.get("ValidatingAdmissionPolicy/state-probe-own-node")
            .at("/spec/matchConditions/0/expression")
            .asString();
    assertTrue(condition.contains("'system:serviceaccount:node-agents:state-probe'"), condition);
  }

  // ---- extra scripts and catalog entries ------------------------------------------------------

  @Test
  void extraScriptsAndCatalogEntriesReachTheCatalogTheAgentLoads() throws Exception {
    String script = "#!/bin/sh\n# a site's own repair\nexit 0\n";
    Rendered helm =
        render(
            Map.of(
                "repairScripts",
                Map.of(
                    "extraScripts",
                    Map.of("drain-cni-leftovers.sh", script),
                    "extraCatalogEntries",
                    List.of(
                        Map.of(
                            "name", "drain-cni-leftovers",
                            "path", "drain-cni-leftovers.sh",
                            "drifts", List.of("OrphanedPod"),
                            "mode", "manual",
                            "timeoutSeconds", 45)))));
    JsonNode data = helm.get(SCRIPTS).path("data");
    assertEquals(script, data.path("drain-cni-leftovers.sh").asString());
    // Mounted as the kubelet mounts the volume: every key a file, with the volume's defaultMode.
    int mode = 0;
    for (JsonNode v : helm.get(DS).at("/spec/template/spec/volumes")) {
      if (v.at("/configMap/name").asString().equals("state-probe-repair-scripts")) {
        mode = v.at("/configMap/defaultMode").asInt();
      }
    }
    assertEquals(0555, mode, "the scripts' volume mode");
    Path mounted = Files.createDirectories(tmp.resolve("repair-scripts"));
    for (var e : data.properties()) {
      Path f = mounted.resolve(e.getKey());
      Files.writeString(f, e.getValue().asString());
      Files.setPosixFilePermissions(f, permissions(mode));
    }
    Catalog catalog = CatalogLoader.load(mounted.resolve("catalog.yaml"));
    Catalog shipped = CatalogLoader.load(repo.resolve("repair-scripts/catalog.yaml"));
    List<String> names = catalog.entries().stream().map(CatalogEntry::name).toList();
    List<String> expected =
        new ArrayList<>(shipped.entries().stream().map(CatalogEntry::name).toList());
    expected.add("drain-cni-leftovers");
    assertEquals(expected, names, "shipped entries first (escalation order), then the extra one");
    CatalogEntry extra = catalog.entry("drain-cni-leftovers").orElseThrow();
    assertEquals(CatalogEntry.Mode.MANUAL, extra.mode());
    assertEquals(java.time.Duration.ofSeconds(45), extra.timeout());
    assertEquals(mounted.resolve("drain-cni-leftovers.sh").toAbsolutePath(), extra.script());
    // The shipped entries are unchanged by the round trip through the template.
    for (int i = 0; i < shipped.entries().size(); i++) {
      CatalogEntry a = shipped.entries().get(i);
      CatalogEntry b = catalog.entries().get(i);
      assertEquals(
          List.of(a.name(), a.drifts(), a.mode(), a.timeout(), a.maxAttempts(), a.cooldown()),
          List.of(b.name(), b.drifts(), b.mode(), b.timeout(), b.maxAttempts(), b.cooldown()));
      assertEquals(a.script().getFileName(), b.script().getFileName());
    }
    // A changed script rolls the DaemonSet out, as kustomize's hash suffix does.
    assertNotEquals(checksum(defaults), checksum(helm));
  }

  @Test
  void theDefaultCatalogIsTheShippedFileAsItIs() {
    assertEquals(
        repo.read(repo.resolve("repair-scripts/catalog.yaml")),
        defaults.get(SCRIPTS).at("/data/catalog.yaml").asString());
  }

  @Test
  void badValuesFailTheRenderNamingTheValue() {
    assertRenderFails(Map.of("kubeletAuthz", "nodes/all"), "kubeletAuthz: \"nodes/all\"");
    assertRenderFails(Map.of("repair", Map.of("mode", "maybe")), "repair.mode: \"maybe\"");
    assertRenderFails(
        Map.of(
            "repairScripts",
            Map.of(
                "extraCatalogEntries",
                List.of(
                    Map.of("name", "x", "path", "missing.sh", "drifts", List.of("OrphanedPod"))))),
        "repairScripts.extraCatalogEntries[0] (x): path \"missing.sh\"");
    assertRenderFails(
        Map.of("repairScripts", Map.of("extraScripts", Map.of("pod-api.sh", "#!/bin/sh\n"))),
        "repairScripts.extraScripts.pod-api.sh: a shipped file has that name");
  }

  // ---- the documentation of the values ---------------------------------------------------------

  @Test
  void everyValueIsInTheChartReadmeTable() {
    Set<String> documented = new TreeSet<>();
    var row =
        Pattern.compile("^\\| `([A-Za-z0-9.]+)` \\|", Pattern.MULTILINE)
            .matcher(repo.read(chart.resolve("README.md")));
    while (row.find()) {
      documented.add(row.group(1));
    }
    Set<String> leaves = new TreeSet<>();
    leaves(repo.yamlTree(chart.resolve("values.yaml")), "", leaves);
    assertEquals(leaves, documented, "values.yaml keys vs the README table's first column");
  }

  @Test
  void theReadmeInstallsWithTheChartAndWithKustomize() {
    String readme = repo.read(repo.resolve("README.md"));
    assertTrue(readme.contains("helm install state-probe manifests/helm/state-probe"), "helm path");
    assertTrue(
        readme.contains("kubectl apply -f manifests/base/namespace.yaml"), "namespace first");
    assertTrue(readme.contains("kubectl apply -k manifests/"), "kustomize path");
  }

  // ---- helpers --------------------------------------------------------------------------------

  private Rendered render(Map<String, Object> values) {
    return render(values, "state-probe");
  }

  private Rendered render(Map<String, Object> values, String namespace) {
    return Rendered.parse(template(values, namespace), "helm template " + values);
  }

  private String template(Map<String, Object> values, String namespace) {
    try {
      Path file = Files.createTempFile("values", ".yaml");
      try {
        Files.writeString(file, YAML.writeValueAsString(values), StandardCharsets.UTF_8);
        TemplateCommand t =
            new Helm(chart)
                .template()
                .withName("state-probe")
                .withNamespace(namespace)
                // helm template's default (1.20) is below the chart's kubeVersion; the README's
                // install needs 1.33.
                .withKubeVersion("1.33.0")
                .withValuesFile(file);
        return t.call();
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private void assertRenderFails(Map<String, Object> values, String message) {
    RuntimeException e =
        assertThrows(RuntimeException.class, () -> template(values, "state-probe"), message);
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }

  private static void assertSameObjects(Rendered kustomize, Rendered helm) {
    Map<String, JsonNode> k = normalizedAll(kustomize);
    Map<String, JsonNode> h = normalizedAll(helm);
    k.remove("Namespace/state-probe");
    assertEquals(k.keySet(), h.keySet(), "objects");
    List<String> different = new ArrayList<>();
    for (String key : k.keySet()) {
      if (!k.get(key).equals(h.get(key))) {
        different.add(key + " " + differences(k.get(key), h.get(key)));
      }
    }
    assertEquals(List.of(), different, "objects that differ (JSON pointers)");
  }

  /** Objects of {@code b} that {@code a} does not have. */
  private static Set<String> added(Rendered a, Rendered b) {
    Set<String> keys = new TreeSet<>(b.objects().keySet());
    keys.removeAll(a.objects().keySet());
    return keys;
  }

  private static void assertUnchangedExcept(Rendered a, Rendered b, Set<String> except) {
    for (String key : a.keys()) {
      if (b.has(key) && !except.contains(key)) {
        assertEquals(
            Set.of(), differences(a.get(key), b.get(key)), key + " changed by an unrelated value");
      }
    }
  }

  private static Map<String, JsonNode> normalizedAll(Rendered r) {
    Map<String, JsonNode> out = new TreeMap<>();
    for (ObjectNode o : r.objects().values()) {
      JsonNode n = normalized(o);
      out.put(n.path("kind").asString() + "/" + n.at("/metadata/name").asString(), n);
    }
    return out;
  }

  /** The object with the differences listed in the class comment taken out. */
  static JsonNode normalized(ObjectNode original) {
    ObjectNode o = original.deepCopy();
    ObjectNode meta = (ObjectNode) o.path("metadata");
    if (meta.path("labels") instanceof ObjectNode labels) {
      HELM_LABELS.forEach(labels::remove);
    }
    boolean configMap = o.path("kind").asString().equals("ConfigMap");
    meta.put("name", KUSTOMIZE_HASH.matcher(meta.path("name").asString()).replaceFirst("$1"));
    if (o.path("kind").asString().equals("DaemonSet")) {
      ObjectNode template = (ObjectNode) o.path("spec").path("template");
      if (template.path("metadata").path("annotations") instanceof ObjectNode a) {
        a.remove("checksum/repair-scripts");
        if (a.isEmpty()) {
          ((ObjectNode) template.path("metadata")).remove("annotations");
        }
      }
      for (JsonNode v : template.path("spec").path("volumes")) {
        if (v.path("configMap") instanceof ObjectNode cm) {
          cm.put("name", KUSTOMIZE_HASH.matcher(cm.path("name").asString()).replaceFirst("$1"));
        }
      }
    }
    if (configMap && o.path("data") instanceof ObjectNode data) {
      for (var e : new ArrayList<>(data.properties())) {
        if (e.getKey().endsWith(".yaml") && e.getValue().isString()) {
          data.set(e.getKey(), YAML.readTree(e.getValue().asString()));
        }
      }
      ObjectNode rest = o.deepCopy();
      rest.remove("data");
      JsonNode cleaned = withoutBlankLines(rest);
      ((ObjectNode) cleaned).set("data", data);
      return cleaned;
    }
    return withoutBlankLines(o);
  }

  private static JsonNode withoutBlankLines(JsonNode node) {
    if (node.isString()) {
      return StringNode.valueOf(node.asString().replaceAll("\n[ \t]*\n", "\n"));
    }
    if (node instanceof ObjectNode obj) {
      ObjectNode out = obj.objectNode();
      for (var e : obj.properties()) {
        out.set(e.getKey(), withoutBlankLines(e.getValue()));
      }
      return out;
    }
    if (node instanceof ArrayNode arr) {
      ArrayNode out = arr.arrayNode();
      arr.forEach(x -> out.add(withoutBlankLines(x)));
      return out;
    }
    return node;
  }

  /** The JSON pointers where {@code a} and {@code b} differ, after normalization. */
  private static Set<String> differences(JsonNode a, JsonNode b) {
    Set<String> out = new TreeSet<>();
    diff(
        a instanceof ObjectNode oa ? normalized(oa) : a,
        b instanceof ObjectNode ob ? normalized(ob) : b,
        "",
        out);
    return out;
  }

  private static void diff(JsonNode a, JsonNode b, String at, Set<String> out) {
    if (a.isObject() && b.isObject()) {
      Set<String> keys = new TreeSet<>();
      a.propertyNames().forEach(keys::add);
      b.propertyNames().forEach(keys::add);
      for (String k : keys) {
        diff(a.path(k), b.path(k), at + "/" + k.replace("~", "~0").replace("/", "~1"), out);
      }
    } else if (a.isArray() && b.isArray() && a.size() == b.size()) {
      for (int i = 0; i < a.size(); i++) {
        diff(a.get(i), b.get(i), at + "/" + i, out);
      }
    } else if (!a.equals(b)) {
      out.add(at);
    }
  }

  private static JsonNode agent(Rendered r) {
    return r.get(DS).at("/spec/template/spec/containers/0");
  }

  /** The agent's env as name to value ({@code fieldRef} entries as their path). */
  private static Map<String, String> env(Rendered r) {
    Map<String, String> env = new LinkedHashMap<>();
    for (JsonNode e : agent(r).path("env")) {
      env.put(
          e.path("name").asString(),
          e.has("value")
              ? e.path("value").asString()
              : "ref:" + e.at("/valueFrom/fieldRef/fieldPath").asString());
    }
    return env;
  }

  private static Set<java.nio.file.attribute.PosixFilePermission> permissions(int mode) {
    Set<java.nio.file.attribute.PosixFilePermission> out = new java.util.HashSet<>();
    java.nio.file.attribute.PosixFilePermission[] bits =
        java.nio.file.attribute.PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
    for (int i = 0; i < 9; i++) {
      if ((mode & (1 << (8 - i))) != 0) {
        out.add(bits[i]);
      }
    }
    return out;
  }

  private static String checksum(Rendered r) {
    return r.get(DS).at("/spec/template/metadata/annotations/checksum~1repair-scripts").asString();
  }

  private static void leaves(JsonNode node, String path, Set<String> out) {
    if (node.isObject() && !node.isEmpty()) {
      for (var e : node.properties()) {
        String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
        if (Set.of("resources", "nodeSelector", "tolerations").contains(p)) {
          out.add(p); // documented as a whole: their keys are Kubernetes', not the chart's
        } else {
          leaves(e.getValue(), p, out);
        }
      }
    } else {
      out.add(path);
    }
  }
}
