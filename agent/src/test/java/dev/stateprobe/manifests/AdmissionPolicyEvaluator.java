package dev.stateprobe.manifests;

import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Evaluates a ValidatingAdmissionPolicy's CEL the way the API server does, for one admission
 * request: every matchCondition must hold for the policy to apply; then the variables are computed
 * in order (each sees the earlier ones as {@code variables.NAME}); then every validation must hold,
 * and the first one that does not is the denial, with its message (messageExpression evaluated). An
 * expression that fails to evaluate counts as a denial (failurePolicy Fail); one that does not
 * compile fails the test at construction, naming it.
 *
 * <p>The variables {@code object} and {@code oldObject} are untyped (JSON as maps and lists), as
 * for a custom resource; {@code null} stands for the API server's null object (DELETE's object,
 * CREATE's oldObject).
 */
final class AdmissionPolicyEvaluator {
  /** What the API server would answer. {@code applies} is false when a matchCondition failed. */
  record Decision(boolean applies, boolean allowed, String message) {
    static Decision notApplicable() {
      return new Decision(false, true, null);
    }
  }

  private record Compiled(String name, String source, CelRuntime.Program program) {}

  private record Validation(Compiled expression, String message, Compiled messageExpression) {}

  private final Cel cel =
      CelFactory.standardCelBuilder()
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("request", SimpleType.DYN)
          .addVar("object", SimpleType.DYN)
          .addVar("oldObject", SimpleType.DYN)
          .addVar("variables", SimpleType.DYN)
          .build();

  private final List<Compiled> matchConditions = new ArrayList<>();
  private final List<Compiled> variables = new ArrayList<>();
  private final List<Validation> validations = new ArrayList<>();

  AdmissionPolicyEvaluator(JsonNode policy) {
    JsonNode spec = policy.path("spec");
    for (JsonNode c : spec.path("matchConditions")) {
      matchConditions.add(compile("matchCondition " + c.path("name").asString(), c));
    }
    for (JsonNode v : spec.path("variables")) {
      variables.add(compile("variable " + v.path("name").asString(), v));
    }
    int i = 0;
    for (JsonNode v : spec.path("validations")) {
      String where = "validation " + i++;
      validations.add(
          new Validation(
              compile(where, v),
              v.path("message").asString(null),
              v.has("messageExpression")
                  ? compile(where + " messageExpression", v.path("messageExpression").asString())
                  : null));
    }
    if (validations.isEmpty()) {
      throw new AssertionError("the policy has no validations");
    }
  }

  private Compiled compile(String where, JsonNode holder) {
    return compile(where, holder.path("expression").asString());
  }

  private Compiled compile(String where, String source) {
    if (source == null || source.isBlank()) {
      throw new AssertionError(where + " has no expression");
    }
    try {
      CelAbstractSyntaxTree ast = cel.compile(source).getAst();
      return new Compiled(where.replaceFirst("^variable ", ""), source, cel.createProgram(ast));
    } catch (CelValidationException | CelEvaluationException e) {
      throw new AssertionError(where + " does not compile: " + e.getMessage(), e);
    }
  }

  Decision evaluate(Map<String, ?> request, Object object, Object oldObject) {
    Map<String, Object> activation = new HashMap<>();
    activation.put("request", request);
    activation.put("object", object == null ? dev.cel.common.values.NullValue.NULL_VALUE : object);
    activation.put(
        "oldObject", oldObject == null ? dev.cel.common.values.NullValue.NULL_VALUE : oldObject);
    Map<String, Object> vars = new LinkedHashMap<>();
    activation.put("variables", vars);
    for (Compiled condition : matchConditions) {
      Object result;
      try {
        result = condition.program().eval(activation);
      } catch (CelEvaluationException e) {
        return new Decision(true, false, condition.name() + " failed: " + e.getMessage());
      }
      if (!Boolean.TRUE.equals(result)) {
        return Decision.notApplicable();
      }
    }
    for (Compiled variable : variables) {
      try {
        vars.put(variable.name(), variable.program().eval(activation));
      } catch (CelEvaluationException e) {
        return new Decision(true, false, "variable " + variable.name() + ": " + e.getMessage());
      }
    }
    for (Validation v : validations) {
      Object result;
      try {
        result = v.expression().program().eval(activation);
      } catch (CelEvaluationException e) {
        return new Decision(true, false, v.expression().name() + " failed: " + e.getMessage());
      }
      if (!(result instanceof Boolean)) {
        throw new AssertionError(v.expression().source() + " is not a bool but " + result);
      }
      if (!(Boolean) result) {
        return new Decision(true, false, message(v, activation));
      }
    }
    return new Decision(true, true, null);
  }

  private static String message(Validation v, Map<String, Object> activation) {
    if (v.messageExpression() != null) {
      try {
        return String.valueOf(v.messageExpression().program().eval(activation));
      } catch (CelEvaluationException e) {
        throw new AssertionError(
            v.messageExpression().source() + " fails to evaluate: " + e.getMessage(), e);
      }
    }
    return v.message();
  }
}
