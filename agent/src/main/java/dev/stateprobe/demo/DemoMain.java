package dev.stateprobe.demo;

import java.util.Arrays;

/**
 * Entry point of {@code state-probe-demo.jar}, the demo's own jar: the agent jar (the image's)
 * carries neither the simulator nor the demo, so the demo starts here instead of in {@code Main}.
 */
public final class DemoMain {
  private DemoMain() {}

  public static void main(String[] args) {
    System.exit(new DemoCommand(System.getenv(), System.out, System.err).run(Arrays.asList(args)));
  }
}
