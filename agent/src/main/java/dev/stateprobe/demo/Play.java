package dev.stateprobe.demo;

import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.repair.job.Phase;
import dev.stateprobe.sim.SimNode;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * What a scenario can do while it runs: act on the node (each act is a line of the live output),
 * state its expectations, and wait for the agent. Every wait is bounded by {@link
 * Timing#patience()}; one that runs out fails the scenario with what it waited for.
 */
public interface Play {

  SimNode node();

  Timing timing();

  Observer observer();

  /**
   * Creates a pod from the node's template and waits until the agent sees it on both sides with no
   * drift: the scenario's starting point.
   */
  Pod createSettledPod(String namespace, String name, UnaryOperator<Pod> edit);

  /** The fault: printed as the scenario's time zero (the first one), then done. */
  void inject(String what, Scenario.Step action) throws Exception;

  /** A later change, printed at its time. */
  void act(String what, Scenario.Step action) throws Exception;

  /** A line of the live output. */
  void note(String text);

  /**
   * This drift must be confirmed, repaired by {@code script} in one attempt, and verified Resolved.
   */
  void expect(DriftKey drift, String script);

  /**
   * This drift must be confirmed, and {@code script}'s record must end in {@code phase} after
   * exactly {@code attempts} attempts (Succeeded ones verified Resolved). Call once per script for
   * escalations.
   */
  void expectRepair(DriftKey drift, String script, Phase phase, int attempts);

  /** This drift must be confirmed, and no repair may run for it. */
  void expectUnrepaired(DriftKey drift);

  /** Waits until every expected drift is confirmed. */
  void awaitConfirmed() throws Exception;

  /**
   * Waits until every expected record reached its phase and attempts, and every success its verdict
   * (Resolved or Unresolved).
   */
  void awaitRepairs() throws Exception;

  /** Waits until none of the expected drifts is tracked any more. */
  void awaitGone() throws Exception;

  /** Waits for {@code n} more trusted cycles. */
  void awaitTrustedCycles(int n) throws Exception;

  /** Waits until {@code condition} holds (checked after every cycle). */
  void await(String what, BooleanSupplier condition) throws Exception;

  /** Waits until {@code condition} holds, at most {@code timeout}. */
  void await(String what, Duration timeout, BooleanSupplier condition) throws Exception;

  /** The drifts suspected since the first {@link #inject}. */
  Set<DriftKey> suspected();

  /**
   * Why cycles were not trusted since the first {@link #inject} (the trust gate's reasons, such as
   * {@code kubelet_poll_failed}); empty when every cycle was trusted.
   */
  Set<String> untrustedReasons();

  /** Lets {@code duration} pass, printing what the agent does meanwhile. */
  void hold(String what, Duration duration);

  /** A requirement of this scenario beyond its drifts and repairs. */
  void check(boolean ok, String problem);

  /** A finding for the summary (how many re-lists, when the breaker opened, ...). */
  void fact(String fact);
}
