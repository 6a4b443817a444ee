package dev.stateprobe.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two jars {@code package} builds: the agent jar (the image's) carries only the agent, and the
 * demo's jar carries everything and starts the demo.
 */
class AgentJarContentsIT {
  /**
   * Entries no agent needs: the simulator, the demo, the mock API server and what only it brings.
   */
  private static final List<String> NOT_THE_AGENT =
      List.of(
          "dev/stateprobe/sim/",
          "dev/stateprobe/demo/",
          "demo/",
          "io/fabric8/mockwebserver/",
          "io/fabric8/kubernetes/client/server/mock/",
          "org/bouncycastle/");

  /**
   * vertx-web-client (fabric8's HTTP client over Vert.x) and vertx-web-common share {@code
   * io/vertx/ext/web/} with vertx-web (the mock's router): the agent keeps exactly these.
   */
  private static final List<String> WEB_CLIENT_PACKAGES =
      List.of(
          "io/vertx/ext/web/client/",
          "io/vertx/ext/web/codec/",
          "io/vertx/ext/web/common/",
          "io/vertx/ext/web/multipart/");

  static Path demoJar() {
    Path jar = AgentJar.module().resolve("target/state-probe-demo.jar");
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(jar + " is missing: run this test through `mvnw verify`");
    }
    return jar;
  }

  static List<String> entries(Path jar) throws IOException {
    try (JarFile f = new JarFile(jar.toFile())) {
      return f.stream().map(ZipEntry::getName).toList();
    }
  }

  static boolean isVertxWeb(String entry) {
    return entry.startsWith("io/vertx/ext/web/")
        && !entry.equals("io/vertx/ext/web/")
        && WEB_CLIENT_PACKAGES.stream().noneMatch(entry::startsWith);
  }

  @Test
  void theAgentJarHoldsNoSimulatorDemoMockServerVertxWebOrBouncyCastle() throws IOException {
    List<String> entries = entries(AgentJar.jar());

    assertThat(entries)
        .as("what the agent itself runs is still there")
        .contains(
            "dev/stateprobe/Main.class",
            "io/fabric8/kubernetes/client/vertx5/Vertx5HttpClientFactory.class",
            "io/vertx/ext/web/client/WebClient.class");
    assertThat(entries)
        .filteredOn(e -> NOT_THE_AGENT.stream().anyMatch(e::startsWith) || isVertxWeb(e))
        .isEmpty();
  }

  @Test
  void theFilterWouldSeeWhatTheDemoJarCarries() throws IOException {
    List<String> entries = entries(demoJar());

    for (String prefix : NOT_THE_AGENT) {
      assertThat(entries).as(prefix).anyMatch(e -> e.startsWith(prefix));
    }
    assertThat(entries).anyMatch(AgentJarContentsIT::isVertxWeb);
    assertThat(entries).contains("dev/stateprobe/demo/DemoMain.class");
  }

  @Test
  void theDemoJarStartsTheDemo(@TempDir Path dir) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path out = dir.resolve("out");
    Path err = dir.resolve("err");
    Process p =
        new ProcessBuilder(java, "-jar", demoJar().toString(), "--list")
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the demo's --list ended").isTrue();

    assertThat(p.exitValue()).as(Files.readString(err, StandardCharsets.UTF_8)).isZero();
    assertThat(Files.readString(out, StandardCharsets.UTF_8))
        .contains("delete-lost")
        .contains("expect:");
  }

  @Test
  void theAgentJarSendsADemoUserToTheDemoJar(@TempDir Path dir) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path out = dir.resolve("out");
    Path err = dir.resolve("err");
    Process p =
        new ProcessBuilder(java, "-jar", AgentJar.jar().toString(), "demo")
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the agent jar's demo mode ended").isTrue();

    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(Files.readString(err, StandardCharsets.UTF_8))
        .contains("java -jar agent/target/state-probe-demo.jar");
  }
}
