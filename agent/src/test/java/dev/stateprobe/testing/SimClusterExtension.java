package dev.stateprobe.testing;

import dev.stateprobe.sim.SimCluster;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One simulated cluster (or anything built on one) shared by the tests of a class: built before the
 * first test, closed after the last, whatever they did. Register it as a static field:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final SimClusterExtension<SimCluster> SIM =
 *     SimClusterExtension.of(SimCluster.builder().nodes(20).env("REPAIR_MODE", "on"));
 * ... SIM.get().node(3) ...
 * }</pre>
 */
public final class SimClusterExtension<T extends AutoCloseable>
    implements BeforeAllCallback, AfterAllCallback {
  /** Builds the shared fixture; may block. */
  @FunctionalInterface
  public interface Factory<T> {
    T build() throws Exception;
  }

  private final Factory<T> factory;
  private volatile T value;

  private SimClusterExtension(Factory<T> factory) {
    this.factory = factory;
  }

  public static SimClusterExtension<SimCluster> of(SimCluster.Builder builder) {
    return new SimClusterExtension<>(builder::build);
  }

  public static <T extends AutoCloseable> SimClusterExtension<T> of(Factory<T> factory) {
    return new SimClusterExtension<>(factory);
  }

  /** The fixture; only inside the class's tests. */
  public T get() {
    T v = value;
    if (v == null) {
      throw new IllegalStateException("the shared simulated cluster is only there during tests");
    }
    return v;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    value = factory.build();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    T v = value;
    value = null;
    if (v != null) {
      v.close();
    }
  }
}
