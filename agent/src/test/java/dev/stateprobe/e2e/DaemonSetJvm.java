package dev.stateprobe.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * Starts the shipped jar as the DaemonSet runs it: with the {@code JAVA_TOOL_OPTIONS} read from
 * {@code manifests/base/daemonset.yaml} (never a copy of them), so a test under these flags follows
 * any change to the heap or stack there.
 */
final class DaemonSetJvm {
  private DaemonSetJvm() {}

  static Path module() {
    return Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
  }

  /** The agent container's {@code JAVA_TOOL_OPTIONS}, exactly as the DaemonSet sets it. */
  @SuppressWarnings("unchecked")
  static String javaToolOptions() {
    Path ds = module().getParent().resolve("manifests/base/daemonset.yaml");
    Object doc;
    try {
      doc = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(ds));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Object> spec =
        (Map<String, Object>)
            ((Map<String, Object>)
                    ((Map<String, Object>) ((Map<String, Object>) doc).get("spec")).get("template"))
                .get("spec");
    for (Object c : (List<Object>) spec.get("containers")) {
      for (Object e : (List<Object>) ((Map<String, Object>) c).get("env")) {
        Map<String, Object> env = (Map<String, Object>) e;
        if ("JAVA_TOOL_OPTIONS".equals(env.get("name"))) {
          return String.valueOf(env.get("value")).strip();
        }
      }
    }
    throw new AssertionError(ds + " sets no JAVA_TOOL_OPTIONS");
  }

  /** {@code agent/target/state-probe.jar}: failsafe runs after {@code package} made it. */
  static Path jar() {
    Path jar = module().resolve("target/state-probe.jar");
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(jar + " is missing: run this test through `mvnw verify`");
    }
    return jar;
  }

  /** {@code java -jar state-probe.jar agent} under the DaemonSet's flags, output to files. */
  static Process start(Map<String, String> env, Path stdout, Path stderr) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb =
        new ProcessBuilder(java, "-jar", jar().toString(), "agent")
            .redirectError(stderr.toFile())
            .redirectOutput(stdout.toFile());
    pb.environment().putAll(env);
    pb.environment().put("JAVA_TOOL_OPTIONS", javaToolOptions());
    return pb.start();
  }
}
