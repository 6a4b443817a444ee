package dev.stateprobe.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.policy.LabelSelector.Operator;
import dev.stateprobe.policy.LabelSelector.Requirement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Selection and winner resolution. */
class PolicySetTest {

  static ConsistencyPolicy policy(
      String name, Set<String> namespaces, LabelSelector pods, ConsistencyLevel level) {
    return new ConsistencyPolicy(
        name,
        "1",
        namespaces,
        Optional.ofNullable(pods),
        level,
        ConsistencyPolicy.Overrides.NONE,
        ConsistencyPolicy.DEFAULT_POOL);
  }

  static LabelSelector labels(Map<String, String> match) {
    return new LabelSelector(match, List.of());
  }

  @Test
  void labelSelectorsMatchAsTheApiDoes() {
    LabelSelector s =
        new LabelSelector(
            Map.of("app", "web"),
            List.of(
                new Requirement("tier", Operator.IN, Set.of("a", "b")),
                new Requirement("env", Operator.NOT_IN, Set.of("dev")),
                new Requirement("team", Operator.EXISTS, Set.of()),
                new Requirement("canary", Operator.DOES_NOT_EXIST, Set.of())));
    assertTrue(s.matches(Map.of("app", "web", "tier", "a", "team", "x")));
    assertTrue(s.matches(Map.of("app", "web", "tier", "b", "team", "x", "env", "prod")));
    assertFalse(s.matches(Map.of("app", "web", "tier", "c", "team", "x")), "In");
    assertFalse(s.matches(Map.of("app", "web", "tier", "a", "team", "x", "env", "dev")), "NotIn");
    assertFalse(s.matches(Map.of("app", "web", "tier", "a")), "Exists");
    assertFalse(s.matches(Map.of("app", "web", "tier", "a", "team", "x", "canary", "")), "DNE");
    assertFalse(s.matches(Map.of("app", "api", "tier", "a", "team", "x")), "matchLabels");
    assertTrue(new LabelSelector(Map.of(), List.of()).matches(Map.of()), "empty selects all");
  }

  @Test
  void namespacesAndPodSelectorAreAnded() {
    ConsistencyPolicy p =
        policy("p", Set.of("shop"), labels(Map.of("app", "web")), ConsistencyLevel.CRITICAL);
    assertTrue(p.selects("shop", Map.of("app", "web")));
    assertFalse(p.selects("other", Map.of("app", "web")));
    assertFalse(p.selects("shop", Map.of("app", "api")));
  }

  @Test
  void theMostSpecificPolicyWinsThenTheFirstName() {
    ConsistencyPolicy everything = policy("a-all", Set.of(), null, ConsistencyLevel.EVENTUAL);
    ConsistencyPolicy shop = policy("b-shop", Set.of("shop"), null, ConsistencyLevel.STRICT);
    ConsistencyPolicy web =
        policy("z-web", Set.of(), labels(Map.of("app", "web")), ConsistencyLevel.CRITICAL);
    ConsistencyPolicy web2 =
        policy("y-web", Set.of("shop"), labels(Map.of("app", "web")), ConsistencyLevel.EVENTUAL);
    PolicySet set = new PolicySet(List.of(everything, shop, web), List.of());
    assertEquals(Optional.of(web), set.winner("shop", Map.of("app", "web")));
    assertEquals(Optional.of(shop), set.winner("shop", Map.of("app", "api")));
    assertEquals(Optional.of(everything), set.winner("kube-system", Map.of()));
    PolicySet tie = new PolicySet(List.of(web, web2, everything), List.of());
    assertEquals(Optional.of(web2), tie.winner("shop", Map.of("app", "web")), "ties by name");
    assertEquals(Optional.of(web), tie.winner("other", Map.of("app", "web")));
    assertEquals(Optional.empty(), PolicySet.EMPTY.winner("shop", Map.of()));
  }

  @Test
  void twoPoliciesOfOneNameAreAnError() {
    ConsistencyPolicy a = policy("a", Set.of(), null, ConsistencyLevel.STRICT);
    assertThrows(IllegalArgumentException.class, () -> new PolicySet(List.of(a, a), List.of()));
  }
}
