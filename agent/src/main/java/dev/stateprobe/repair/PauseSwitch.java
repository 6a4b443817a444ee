package dev.stateprobe.repair;

import dev.stateprobe.metrics.Metrics;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node annotation {@code stateprobe.dev/paused}: read right before each repair starts, so that
 * a person's stop takes at once, and read again now and then while paused, so that removing it
 * resumes. Runs on the agent's context; the read itself on the worker pool.
 */
final class PauseSwitch {
  private static final Logger LOG = LoggerFactory.getLogger("state-probe");

  private final KubernetesClient client;
  private final String nodeName;
  private final WorkerExecutor worker;
  private final Metrics metrics;
  private final Duration refreshEvery;
  private boolean paused;
  private Instant lastRead = Instant.EPOCH;

  PauseSwitch(
      KubernetesClient client,
      String nodeName,
      WorkerExecutor worker,
      Metrics metrics,
      Duration refreshEvery) {
    this.client = client;
    this.nodeName = nodeName;
    this.worker = worker;
    this.metrics = metrics;
    this.refreshEvery = refreshEvery;
  }

  /** As last read. */
  boolean paused() {
    return paused;
  }

  /** While paused, the annotation is read again now and then, so that removing it resumes. */
  void refresh(Instant now) {
    if (paused && Duration.between(lastRead, now).compareTo(refreshEvery) >= 0) {
      lastRead = now;
      read();
    }
  }

  /** The annotation as the API server has it now. */
  Future<Boolean> read() {
    return worker
        .<Boolean>executeBlocking(
            () -> {
              Node node = client.nodes().withName(nodeName).get();
              return node != null
                  && node.getMetadata().getAnnotations() != null
                  && "true"
                      .equals(
                          node.getMetadata()
                              .getAnnotations()
                              .get(RepairController.PAUSE_ANNOTATION));
            },
            false)
        .map(
            p -> {
              if (p != paused) {
                LOG.info(
                    "event=repairs_{} annotation={}",
                    p ? "paused" : "resumed",
                    RepairController.PAUSE_ANNOTATION);
              }
              paused = p;
              metrics.paused(p);
              return p;
            });
  }
}
