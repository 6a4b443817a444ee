package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.policy.PolicyDecoder;
import dev.stateprobe.policy.PolicyException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The ConsistencyPolicy CRD (manifests/crds/consistencypolicies.stateprobe.dev.yaml): its schema
 * and CEL rules, run as the API server would at admission, admit the good policies and refuse the
 * bad ones; and the agent's own validation ({@link PolicyDecoder}) agrees on every case, so a
 * policy that reached the agent past an older CRD is refused there too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PolicyCrdTest {
  private final RepoFiles repo = new RepoFiles();
  private final Path file =
      repo.manifests().resolve("crds/consistencypolicies.stateprobe.dev.yaml");
  private final JsonNode crd = repo.yamlTree(file);
  private final CrdRules rules = new CrdRules(crd);
  private final JsonMapper json = JsonMapper.builder().build();
  private final PolicyDecoder decoder =
      new PolicyDecoder(
          Arrays.stream(DriftKind.values()).map(DriftKind::wireName).collect(Collectors.toSet()));

  private String policy(String spec) {
    return "{\"apiVersion\":\"stateprobe.dev/v1alpha1\",\"kind\":\"ConsistencyPolicy\","
        + "\"metadata\":{\"name\":\"p\"},\"spec\":"
        + spec
        + "}";
  }

  private boolean agentAccepts(String text) {
    try {
      decoder.decode(text.getBytes(StandardCharsets.UTF_8));
      return true;
    } catch (PolicyException e) {
      return false;
    }
  }

  @Test
  void theCrdIsClusterScopedWithItsShortNameAndColumns() {
    JsonNode spec = crd.path("spec");
    assertEquals("Cluster", spec.path("scope").asString());
    assertEquals("cpol", spec.path("names").path("shortNames").get(0).asString());
    assertEquals("ConsistencyPolicy", spec.path("names").path("kind").asString());
    JsonNode v = spec.path("versions").get(0);
    assertEquals("v1alpha1", v.path("name").asString());
    List<String> columns =
        v.path("additionalPrinterColumns")
            .valueStream()
            .map(c -> c.path("name").asString())
            .toList();
    assertEquals(List.of("Level", "Namespaces", "Pods", "Repair", "Pool", "Age"), columns);
    // Agents never write a policy: no status subresource to write to.
    assertTrue(v.path("subresources").isMissingNode());
    assertEquals(7, rules.rules().size(), rules.rules().toString());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"consistencyLevel\":\"Strict\"}",
        "{\"consistencyLevel\":\"Eventual\",\"selector\":{\"namespaces\":[\"shop\"]},"
            + "\"overrides\":{\"repair\":{\"mode\":\"approval\"}}}",
        "{\"consistencyLevel\":\"Critical\",\"selector\":{\"podSelector\":{"
            + "\"matchLabels\":{\"app.kubernetes.io/name\":\"pay\"},"
            + "\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\",\"values\":[\"db\"]},"
            + "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"}]}},"
            + "\"overrides\":{\"windows\":{\"OrphanedPod\":\"1m30s\",\"UidMismatch\":\"10s\"},"
            + "\"minObservations\":3,\"repair\":{\"mode\":\"auto\",\"scripts\":[\"delete-orphan\"],"
            + "\"maxAttemptsPerDrift\":2}},"
            + "\"conflictResolution\":{\"strategy\":\"LeaseBased\",\"pool\":\"payments\"}}",
        "{\"consistencyLevel\":\"Eventual\",\"overrides\":{\"repair\":{\"mode\":\"off\"}}}",
      })
  void goodPoliciesAreAdmittedAndAccepted(String spec) {
    String text = policy(spec);
    assertEquals(List.of(), rules.refusals(json.readTree(text)));
    assertTrue(agentAccepts(text), "the agent refuses " + text);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          no level                        | {}
          unknown level                   | {"consistencyLevel":"Sometimes"}
          namespaceSelector               | {"consistencyLevel":"Strict","selector":{"namespaceSelector":{"matchLabels":{"team":"a"}}}}
          bad namespace name              | {"consistencyLevel":"Strict","selector":{"namespaces":["Shop"]}}
          In without values               | {"consistencyLevel":"Strict","selector":{"podSelector":{"matchExpressions":[{"key":"a","operator":"In"}]}}}
          In with no values               | {"consistencyLevel":"Strict","selector":{"podSelector":{"matchExpressions":[{"key":"a","operator":"In","values":[]}]}}}
          Exists with values              | {"consistencyLevel":"Strict","selector":{"podSelector":{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}}}
          unknown operator                | {"consistencyLevel":"Strict","selector":{"podSelector":{"matchExpressions":[{"key":"a","operator":"Near","values":["x"]}]}}}
          bad label key                   | {"consistencyLevel":"Strict","selector":{"podSelector":{"matchLabels":{"-bad":"x"}}}}
          bad label value                 | {"consistencyLevel":"Strict","selector":{"podSelector":{"matchLabels":{"a":"not ok"}}}}
          unknown drift kind              | {"consistencyLevel":"Strict","overrides":{"windows":{"Orphaned":"30s"}}}
          not a duration                  | {"consistencyLevel":"Strict","overrides":{"windows":{"OrphanedPod":"soon"}}}
          window too long                 | {"consistencyLevel":"Strict","overrides":{"windows":{"OrphanedPod":"48h"}}}
          window too short                | {"consistencyLevel":"Strict","overrides":{"windows":{"OrphanedPod":"500ms"}}}
          zero observations               | {"consistencyLevel":"Strict","overrides":{"minObservations":0}}
          Critical with one observation   | {"consistencyLevel":"Critical","overrides":{"minObservations":1}}
          Eventual with auto repair       | {"consistencyLevel":"Eventual","overrides":{"repair":{"mode":"auto"}}}
          unknown repair mode             | {"consistencyLevel":"Strict","overrides":{"repair":{"mode":"sometimes"}}}
          no scripts                      | {"consistencyLevel":"Strict","overrides":{"repair":{"scripts":[]}}}
          bad script name                 | {"consistencyLevel":"Strict","overrides":{"repair":{"scripts":["Delete_Orphan"]}}}
          too many attempts               | {"consistencyLevel":"Strict","overrides":{"repair":{"maxAttemptsPerDrift":11}}}
          unknown strategy                | {"consistencyLevel":"Strict","conflictResolution":{"strategy":"FirstCome"}}
          bad pool name                   | {"consistencyLevel":"Strict","conflictResolution":{"pool":"Big_Pool"}}
          """)
  void badPoliciesAreRefusedAtAdmissionAndByTheAgent(String what, String spec) {
    String text = policy(spec);
    List<String> refusals = rules.refusals(json.readTree(text));
    assertFalse(refusals.isEmpty(), what + " was admitted");
    assertFalse(agentAccepts(text), what + " was accepted by the agent");
  }

  @Test
  void celRulesSayWhatIsWrong() {
    assertEquals(
        List.of(
            ".spec.overrides.minObservations: a Critical policy needs overrides.minObservations"
                + " of at least 2"),
        rules.refusals(
            json.readTree(
                policy(
                    "{\"consistencyLevel\":\"Critical\",\"overrides\":{\"minObservations\":1}}"))));
    List<String> ns =
        rules.refusals(
            json.readTree(
                policy(
                    "{\"consistencyLevel\":\"Strict\",\"selector\":{\"namespaceSelector\":{}}}")));
    assertEquals(1, ns.size(), ns.toString());
    assertTrue(
        ns.getFirst()
            .startsWith(
                ".spec.selector.namespaceSelector: namespaceSelector is not" + " supported"),
        ns.getFirst());
    List<String> kinds =
        rules.refusals(
            json.readTree(
                policy(
                    "{\"consistencyLevel\":\"Strict\",\"overrides\":{\"windows\":{\"Orphaned\":\"30s\"}}}")));
    assertEquals(
        List.of(".spec.overrides.windows: every key of windows must be a drift kind"), kinds);
  }

  @Test
  void theCrdNamesEveryDriftKindAndNoOther() {
    Set<String> kinds =
        Arrays.stream(DriftKind.values()).map(DriftKind::wireName).collect(Collectors.toSet());
    String rule =
        rules.rules().stream().filter(r -> r.contains("k in [")).findFirst().orElseThrow();
    Set<String> named =
        java.util.regex.Pattern.compile("'([A-Za-z]+)'")
            .matcher(rule)
            .results()
            .map(m -> m.group(1))
            .collect(Collectors.toSet());
    assertEquals(kinds, named);
  }
}
