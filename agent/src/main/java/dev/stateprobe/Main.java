package dev.stateprobe;

/** Composition root. PLACEHOLDER until the wiring lands. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("state-probe: modes agent, check, repair-test, demo");
  }
}
