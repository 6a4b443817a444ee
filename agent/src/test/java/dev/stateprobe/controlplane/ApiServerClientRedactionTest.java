package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stateprobe.testing.TestClock;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Error texts a list/watch logs never carry the bearer token. */
class ApiServerClientRedactionTest {

  @Test
  void theTokenInUseAndAnyBearerCredentialAreRedacted() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Config config =
          new ConfigBuilder(Config.empty())
              .withMasterUrl("http://127.0.0.1:1/")
              .withOauthToken("eyJhbGciOi.secret-token-value")
              .build();
      ApiServerClient client =
          new ApiServerClient(
              vertx,
              config,
              vertx.createSharedWorkerExecutor("redaction-test", 1),
              new TestClock(Instant.parse("2026-12-06T12:00:00Z")));

      String redacted =
          client.redact(
              "401 for token eyJhbGciOi.secret-token-value; header Authorization: Bearer"
                  + " other-token.123 was refused");

      assertThat(redacted)
          .doesNotContain("secret-token-value")
          .doesNotContain("other-token.123")
          .contains("401 for token [REDACTED]")
          .contains("Bearer [REDACTED] was refused");
      assertThat(client.redact("nothing secret")).isEqualTo("nothing secret");
      client.close();
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }
}
