package dev.stateprobe.repair.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.OpenApi30;
import dev.stateprobe.drift.DriftKind;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The CRD's openAPIV3Schema, checked with networknt's json-schema-validator (OpenAPI 3.0 dialect,
 * format assertions on), against JSON that the model really serializes. Kubernetes' own extensions
 * (x-kubernetes-*) are not evaluated by it; the structural rules Kubernetes adds are checked by
 * hand below.
 */
class CrdSchemaTest {
  static final Path CRD =
      Path.of(System.getProperty("basedir", "."))
          .resolve("../manifests/crds/consistencyrepairjobs.stateprobe.dev.yaml");

  private static JsonNode crd;
  private static JsonNode version;
  private static Schema schema;
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final YAMLMapper yaml = YAMLMapper.builder().build();

  @BeforeAll
  static void load() throws IOException {
    crd = YAMLMapper.builder().build().readTree(Files.readString(CRD));
    version = crd.path("spec").path("versions").get(0);
    JsonNode openApi = version.path("schema").path("openAPIV3Schema");
    schema =
        SchemaRegistry.withDefaultDialect(OpenApi30.getInstance())
            .getSchema(SchemaLocation.of("https://stateprobe.dev/crj.json"), openApi);
  }

  private static List<Error> validate(JsonNode instance) {
    return schema.validate(
        instance, ctx -> ctx.executionConfig(c -> c.formatAssertionsEnabled(true)));
  }

  private JsonNode tree(ConsistencyRepairJob job) {
    return yaml.readTree(serialization.asJson(job));
  }

  // ---- real records pass ----

  @Test
  void aFullRecordFromTheModelPasses() {
    assertEquals(List.of(), validate(tree(Jobs.full())));
  }

  @Test
  void recordsInEveryLifecycleStepPass() {
    RepairJobSpec spec = RepairJobSpec.of(Jobs.NODE, Jobs.orphan("x"), Optional.empty(), "s", true);
    var meta = new ObjectMetaBuilder().withName(spec.jobName()).build();
    RepairJobStatus pending = RepairJobStatus.pending("awaiting approval", Jobs.T0);
    RepairJobStatus running = pending.start(1, true, Jobs.T0);
    List<RepairJobStatus> steps =
        List.of(
            pending,
            running,
            running.interrupted(Jobs.T0.plusSeconds(1)),
            running.finish(
                Phase.TIMED_OUT,
                null,
                "x".repeat(RepairJobStatus.MAX_OUTPUT_CHARS),
                "timed out",
                Jobs.T0),
            running.finish(Phase.SKIPPED, 2, "", "not applicable", Jobs.T0),
            pending.finish(Phase.SKIPPED, null, null, "drift gone before repair", Jobs.T0));
    assertEquals(List.of(), validate(tree(ConsistencyRepairJob.of(meta, spec, null))));
    for (RepairJobStatus s : steps) {
      assertEquals(List.of(), validate(tree(ConsistencyRepairJob.of(meta, spec, s))), s.toString());
    }
  }

  @Test
  void aRecordWithAFullHistoryPasses() {
    RepairJobStatus s = RepairJobStatus.pending("c", Jobs.T0);
    for (int i = 1; i <= 15; i++) {
      s =
          s.start(i, false, Jobs.T0.plusSeconds(i))
              .finish(Phase.FAILED, 1, "", "exit 1", Jobs.T0.plusSeconds(i));
    }
    assertEquals(RepairJobStatus.MAX_HISTORY, s.history().size());
    assertEquals(List.of(), validate(tree(Jobs.full().withStatus(s))));
  }

  // ---- malformed records fail, at the right place ----

