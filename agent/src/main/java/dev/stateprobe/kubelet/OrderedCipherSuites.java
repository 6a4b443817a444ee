package dev.stateprobe.kubelet;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.vertx.core.net.JdkSSLEngineOptions;
import io.vertx.core.spi.tls.SslContextFactory;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * The JDK TLS engine, offering its enabled cipher suites in a given order. Needed because Vert.x
 * 5.0.7 keeps the enabled suites of {@code HttpClientOptions} in a {@code LinkedHashSet} but
 * copies them into a {@code HashSet} before building the TLS context, so the order a client
 * offers them in is the hash order (measured: AES-128-GCM, AES-256-GCM, ChaCha20, whatever order
 * they were added in). This puts the order back where the context is made; which suites are
 * enabled is still decided by the options.
 */
final class OrderedCipherSuites extends JdkSSLEngineOptions {
  private final List<String> order;

  /** @param order suites in the order to offer them; enabled suites not in it follow, as given */
  OrderedCipherSuites(List<String> order) {
    this.order = List.copyOf(order);
  }

  private OrderedCipherSuites(OrderedCipherSuites other) {
    super(other);
    this.order = other.order;
  }

  /** Vert.x copies its options; a plain copy would lose the order. */
  @Override
  public OrderedCipherSuites copy() {
    return new OrderedCipherSuites(this);
  }

  @Override
  public SslContextFactory sslContextFactory() {
    return new Factory(super.sslContextFactory());
  }

  /** The suites of {@code enabled} in {@link #order}; an empty set stays empty (JDK defaults). */
  Set<String> ordered(Set<String> enabled) {
    Set<String> out = new LinkedHashSet<>();
    for (String suite : order) {
      if (enabled.contains(suite)) {
        out.add(suite);
      }
    }
    out.addAll(enabled);
    return out;
  }

  private final class Factory implements SslContextFactory {
    private final SslContextFactory delegate;

    Factory(SslContextFactory delegate) {
      this.delegate = delegate;
    }

    @Override
    public SslContextFactory enabledCipherSuites(Set<String> cipherSuites) {
      delegate.enabledCipherSuites(ordered(cipherSuites));
      return this;
    }

    @Override
    public SslContextFactory useAlpn(boolean useAlpn) {
      delegate.useAlpn(useAlpn);
      return this;
    }

    @Override
    public SslContextFactory clientAuth(ClientAuth clientAuth) {
      delegate.clientAuth(clientAuth);
      return this;
    }

    @Override
    public SslContextFactory forClient(boolean forClient) {
      delegate.forClient(forClient);
      return this;
    }

    @Override
    public SslContextFactory keyMananagerFactory(KeyManagerFactory kmf) {
      delegate.keyMananagerFactory(kmf);
      return this;
    }

    @Override
    public SslContextFactory trustManagerFactory(TrustManagerFactory tmf) {
      delegate.trustManagerFactory(tmf);
      return this;
    }

    @Override
    public SslContextFactory applicationProtocols(List<String> applicationProtocols) {
      delegate.applicationProtocols(applicationProtocols);
      return this;
    }

    @Override
    public SslContextFactory serverName(String serverName) {
      delegate.serverName(serverName);
      return this;
    }

    @Override
    public SslContext create() throws SSLException {
      return delegate.create();
    }
  }
}
