package dev.stateprobe.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.stateprobe.fleet.StormSettings;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.sim.SimApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.events.v1.Event;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Two coordinators and ConsistencyPolicies created through the simulated API server (which, like a
 * cluster whose CRD is older than the agent, admits what the agents refuse): the leader writes one
 * {@code PolicyInvalid} Warning per invalid policy version, naming the field, none for a valid
 * policy, and the next leader writes none again for the versions already reported.
 */
class PolicyEventsIT {
  private static final String NS = "state-probe";

  private static CoordinatorConfig config(String identity) {
    return new CoordinatorConfig(
        NS,
        identity,
        new StormSettings(10, 3, Duration.ofMinutes(5), Duration.ofMinutes(5)),
        Duration.ofMillis(200),
        Duration.ofMillis(500),
        Duration.ofSeconds(2),
        Duration.ofMillis(1500),
        Duration.ofMillis(200),
        0);
  }

  private static GenericKubernetesResource policy(String name, Map<String, Object> spec) {
    GenericKubernetesResource p = new GenericKubernetesResource();
    p.setApiVersion("stateprobe.dev/v1alpha1");
    p.setKind("ConsistencyPolicy");
    p.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
    p.setAdditionalProperty("spec", spec);
    return p;
  }

  private static List<Event> invalidEvents(SimApiServer api) {
    return api.client().events().v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> PolicyEvents.REASON.equals(e.getReason()))
        .toList();
  }

  private static Coordinator coordinator(SimApiServer api, String id) {
    return new Coordinator(
            api.newClient(),
            config(id),
            Clock.systemUTC(),
            new Metrics.Coordinator(new SimpleMeterRegistry()))
        .start();
  }

  @Test
  void theLeaderWritesOneEventPerInvalidVersionAndTheNextLeaderNoneAgain() {
    List<Coordinator> all = new ArrayList<>();
    try (SimApiServer api = new SimApiServer().start()) {
      var policies = api.client().genericKubernetesResources(PolicyEvents.POLICIES);
      policies.resource(policy("fine", Map.of("consistencyLevel", "Critical"))).create();
      policies
          .resource(
              policy(
                  "broken",
                  Map.of(
                      "consistencyLevel", "Critical", "overrides", Map.of("minObservations", 1))))
          .create();
      Coordinator a = coordinator(api, "c-a");
      all.add(a);
      await().atMost(Duration.ofSeconds(30)).until(a::leading);

      await("one PolicyInvalid Event on the broken policy")
          .atMost(Duration.ofSeconds(30))
          .until(() -> invalidEvents(api).size() == 1);
      Event first = invalidEvents(api).getFirst();
      assertThat(first.getType()).isEqualTo("Warning");
      assertThat(first.getRegarding().getKind()).isEqualTo("ConsistencyPolicy");
      assertThat(first.getRegarding().getName()).isEqualTo("broken");
      assertThat(first.getRegarding().getUid())
          .isEqualTo(policies.withName("broken").get().getMetadata().getUid());
      assertThat(first.getNote())
          .contains("spec.overrides.minObservations")
          .contains("at least 2 for a Critical policy");

      // A new version, still invalid (another field): one more Event.
      policies.resource(policy("broken", Map.of("consistencyLevel", "Sometimes"))).update();
      await("a second Event for the policy's new version")
          .atMost(Duration.ofSeconds(30))
          .until(() -> invalidEvents(api).size() == 2);
      assertThat(invalidEvents(api))
          .anySatisfy(e -> assertThat(e.getNote()).contains("\"Sometimes\" is not a level"));

      // The leader goes; the next one judges the same versions again and meets its Events.
      Coordinator b = coordinator(api, "c-b");
      all.add(b);
      a.close();
      await().atMost(Duration.ofSeconds(30)).until(b::leading);
      policies
          .resource(policy("also-broken", Map.of("consistencyLevel", "Strict", "ovverrides", 1)))
          .create();
      await("the new leader's Event for a new invalid policy")
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  invalidEvents(api).stream()
                      .anyMatch(e -> "also-broken".equals(e.getRegarding().getName())));
      // Its first list judged "fine" and both versions seen before; only the new one was written.
      assertThat(invalidEvents(api)).hasSize(3);
      assertThat(invalidEvents(api)).noneMatch(e -> "fine".equals(e.getRegarding().getName()));
      assertThat(invalidEvents(api))
          .filteredOn(e -> "broken".equals(e.getRegarding().getName()))
          .allMatch(e -> "c-a".equals(e.getReportingInstance()));
    } finally {
      all.forEach(Coordinator::close);
    }
  }

  @Test
  void anEventNameIsOnePerVersionAndValid() {
    assertThat(PolicyEvents.eventName("pay", "42")).isEqualTo("pay.invalid.42");
    assertThat(PolicyEvents.eventName("x".repeat(253), "7")).hasSizeLessThanOrEqualTo(253);
    assertThat(PolicyEvents.eventName("a-", "")).isEqualTo("ax.invalid.0");
  }
}
