package dev.stateprobe.repair.planner;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.drift.TrackedDrift;
import dev.stateprobe.view.PodRef;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Test helpers: a fluent PlanInput with safe defaults, and a compact rendering of decisions. */
final class Plans {
  static final Instant NOW = Instant.parse("2026-11-20T12:00:00Z");

  private Plans() {}

  static PodRef pod(String name) {
    return new PodRef("default", name, "uid-" + name);
  }

  static TrackedDrift orphan(String name) {
    return confirmed(new Drift.OrphanedPod(pod(name), Drift.Source.KUBELET));
  }

  static TrackedDrift stale(String name) {
    return confirmed(new Drift.StaleKubeletView(pod(name), List.of("labels")));
  }

  static TrackedDrift confirmed(Drift d) {
    return new TrackedDrift(d, NOW.minusSeconds(120), NOW.minusSeconds(60), 4);
  }

  static RepairOption auto(String script) {
    return new RepairOption(script, RepairOption.Mode.AUTO, 3, Duration.ofSeconds(60));
  }

  static RepairOption option(
      String script, RepairOption.Mode mode, int maxAttempts, int cooldownSeconds) {
    return new RepairOption(script, mode, maxAttempts, Duration.ofSeconds(cooldownSeconds));
  }

  static ScriptKey key(TrackedDrift d, String script) {
    return new ScriptKey(d.key(), script);
  }

  static Builder input() {
    return new Builder();
  }

  /**
   * {@code START a#1}, {@code WAIT b#2 backoff}, {@code NONE mode_off}, with {@code dry} for dry
   * runs.
   */
  static String render(Decision d) {
    StringBuilder s = new StringBuilder(d.action().name());
    d.option().ifPresent(o -> s.append(' ').append(o.script()).append('#').append(d.attempt()));
    d.throttle().ifPresent(t -> s.append(' ').append(t.tag()));
    if (d.dryRun()) {
      s.append(" dry");
    }
    return s.toString();
  }

  static List<String> render(List<Decision> ds) {
    return ds.stream()
        .map(d -> d.drift().key().target().name() + ": " + render(d))
        .collect(Collectors.toList());
  }

  static final class Builder {
    private final List<TrackedDrift> drifts = new ArrayList<>();
    private final Map<DriftKey, List<RepairOption>> options = new HashMap<>();
    private PlanMode mode = PlanMode.ON;
    private boolean paused;
    private boolean circuitOpen;
    private Limits limits = new Limits(10, 100);
    private final Map<ScriptKey, ScriptHistory> scripts = new LinkedHashMap<>();
    private final List<Instant> starts = new ArrayList<>();
    private int running;
    private final Map<ScriptKey, Approval> approvals = new HashMap<>();
    private Instant now = NOW;
    private final List<dev.stateprobe.policy.ConsistencyPolicy> policies = new ArrayList<>();
    private final List<TrackedDrift> selected = new ArrayList<>();
    private boolean policiesSynced = true;

    /** The agent has not read its policies yet. */
    Builder policiesUnsynced() {
      policiesSynced = false;
      return this;
    }

    /**
     * Gives {@code d}'s pod a policy of {@code level} with {@code overrides}, selecting it by a
     * label only it has.
     */
    Builder policy(
        TrackedDrift d,
        dev.stateprobe.policy.ConsistencyLevel level,
        dev.stateprobe.policy.ConsistencyPolicy.Overrides overrides) {
      String pod = d.key().target().name();
      policies.add(
          new dev.stateprobe.policy.ConsistencyPolicy(
              "policy-" + pod,
              "1",
              java.util.Set.of(),
              java.util.Optional.of(
                  new dev.stateprobe.policy.LabelSelector(Map.of("pod", pod), List.of())),
              level,
              overrides,
              "cluster"));
      selected.add(d);
      return this;
    }

    Builder drift(TrackedDrift d, RepairOption... opts) {
      drifts.add(d);
      if (opts.length > 0) {
        options.put(d.key(), List.of(opts));
      }
      return this;
    }

    Builder mode(PlanMode m) {
      mode = m;
      return this;
    }

    Builder paused() {
      paused = true;
      return this;
    }

    Builder circuitOpen() {
      circuitOpen = true;
      return this;
    }

    Builder limits(int maxConcurrent, int maxPerHour) {
      limits = new Limits(maxConcurrent, maxPerHour);
      return this;
    }

    Builder history(ScriptKey key, ScriptHistory h) {
      scripts.put(key, h);
      if (h.running()) {
        running++;
      }
      return this;
    }

    Builder running(int n) {
      running = n;
      return this;
    }

    Builder started(Instant... at) {
      starts.addAll(List.of(at));
      return this;
    }

    Builder approval(ScriptKey key, Approval a) {
      approvals.put(key, a);
      return this;
    }

    Builder now(Instant t) {
      now = t;
      return this;
    }

    PlanInput build() {
      return new PlanInput(
          drifts,
          options,
          mode,
          paused,
          circuitOpen,
          limits,
          new RepairHistory(scripts, starts, running),
          approvals,
          now,
          podPolicies());
    }

    private dev.stateprobe.policy.PodPolicies podPolicies() {
      var b =
          dev.stateprobe.policy.PodPolicies.builder(
              new dev.stateprobe.policy.PolicySet(policies, List.of(), policiesSynced),
              java.time.Duration.ofSeconds(5));
      for (TrackedDrift d : selected) {
        var target = d.key().target();
        b.pod(target.uid(), target.namespace(), Map.of("pod", target.name()));
      }
      return b.build();
    }

    List<String> plan() {
      return render(RepairPlanner.plan(build()));
    }
  }
}
