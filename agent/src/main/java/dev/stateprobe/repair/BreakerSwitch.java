package dev.stateprobe.repair;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.drift.CycleResult;
import dev.stateprobe.events.EventRecorder;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.repair.planner.CircuitBreaker;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's circuit breaker as the controller holds it: the pure {@link CircuitBreaker} stepped
 * once per trusted cycle, its gauge, and the log line and node Event when it opens or closes. Runs
 * on the agent's context.
 */
final class BreakerSwitch {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final AgentConfig.Repair config;
  private final EventRecorder events;
  private final Metrics metrics;
  private CircuitBreaker breaker;

  /** What the breaker counted when it last opened; null until it does. */
  private volatile RepairController.CircuitReading lastOpening;

  BreakerSwitch(AgentConfig.Repair config, EventRecorder events, Metrics metrics) {
    this.config = config;
    this.events = events;
    this.metrics = metrics;
    this.breaker =
        CircuitBreaker.closed(
            config.circuitMin(), config.circuitPercent(), config.circuitRecovery());
  }

  boolean open() {
    return breaker.open();
  }

  Optional<RepairController.CircuitReading> lastOpening() {
    return Optional.ofNullable(lastOpening);
  }

  /**
   * The breaker counts every drift the tracker holds, suspected ones too, not only confirmed ones:
   * a kubelet whose list shrinks over a few polls confirms its first drifts a cycle before the rest
   * are even suspected, and those first few would be repaired before a confirmed-only count ever
   * crossed the threshold (seen in the demo's half-the-pods scenario). A flood of suspicions is
   * already evidence that the views are wrong.
   */
  void step(CycleResult cycle, Instant now) {
    int drifts = cycle.drifts().size();
    int pods =
        Math.max(
            cycle.snapshot().controlPlane().size(),
            cycle.snapshot().kubelet().map(k -> k.size()).orElse(0));
    CircuitBreaker.Step step = breaker.step(drifts, pods, now);
    breaker = step.state();
    metrics.circuit(breaker.open(), drifts, step.threshold());
    switch (step.transition()) {
      case OPENED -> {
        lastOpening =
            new RepairController.CircuitReading(
                drifts, cycle.confirmed().size(), step.threshold(), pods);
        LOG.warn(
            "event=circuit_open cycle={} drifts={} confirmed={} threshold={} nodePods={}",
            cycle.cycle(),
            drifts,
            cycle.confirmed().size(),
            step.threshold(),
            pods);
        events.node(
            EventRecorder.Type.WARNING,
            "CircuitOpen",
            "Repair",
            drifts
                + " drifts ("
                + cycle.confirmed().size()
                + " confirmed) exceed the threshold of "
                + step.threshold()
                + ": the views are more likely wrong than the pods; no repairs until it stays under"
                + " it for "
                + config.circuitRecovery());
      }
      case CLOSED ->
          LOG.info(
              "event=circuit_closed cycle={} drifts={} threshold={}",
              cycle.cycle(),
              drifts,
              step.threshold());
      case NONE -> {}
    }
  }
}
