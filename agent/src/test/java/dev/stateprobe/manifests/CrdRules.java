package dev.stateprobe.manifests;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.OpenApi30;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * What the API server checks when a custom resource is created: the CRD's openAPIV3Schema (by
 * networknt's validator, OpenAPI 3.0 dialect) and then every {@code x-kubernetes-validations} rule
 * of the schema nodes the object has, with {@code self} bound to that node's value (through {@code
 * properties}, {@code items} and {@code additionalProperties}), by cel-java. Transition rules
 * ({@code oldSelf}) are not evaluated: a create has no old object. Every rule is compiled up front,
 * so a rule that does not compile fails the test that loads the CRD.
 */
final class CrdRules {
  private final Cel cel =
      CelFactory.standardCelBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .build();
  private final JsonNode openApi;
  private final Schema schema;
  private final Map<String, CelRuntime.Program> programs = new LinkedHashMap<>();

  CrdRules(JsonNode crd) {
    openApi = crd.path("spec").path("versions").get(0).path("schema").path("openAPIV3Schema");
    schema =
        SchemaRegistry.withDefaultDialect(OpenApi30.getInstance())
            .getSchema(SchemaLocation.of("https://stateprobe.dev/crd.json"), openApi);
    compileAll(openApi);
  }

  /** Every rule's source, as compiled. */
  List<String> rules() {
    return List.copyOf(programs.keySet());
  }

  private void compileAll(JsonNode node) {
    for (JsonNode v : node.path("x-kubernetes-validations")) {
      String rule = v.path("rule").asString();
      try {
        programs.put(rule, cel.createProgram(cel.compile(rule).getAst()));
      } catch (CelValidationException | CelEvaluationException e) {
        throw new AssertionError("rule does not compile: " + rule + ": " + e.getMessage(), e);
      }
    }
    node.path("properties").forEach(this::compileAll);
    if (node.has("items")) {
      compileAll(node.path("items"));
    }
    if (node.path("additionalProperties").isObject()) {
      compileAll(node.path("additionalProperties"));
    }
  }

  /** The API server's refusals of {@code object}: empty when it would be admitted. */
  List<String> refusals(JsonNode object) {
    List<String> out = new ArrayList<>();
    for (Error e :
        schema.validate(object, ctx -> ctx.executionConfig(c -> c.formatAssertionsEnabled(true)))) {
      out.add("schema: " + e.getInstanceLocation() + ": " + e.getMessage());
    }
    if (out.isEmpty()) {
      check(openApi, object, "", out);
    }
    return out;
  }

  private void check(JsonNode node, JsonNode value, String path, List<String> out) {
    for (JsonNode v : node.path("x-kubernetes-validations")) {
      String rule = v.path("rule").asString();
      Object result;
      try {
        result = programs.get(rule).eval(Map.of("self", plain(value)));
      } catch (CelEvaluationException e) {
        out.add(path + ": rule failed to evaluate: " + e.getMessage());
        continue;
      }
      if (!Boolean.TRUE.equals(result)) {
        out.add(path + v.path("fieldPath").asString("") + ": " + v.path("message").asString());
      }
    }
    if (value.isObject()) {
      for (Map.Entry<String, JsonNode> e : value.properties()) {
        JsonNode child = node.path("properties").path(e.getKey());
        if (child.isMissingNode() && node.path("additionalProperties").isObject()) {
          child = node.path("additionalProperties");
        }
        if (!child.isMissingNode()) {
          check(child, e.getValue(), path + "." + e.getKey(), out);
        }
      }
    } else if (value.isArray() && node.has("items")) {
      int i = 0;
      for (JsonNode item : value) {
        check(node.path("items"), item, path + "[" + i++ + "]", out);
      }
    }
  }

  /** JSON as CEL sees a custom resource: maps, lists, strings, int64s, doubles, bools. */
  private static Object plain(JsonNode v) {
    if (v.isObject()) {
      Map<String, Object> m = new LinkedHashMap<>();
      v.properties().forEach(e -> m.put(e.getKey(), plain(e.getValue())));
      return m;
    }
    if (v.isArray()) {
      List<Object> l = new ArrayList<>();
      v.forEach(x -> l.add(plain(x)));
      return l;
    }
    if (v.isString()) {
      return v.asString();
    }
    if (v.isIntegralNumber()) {
      return v.asLong();
    }
    if (v.isNumber()) {
      return v.asDouble();
    }
    if (v.isBoolean()) {
      return v.asBoolean();
    }
    return dev.cel.common.values.NullValue.NULL_VALUE;
  }
}
