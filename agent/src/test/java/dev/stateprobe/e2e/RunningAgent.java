package dev.stateprobe.e2e;

import dev.stateprobe.agent.AgentRuntime;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.drift.DriftKind;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.sim.SimAgent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The agent of a {@link SimulatedNode} ({@link SimAgent}) with the end-to-end tests' handles. */
final class RunningAgent implements AutoCloseable {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  static final JsonMapper JSON = JsonMapper.builder().build();

  final AgentRuntime runtime;
  final PrometheusMeterRegistry registry;

  /** Every cycle from the first one on, in order. */
  final List<CycleResult> cycles;

  private final SimulatedNode node;

  private RunningAgent(SimulatedNode node, SimAgent agent) {
    this.node = node;
    this.runtime = agent.runtime();
    this.registry = agent.registry();
    this.cycles = agent.cycles();
  }

  /** Starts the node's agent ({@link dev.stateprobe.sim.SimNode#startAgent}) with overrides. */
  static RunningAgent start(SimulatedNode node, Map<String, String> overrides) {
    try {
      return new RunningAgent(node, node.simNode.startAgent(overrides));
    } catch (RuntimeException e) {
      throw new AssertionError("the agent did not start: " + e, e);
    }
  }

  // ---- cycles ----

  CycleResult last() {
    return cycles.isEmpty() ? null : cycles.getLast();
  }

  long trustedCycles() {
    return cycles.stream().filter(CycleResult::trusted).count();
  }

  /** Cycles after {@code cycle}, in order. */
  List<CycleResult> since(long cycle) {
    return cycles.stream().filter(c -> c.cycle() > cycle).toList();
  }

  long lastCycleId() {
    CycleResult l = last();
    return l == null ? 0 : l.cycle();
  }

  /** True when the last cycle is trusted and shows exactly drifts matching these, in order. */
  boolean lastShows(List<Predicate<TrackedDrift>> expected) {
    CycleResult l = last();
    if (l == null || !l.trusted() || l.drifts().size() != expected.size()) {
      return false;
    }
    for (int i = 0; i < expected.size(); i++) {
      if (!expected.get(i).test(l.drifts().get(i))) {
        return false;
      }
    }
    return true;
  }

  static Predicate<TrackedDrift> confirmed(DriftKind kind, String name) {
    return d -> d.confirmed() && d.drift().kind() == kind && d.drift().target().name().equals(name);
  }

  static Predicate<TrackedDrift> suspected(DriftKind kind, String name) {
    return d ->
        !d.confirmed() && d.drift().kind() == kind && d.drift().target().name().equals(name);
  }

  // ---- HTTP ----

  HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(uri(path)).GET().build());
  }

  HttpResponse<String> send(HttpRequest request) {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + runtime.httpPort() + path);
  }

  JsonNode json(String path) {
    return JSON.readTree(get(path).body());
  }

  // ---- meters ----

  /** A counter's count (also a function counter's), 0 when it was never registered. */
  double counter(String name, String... tags) {
    Counter c = registry.find(name).tags(tags).counter();
    if (c != null) {
      return c.count();
    }
    FunctionCounter f = registry.find(name).tags(tags).functionCounter();
    return f == null ? 0 : f.count();
  }

  double gauge(String name, String... tags) {
    Gauge g = registry.find(name).tags(tags).gauge();
    if (g == null) {
      throw new AssertionError("no gauge " + name + " " + List.of(tags));
    }
    return g.value();
  }

  @Override
  public void close() {
    node.simNode.stopAgent();
  }
}
