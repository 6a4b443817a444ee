package dev.stateprobe.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The shipped jar as the DaemonSet runs it: {@code agent/target/state-probe.jar} with the {@code
 * JAVA_TOOL_OPTIONS} of {@code manifests/base/daemonset.yaml}, read from the manifest at run time
 * (as the footprint harness does) so that a smaller or larger heap there is the heap tested here.
 */
final class AgentJar {
  private AgentJar() {}

  static Path module() {
    return Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  }

  /** {@code agent/target/state-probe.jar}: failsafe runs after {@code package} made it. */
  static Path jar() {
    Path jar = module().resolve("target/state-probe.jar");
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(jar + " is missing: run this test through `mvnw verify`");
    }
    return jar;
  }

  /** The DaemonSet container's {@code JAVA_TOOL_OPTIONS}, as the manifest has them. */
  static String daemonSetJvmFlags() {
    Path manifest = module().resolve("../manifests/base/daemonset.yaml").normalize();
    JsonNode ds;
    try {
      ds = new YAMLMapper().readTree(Files.readString(manifest));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (JsonNode c : ds.path("spec").path("template").path("spec").path("containers")) {
      for (JsonNode env : c.path("env")) {
        if (env.path("name").asString("").equals("JAVA_TOOL_OPTIONS")) {
          String flags = env.path("value").asString("").strip();
          if (!flags.contains("-Xmx")) {
            throw new AssertionError("no -Xmx in the DaemonSet's JAVA_TOOL_OPTIONS: " + flags);
          }
          return flags;
        }
      }
    }
    throw new AssertionError("no JAVA_TOOL_OPTIONS in " + manifest);
  }

  /** A process of the jar in {@code mode} with these variables and the DaemonSet's JVM flags. */
  static ProcessBuilder command(Map<String, String> env, Path stdout, Path stderr, String... args) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-jar", jar().toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    pb.environment().putAll(env);
    pb.environment().put("JAVA_TOOL_OPTIONS", daemonSetJvmFlags());
    return pb;
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
