package dev.stateprobe.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.drift.DriftKind;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyDecoderTest {
  static final Set<String> KINDS =
      Arrays.stream(DriftKind.values()).map(DriftKind::wireName).collect(Collectors.toSet());

  private final PolicyDecoder decoder = new PolicyDecoder(KINDS);

  static String policy(String name, String spec) {
    return """
    {"apiVersion":"stateprobe.dev/v1alpha1","kind":"ConsistencyPolicy",
     "metadata":{"name":"%s","uid":"u-1","resourceVersion":"7"},"spec":%s}\
    """
        .formatted(name, spec);
  }

  private ConsistencyPolicy decode(String json) throws PolicyException {
    return decoder.decode(json.getBytes(StandardCharsets.UTF_8));
  }

  private InvalidPolicy refused(String json) {
    return assertThrows(PolicyException.class, () -> decode(json)).invalid();
  }

  @Test
  void decodesEveryField() throws Exception {
    ConsistencyPolicy p =
        decode(
            policy(
                "payments",
                """
                {"selector":{"namespaces":["shop","pay"],
                  "podSelector":{"matchLabels":{"app":"pay"},
                    "matchExpressions":[{"key":"tier","operator":"In","values":["db","cache"]},
                                        {"key":"canary","operator":"DoesNotExist"}]}},
                 "consistencyLevel":"Critical",
                 "overrides":{"windows":{"OrphanedPod":"1m30s","UidMismatch":"500ms0.5s"},
                   "minObservations":3,
                   "repair":{"mode":"approval","scripts":["delete-orphan"],"maxAttemptsPerDrift":2}},
                 "conflictResolution":{"strategy":"LeaseBased","pool":"payments"}}\
                """));
    assertEquals("payments", p.name());
    assertEquals("7", p.resourceVersion());
    assertEquals(Set.of("shop", "pay"), p.namespaces());
    assertEquals(ConsistencyLevel.CRITICAL, p.level());
    assertEquals(Duration.ofSeconds(90), p.overrides().windows().get("OrphanedPod"));
    assertEquals(Duration.ofSeconds(1), p.overrides().windows().get("UidMismatch"));
    assertEquals(3, p.overrides().minObservations().getAsInt());
    assertEquals(Optional.of(RepairModeOverride.APPROVAL), p.overrides().repairMode());
    assertEquals(Optional.of(Set.of("delete-orphan")), p.overrides().scripts());
    assertEquals(2, p.overrides().maxAttemptsPerDrift().getAsInt());
    assertEquals("payments", p.pool());
    assertEquals(2, p.specificity());
    assertTrue(p.selects("shop", Map.of("app", "pay", "tier", "db")));
  }

  @Test
  void theSmallestPolicySelectsEveryPodAndDrawsFromTheClusterPool() throws Exception {
    ConsistencyPolicy p = decode(policy("all", "{\"consistencyLevel\":\"Eventual\"}"));
    assertEquals(0, p.specificity());
    assertEquals(ConsistencyPolicy.DEFAULT_POOL, p.pool());
    assertEquals(ConsistencyPolicy.Overrides.NONE, p.overrides());
    assertTrue(p.selects("any", Map.of()));
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {}                                                                     | spec.consistencyLevel | missing
          {"consistencyLevel":"Sometimes"}                                        | spec.consistencyLevel | "Sometimes" is not a level
          {"consistencyLevel":"Strict","selector":{"namespaceSelector":{}}}       | spec.selector.namespaceSelector | not supported
          {"consistencyLevel":"Strict","selector":{"namespaces":["Shop"]}}        | spec.selector.namespaces[0] | not a namespace name
          {"consistencyLevel":"Strict","selector":{"namespaces":["a","a"]}}       | spec.selector.namespaces[1] | listed twice
          {"consistencyLevel":"Strict","selector":{"podSelector":{"matchExpressions":[{"key":"a","operator":"In"}]}}} | spec.selector.podSelector.matchExpressions[0].values | must not be empty for In
          {"consistencyLevel":"Strict","selector":{"podSelector":{"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]}}} | spec.selector.podSelector.matchExpressions[0].values | must be empty for Exists
          {"consistencyLevel":"Strict","selector":{"podSelector":{"matchExpressions":[{"key":"a","operator":"Near","values":["x"]}]}}} | spec.selector.podSelector.matchExpressions[0].operator | "Near" is not an operator
          {"consistencyLevel":"Strict","selector":{"podSelector":{"matchLabels":{"-bad":"x"}}}} | spec.selector.podSelector.matchLabels.-bad | not a label key
          {"consistencyLevel":"Strict","overrides":{"windows":{"Orphaned":"30s"}}} | spec.overrides.windows.Orphaned | not a drift kind
          {"consistencyLevel":"Strict","overrides":{"windows":{"OrphanedPod":"soon"}}} | spec.overrides.windows.OrphanedPod | not a duration
          {"consistencyLevel":"Strict","overrides":{"windows":{"OrphanedPod":"48h"}}} | spec.overrides.windows.OrphanedPod | outside 1s..24h
          {"consistencyLevel":"Strict","overrides":{"minObservations":0}}         | spec.overrides.minObservations | between 1 and 100, got 0
          {"consistencyLevel":"Critical","overrides":{"minObservations":1}}       | spec.overrides.minObservations | at least 2 for a Critical policy
          {"consistencyLevel":"Eventual","overrides":{"repair":{"mode":"auto"}}}  | spec.overrides.repair.mode | auto contradicts Eventual
          {"consistencyLevel":"Strict","overrides":{"repair":{"mode":"sometimes"}}} | spec.overrides.repair.mode | not a mode
          {"consistencyLevel":"Strict","overrides":{"repair":{"scripts":[]}}}     | spec.overrides.repair.scripts | must not be empty
          {"consistencyLevel":"Strict","overrides":{"repair":{"maxAttemptsPerDrift":11}}} | spec.overrides.repair.maxAttemptsPerDrift | between 1 and 10
          {"consistencyLevel":"Strict","conflictResolution":{"strategy":"FirstCome"}} | spec.conflictResolution.strategy | the only one is LeaseBased
          {"consistencyLevel":"Strict","conflictResolution":{"pool":"Big_Pool"}}  | spec.conflictResolution.pool | not a pool name
          {"consistencyLevel":"Strict","ovverrides":{}}                           | spec.ovverrides | unknown field
          {"consistencyLevel":3}                                                  | spec.consistencyLevel | must be a string
          """)
  void refusesABadPolicyNamingItAndTheField(String spec, String field, String message) {
    InvalidPolicy bad = refused(policy("bad", spec));
    assertEquals("bad", bad.name());
    assertEquals("7", bad.resourceVersion());
    assertEquals("u-1", bad.uid());
    assertEquals(field, bad.field());
    assertTrue(bad.message().contains(message), bad.message());
    assertTrue(bad.describe().startsWith("ConsistencyPolicy bad: " + field + ": "), bad.describe());
  }

  @Test
  void theNameIsReportedEvenWhenItComesAfterTheFault() {
    InvalidPolicy bad =
        refused("{\"spec\":{\"consistencyLevel\":\"Nope\"},\"metadata\":{\"name\":\"late\"}}");
    assertEquals("late", bad.name());
    assertEquals("spec.consistencyLevel", bad.field());
  }

  @Test
  void malformedJsonAndDuplicateKeysAreRefused() {
    assertEquals("(json)", refused("{\"metadata\":{\"name\":\"x\"},").field());
    InvalidPolicy dup =
        refused(
            "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"consistencyLevel\":\"Strict\","
                + "\"consistencyLevel\":\"Eventual\"}}");
    assertEquals("(json)", dup.field());
    assertTrue(dup.message().contains("consistencyLevel"), dup.message());
    assertEquals("metadata.name", refused("{\"spec\":{\"consistencyLevel\":\"Strict\"}}").field());
    assertEquals("spec", refused("{\"metadata\":{\"name\":\"x\"}}").field());
  }

  @ParameterizedTest
  @CsvSource({"30s,30000", "1m30s,90000", "1.5h,5400000", "500ms,500", "2h0m0s,7200000"})
  void durationsAreReadAsGoAndCelWriteThem(String text, long millis) {
    assertEquals(Optional.of(Duration.ofMillis(millis)), PolicyDecoder.duration(text));
  }

  @ParameterizedTest
  @CsvSource({"30", "s", "-1s", "1d", "1 s", "99999999999999999999h"})
  void notDurations(String text) {
    assertEquals(Optional.empty(), PolicyDecoder.duration(text));
  }
}
