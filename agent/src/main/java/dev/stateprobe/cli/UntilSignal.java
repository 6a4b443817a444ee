package dev.stateprobe.cli;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Runs a long-lived mode until the JVM is asked to stop (SIGTERM, SIGINT), then lets it stop
 * cleanly: the shutdown hook completes the mode's stop future and waits for the mode to return,
 * because the JVM halts as soon as the hooks return.
 */
final class UntilSignal {
  /** How long the hook waits for the mode's clean stop. */
  static final long STOP_GRACE_SECONDS = 20;

  private UntilSignal() {}

  /** {@code mode} runs until the future it is given completes, and returns the exit code. */
  static int run(Function<CompletableFuture<Void>, Integer> mode) {
    CompletableFuture<Void> stop = new CompletableFuture<>();
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.complete(null);
              try {
                stopped.await(STOP_GRACE_SECONDS, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "state-probe-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return mode.apply(stop);
    } finally {
      stopped.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook is running and has just been released
      }
    }
  }
}