  static Stream<Arguments> malformed() {
    return Stream.of(
        bad("a phase outside the enum", "/status/phase", r -> status(r).put("phase", "Done")),
        bad("a missing spec.script", "/spec", r -> spec(r).remove("script")),
        bad("a missing spec.drift.target.uid", "/spec/drift/target", r -> target(r).remove("uid")),
        bad("no spec at all", "", r -> ((ObjectNode) r).remove("spec")),
        bad(
            "observations as a string",
            "/spec/drift/observations",
            r -> drift(r).put("observations", "four")),
        bad("observations of 0", "/spec/drift/observations", r -> drift(r).put("observations", 0)),
        bad(
            "a drift kind outside the enum",
            "/spec/drift/kind",
            r -> drift(r).put("kind", "Orphaned")),
        bad(
            "confirmedAt that is no date-time",
            "/spec/drift/confirmedAt",
            r -> drift(r).put("confirmedAt", "yesterday")),
        bad("dryRun as a string", "/spec/dryRun", r -> spec(r).put("dryRun", "yes")),
        bad("attempts below 0", "/status/attempts", r -> status(r).put("attempts", -1)),
        bad("a status without attempts", "/status", r -> status(r).remove("attempts")),
        bad(
            "output beyond the limit",
            "/status/output",
            r -> status(r).put("output", "x".repeat(RepairJobStatus.MAX_OUTPUT_CHARS + 1))),
        bad(
            "a verification outside the enum",
            "/status/verification",
            r -> status(r).put("verification", "Maybe")),
        bad(
            "a condition status outside True/False/Unknown",
            "/status/conditions/0/status",
            r -> ((ObjectNode) status(r).path("conditions").get(0)).put("status", "Yes")),
        bad(
            "a condition reason that is not CamelCase",
            "/status/conditions/0/reason",
            r -> ((ObjectNode) status(r).path("conditions").get(0)).put("reason", "not camel")),
        bad(
            "a condition without lastTransitionTime",
            "/status/conditions/0",
            r -> ((ObjectNode) status(r).path("conditions").get(0)).remove("lastTransitionTime")),
        bad(
            "more history than the limit",
            "/status/history",
            r -> {
              ArrayNode h = (ArrayNode) status(r).path("history");
              while (h.size() <= RepairJobStatus.MAX_HISTORY) {
                h.add(h.get(0).deepCopy());
              }
            }),
        bad(
            "a history entry with attempt 0",
            "/status/history/0/attempt",
            r -> ((ObjectNode) status(r).path("history").get(0)).put("attempt", 0)));
  }

  private static Arguments bad(String name, String where, Consumer<JsonNode> breakIt) {
    return Arguments.of(name, where, breakIt);
  }

  private static ObjectNode spec(JsonNode r) {
    return (ObjectNode) r.path("spec");
  }

  private static ObjectNode drift(JsonNode r) {
    return (ObjectNode) r.path("spec").path("drift");
  }

  private static ObjectNode target(JsonNode r) {
    return (ObjectNode) r.path("spec").path("drift").path("target");
  }

  private static ObjectNode status(JsonNode r) {
    return (ObjectNode) r.path("status");
  }

  @ParameterizedTest(name = "{0} is refused at '{1}'")
  @MethodSource("malformed")
  void malformedRecordsAreRefused(String name, String where, Consumer<JsonNode> breakIt) {
    JsonNode record = tree(Jobs.full());
    breakIt.accept(record);
    List<Error> errors = validate(record);
    assertFalse(errors.isEmpty(), name + " passed");
    Set<String> at =
        errors.stream()
            .map(e -> e.getInstanceLocation().toString())
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(Set.of(where), at, errors.toString());
  }

  // ---- the CRD matches the model ----

  @Test
  void namesAndScopeMatchTheModel() {
    JsonNode spec = crd.path("spec");
    assertEquals(
        CustomResource.getCRDName(ConsistencyRepairJob.class),
        crd.path("metadata").path("name").asString());
    assertEquals(ConsistencyRepairJob.GROUP, spec.path("group").asString());
    assertEquals("Cluster", spec.path("scope").asString());
    assertEquals(ConsistencyRepairJob.KIND, spec.path("names").path("kind").asString());
    assertEquals(ConsistencyRepairJob.PLURAL, spec.path("names").path("plural").asString());
    assertEquals(
        List.of(CustomResource.getShortNames(ConsistencyRepairJob.class)),
        strings(spec.path("names").path("shortNames")));
    assertEquals(
        List.of(CustomResource.getCategories(ConsistencyRepairJob.class)),
        strings(spec.path("names").path("categories")));
    assertEquals(1, spec.path("versions").size());
    assertEquals(ConsistencyRepairJob.VERSION, version.path("name").asString());
    assertTrue(version.path("served").asBoolean() && version.path("storage").asBoolean());
    assertTrue(version.path("subresources").path("status").isObject(), "status subresource");
  }

