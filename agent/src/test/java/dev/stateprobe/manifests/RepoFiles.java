package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * The repository's deployment files, read relative to the agent module (surefire's working
 * directory), so the tests check the files as committed rather than copies.
 */
final class RepoFiles {
  /** The CRD of ConsistencyRepairJobs. */
  static final String CRD = "crds/consistencyrepairjobs.stateprobe.dev.yaml";

  /** The catalog, the shipped scripts and their shared library (relative to the root). */
  static final java.util.Set<String> REPAIR_FILES =
      java.util.Set.of(
          "repair-scripts/catalog.yaml",
          "repair-scripts/remove-orphaned-sandbox.sh",
          "repair-scripts/force-delete-stuck-pod.sh",
          "repair-scripts/recreate-controlled-pod.sh",
          "repair-scripts/restart-kubelet.sh",
          "repair-scripts/pod-api.sh");

  private final Path root;
  private final KubernetesSerialization serialization = new KubernetesSerialization();
  private final YAMLMapper yaml = new YAMLMapper();

  RepoFiles() {
    this.root = Path.of("..").toAbsolutePath().normalize();
    assertTrue(
        Files.isRegularFile(root.resolve("manifests/kustomization.yaml")),
        "expected the repository root at " + root + " (run from the agent module)");
  }

  Path root() {
    return root;
  }

  Path manifests() {
    return root.resolve("manifests");
  }

  Path resolve(String relative) {
    return root.resolve(relative);
  }

  String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Every regular file below {@code dir}, as paths relative to it with '/' separators. */
  List<String> filesUnder(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile)
          .map(p -> dir.relativize(p).toString().replace('\\', '/'))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  /** The documents of a YAML file; empty ones (comments only) are dropped. */
  List<String> documents(Path file) {
    List<String> docs = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : read(file).split("\n", -1)) {
      if (line.equals("---")) {
        docs.add(current.toString());
        current.setLength(0);
      } else {
        current.append(line).append('\n');
      }
    }
    docs.add(current.toString());
    return docs.stream().filter(d -> !yamlTree(d, file).isMissingNode()).toList();
  }

  JsonNode yamlTree(Path file) {
    return yamlTree(read(file), file);
  }

  JsonNode yamlTree(String text, Path source) {
    try {
      JsonNode node = yaml.readTree(text);
      return node == null || node.isNull() ? yaml.missingNode() : node;
    } catch (RuntimeException e) {
      throw new AssertionError(source + " is not valid YAML: " + e.getMessage(), e);
    }
  }

  JsonNode jsonTree(Path file) {
    try {
      return new tools.jackson.databind.ObjectMapper().readTree(read(file));
    } catch (RuntimeException e) {
      throw new AssertionError(file + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  /** Parses one object with fabric8, as the given type; fails naming the file. */
  <T extends HasMetadata> T object(Path file, Class<T> type) {
    List<String> docs = documents(file);
    if (docs.size() != 1) {
      throw new AssertionError(file + " should hold one object, holds " + docs.size());
    }
    Object parsed = serialization.unmarshal(docs.get(0));
    if (!type.isInstance(parsed)) {
      throw new AssertionError(
          file
              + " parsed as "
              + (parsed == null ? "null" : parsed.getClass().getName())
              + ", expected "
              + type.getName());
    }
    return type.cast(parsed);
  }

  KubernetesSerialization serialization() {
    return serialization;
  }
}
