package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.config.AgentConfig.KubeletSettings;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.metrics.Metrics;
import dev.stateprobe.testing.TestClock;
import dev.stateprobe.view.KubeletView;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.net.SelfSignedCertificate;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The direct source offers ChaCha20-Poly1305 first, so that a kubelet that follows the client's
 * order (Go's crypto/tls does) decrypts nothing with AES-GCM, which C1 code runs without
 * intrinsics; and it still reaches a kubelet that speaks only AES-GCM. The server here is a plain
 * JDK TLS socket told to follow the client's order, the way Go's server does, and it records what
 * was negotiated.
 */
class CipherPreferenceIT {
  private static final String CHACHA = "TLS_CHACHA20_POLY1305_SHA256";
  private static final String AES_256 = "TLS_AES_256_GCM_SHA384";
  private static final String AES_128 = "TLS_AES_128_GCM_SHA256";
  private static final String POD_LIST =
      "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[{\"metadata\":"
          + "{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11\"}}]}";

  private static Vertx vertx;
  private static SelfSignedCertificate certificate;
  private static SSLContext serverContext;

  @BeforeAll
  static void setUp() throws Exception {
    vertx = Vertx.vertx();
    certificate = SelfSignedCertificate.create("localhost");
    serverContext = serverContext(certificate);
  }

  @AfterAll
  static void tearDown() {
    certificate.delete();
    vertx.close().await();
  }

  @Test
  void theClientNamesEveryChaCha20SuiteBeforeAnyOtherAndDropsNone() throws Exception {
    List<String> defaults =
        Arrays.asList(SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites());
    List<String> preferred = DirectKubeletSource.cipherSuitePreference();

    assertThat(preferred).containsExactlyInAnyOrderElementsOf(defaults);
    assertThat(preferred.getFirst()).isEqualTo(CHACHA);
    int lastChaCha = -1;
    int firstOther = Integer.MAX_VALUE;
    for (int i = 0; i < preferred.size(); i++) {
      if (preferred.get(i).contains("CHACHA20")) {
        lastChaCha = i;
      } else {
        firstOther = Math.min(firstOther, i);
      }
    }
    assertThat(lastChaCha).isLessThan(firstOther);
  }

  @Test
  void aKubeletThatFollowsTheClientsOrderNegotiatesChaCha20() throws Exception {
    assertThat(pollAgainst(AES_256, AES_128, CHACHA)).isEqualTo(CHACHA);
  }

  @Test
  void aKubeletWithoutChaCha20IsStillReadOverAesGcm() throws Exception {
    assertThat(pollAgainst(AES_256, AES_128)).isEqualTo(AES_256);
  }

  /** One /pods poll against a server offering {@code suites}; what the server negotiated. */
  private String pollAgainst(String... suites) throws Exception {
    try (SSLServerSocket server =
        (SSLServerSocket)
            serverContext
                .getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      SSLParameters p = server.getSSLParameters();
      p.setProtocols(new String[] {"TLSv1.3"});
      p.setCipherSuites(suites);
      p.setUseCipherSuitesOrder(false); // the client's order decides, as in Go's server
      server.setSSLParameters(p);
      CompletableFuture<String> negotiated = CompletableFuture.supplyAsync(() -> serveOnce(server));

      Path token = Files.createTempFile("token", "");
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      Instant now = Instant.parse("2026-11-26T10:00:00Z");
      Metrics metrics = new Metrics(registry, "test", now::toEpochMilli);
      try (DirectKubeletSource source =
          new DirectKubeletSource(
              vertx,
              new KubeletSettings(
                  URI.create("https://localhost:" + server.getLocalPort()),
                  Files.writeString(token, "t"),
                  Optional.of(Path.of(certificate.certificatePath())),
                  false,
                  false,
                  Duration.ofSeconds(10),
                  Duration.ofSeconds(15),
                  1024 * 1024,
                  Duration.ofMinutes(5)),
              new PodJsonDecoder(),
              metrics,
              new TestClock(now))) {
        KubeletView view = source.pollPods().await(20, TimeUnit.SECONDS);
        assertThat(view.podsByUid().keySet())
            .containsExactly("0b0bd6b2-9d0e-4c6f-8d35-1b0e7d0c1a11");
      } finally {
        metrics.close();
        Files.deleteIfExists(token);
      }
      return negotiated.get(20, TimeUnit.SECONDS);
    }
  }

  private static String serveOnce(SSLServerSocket server) {
    try (SSLSocket socket = (SSLSocket) server.accept()) {
      socket.startHandshake();
      String suite = socket.getSession().getCipherSuite();
      InputStream in = socket.getInputStream();
      int state = 0; // the request ends at the first empty line
      while (state < 4) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        state = (b == '\r' && state % 2 == 0) || (b == '\n' && state % 2 == 1) ? state + 1 : 0;
      }
      byte[] body = POD_LIST.getBytes(StandardCharsets.UTF_8);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                  + body.length
                  + "\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      return suite;
    } catch (Exception e) {
      throw new IllegalStateException("the test kubelet failed", e);
    }
  }

  private static SSLContext serverContext(SelfSignedCertificate cert) throws Exception {
    String pem = Files.readString(Path.of(cert.privateKeyPath()));
    byte[] der =
        Base64.getMimeDecoder()
            .decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
    PrivateKey key;
    try {
      key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (java.security.spec.InvalidKeySpecException e) {
      key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    }
    Certificate certificate =
        CertificateFactory.getInstance("X.509")
            .generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(Path.of(cert.certificatePath()))));
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("kubelet", key, new char[0], new Certificate[] {certificate});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, new char[0]);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), null, null);
    return context;
  }
}
