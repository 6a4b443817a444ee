package dev.stateprobe.cli;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.vertx5.Vertx5HttpClientFactory;
import io.vertx.core.Vertx;

/**
 * Builds fabric8's client. A class of its own so that nothing of fabric8's implementation is loaded
 * (not even to verify a caller) until a client is actually built.
 */
final class FabricClients {
  private FabricClients() {}

  /**
   * Builds the client on first {@link #get()}. A class, not a lambda: a lambda returning the client
   * would load fabric8's {@code KubernetesClient} as soon as it is made.
   */
  static final class Lazy implements java.util.function.Supplier<KubernetesClient> {
    private final Vertx vertx;
    private final Config config;
    private KubernetesClient client;

    Lazy(Vertx vertx, Config config) {
      this.vertx = vertx;
      this.config = config;
    }

    @Override
    public synchronized KubernetesClient get() {
      if (client == null) {
        client = build(vertx, config);
      }
      return client;
    }

    /** Closes the client if it was ever built. */
    synchronized void closeIfBuilt() {
      if (client != null) {
        client.close();
      }
    }
  }

  /** fabric8 on the agent's own Vert.x: one set of event-loop threads for everything. */
  static KubernetesClient build(Vertx vertx, Config config) {
    return new KubernetesClientBuilder()
        .withConfig(config)
        .withHttpClientFactory(new Vertx5HttpClientFactory(vertx))
        .build();
  }
}