  @Test
  void enumsMatchTheJavaEnums() {
    JsonNode props = version.path("schema").path("openAPIV3Schema").path("properties");
    JsonNode status = props.path("status").path("properties");
    assertEquals(
        Arrays.stream(DriftKind.values()).map(DriftKind::wireName).toList(),
        strings(
            props
                .path("spec")
                .path("properties")
                .path("drift")
                .path("properties")
                .path("kind")
                .path("enum")));
    List<String> phases = Arrays.stream(Phase.values()).map(Phase::wireName).toList();
    assertEquals(phases, strings(status.path("phase").path("enum")));
    assertEquals(
        phases,
        strings(
            status.path("history").path("items").path("properties").path("phase").path("enum")));
    List<String> verifications =
        Arrays.stream(Verification.values()).map(Verification::wireName).toList();
    assertEquals(verifications, strings(status.path("verification").path("enum")));
    assertEquals(
        verifications,
        strings(
            status
                .path("history")
                .path("items")
                .path("properties")
                .path("verification")
                .path("enum")));
    assertEquals(RepairJobStatus.MAX_OUTPUT_CHARS, status.path("output").path("maxLength").asInt());
    assertEquals(RepairJobStatus.MAX_HISTORY, status.path("history").path("maxItems").asInt());
  }

  @Test
  void printerColumnsPointAtFieldsOfTheSchema() {
    List<String> names = new ArrayList<>();
    for (JsonNode col : version.path("additionalPrinterColumns")) {
      names.add(col.path("name").asString());
      String path = col.path("jsonPath").asString();
      if (path.startsWith(".metadata.")) {
        continue;
      }
      JsonNode node = version.path("schema").path("openAPIV3Schema");
      for (String part : path.substring(1).split("\\.")) {
        node = node.path("properties").path(part);
      }
      assertFalse(
          node.isMissingNode(),
          "printer column " + col.path("name").asString() + ": no field " + path);
      String colType = col.path("type").asString();
      String fieldType = node.path("type").asString();
      assertEquals(
          colType.equals("date") ? "string" : colType, fieldType, "type of column " + path);
    }
    assertEquals(
        List.of(
            "Node",
            "Kind",
            "Namespace",
            "Target",
            "Script",
            "Phase",
            "Attempts",
            "Verification",
            "DryRun",
            "Approved",
            "Level",
            "Age"),
        names);
  }

  /** Kubernetes' structural-schema rules that a JSON-schema validator does not know. */
  @Test
  void theSchemaIsStructural() {
    List<String> problems = new ArrayList<>();
    structural(version.path("schema").path("openAPIV3Schema"), "openAPIV3Schema", problems);
    assertEquals(List.of(), problems);
  }

  private static void structural(JsonNode s, String at, List<String> problems) {
    boolean preserve = s.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    if (!s.has("type") && !preserve && !s.path("x-kubernetes-int-or-string").asBoolean(false)) {
      problems.add(at + ": no type");
    }
    String type = s.path("type").asString("");
    if (s.has("properties") && !type.equals("object")) {
      problems.add(at + ": properties on a " + type);
    }
    if (s.has("properties") && s.has("additionalProperties")) {
      problems.add(at + ": properties and additionalProperties together");
    }
    if (type.equals("array") && !s.has("items")) {
      problems.add(at + ": array without items");
    }
    for (String forbidden :
        List.of("$ref", "definitions", "dependencies", "patternProperties", "uniqueItems")) {
      if (s.has(forbidden)) {
        problems.add(at + ": " + forbidden + " is not allowed");
      }
    }
    for (String req : strings(s.path("required"))) {
      if (!s.path("properties").has(req)) {
        problems.add(at + ": required " + req + " is not a property");
      }
    }
    if ("map".equals(s.path("x-kubernetes-list-type").asString(""))) {
      for (String key : strings(s.path("x-kubernetes-list-map-keys"))) {
        if (!strings(s.path("items").path("required")).contains(key)) {
          problems.add(at + ": list map key " + key + " is not required in items");
        }
      }
    }
    JsonNode props = s.path("properties");
    for (Iterator<String> it = props.propertyNames().iterator(); it.hasNext(); ) {
      String name = it.next();
      structural(props.get(name), at + "." + name, problems);
    }
    if (s.has("items")) {
      structural(s.get("items"), at + "[]", problems);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asString()));
    return out;
  }
}
