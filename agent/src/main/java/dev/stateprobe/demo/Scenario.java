package dev.stateprobe.demo;

/**
 * One way to break the simulated node, with what the agent must do about it. A scenario says which
 * drifts must be confirmed and which repairs must run ({@link Play#expect}); the runner judges the
 * rest: nothing else confirmed, no other repair, every record in the API server, none twice.
 * Instances hold the state of one run (the pods they made): make a new one per run.
 */
public interface Scenario {

  /** Short, stable, kebab-case: the {@code --scenario} argument and the test's name. */
  String name();

  /** What goes wrong, for people. */
  String title();

  /** What the agent should do about it, in one line. */
  String expectation();

  /** Breaks the node, states the expectations, and waits for the agent's answer. */
  void play(Play play) throws Exception;

  /**
   * Undoes what {@link #play} did, so that the next scenario starts on a clean node. Runs even when
   * {@code play} failed half-way.
   */
  void cleanup(Play play) throws Exception;

  /** A step that may throw. */
  @FunctionalInterface
  interface Step {
    void run() throws Exception;
  }
}
