package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.metrics.FailureReason;
import io.netty.channel.ConnectTimeoutException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.security.cert.CertificateException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void refusedUnknownAndConnectTimeoutsAreConnectFailures() {
    assertThat(Failures.classify(new ConnectException("Connection refused")))
        .isEqualTo(FailureReason.CONNECT);
    assertThat(Failures.classify(new UnknownHostException("kubelet.invalid")))
        .isEqualTo(FailureReason.CONNECT);
    assertThat(Failures.classify(new ConnectTimeoutException("connection timed out")))
        .isEqualTo(FailureReason.CONNECT);
  }

  @Test
  void handshakeAndCertificateProblemsAreTls() {
    assertThat(Failures.classify(new SSLHandshakeException("PKIX path building failed")))
        .isEqualTo(FailureReason.TLS);
    assertThat(Failures.classify(new IOException("wrapped", new CertificateException("expired"))))
        .isEqualTo(FailureReason.TLS);
  }

  @Test
  void timeoutsFoundDownTheCauseChainAreTimeouts() {
    assertThat(Failures.classify(new RuntimeException(new TimeoutException("idle"))))
        .isEqualTo(FailureReason.TIMEOUT);
  }

  @Test
  void aKubeletExceptionKeepsItsReason() {
    KubeletException e = new KubeletException(FailureReason.TOO_LARGE, "too big");
    assertThat(Failures.wrap("GET /pods", new RuntimeException(e)).reason())
        .isEqualTo(FailureReason.TOO_LARGE);
    assertThat(Failures.wrap("GET /pods", e)).isSameAs(e);
  }

  @Test
  void wrappedMessagesSayWhatFailedAndWhy() {
    KubeletException e =
        Failures.wrap(
            "GET /pods from https://10.0.0.1:10250", new ConnectException("Connection refused"));
    assertThat(e.getMessage())
        .isEqualTo("GET /pods from https://10.0.0.1:10250: ConnectException: Connection refused");
  }
}
