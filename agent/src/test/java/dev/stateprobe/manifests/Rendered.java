package dev.stateprobe.manifests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * A rendered install (kustomize's or Helm's output) as its objects, keyed {@code Kind/name}. Both
 * renderers print plain multi-document YAML; a key seen twice is an error.
 */
final class Rendered {
  private static final YAMLMapper YAML = new YAMLMapper();

  private final Map<String, ObjectNode> objects;

  private Rendered(Map<String, ObjectNode> objects) {
    this.objects = objects;
  }

  static Rendered parse(String text, String source) {
    Map<String, ObjectNode> objects = new TreeMap<>();
    try (var parser = YAML.createParser(text)) {
      for (JsonNode doc : YAML.readValues(parser, JsonNode.class).readAll()) {
        if (doc == null || doc.isNull() || doc.isMissingNode() || doc.isEmpty()) {
          continue;
        }
        if (!(doc instanceof ObjectNode object)) {
          throw new AssertionError(source + ": a document that is not an object: " + doc);
        }
        String key = object.path("kind").asString() + "/" + object.at("/metadata/name").asString();
        if (objects.put(key, object) != null) {
          throw new AssertionError(source + " renders " + key + " twice");
        }
      }
    }
    return new Rendered(objects);
  }

  /**
   * {@code kubectl kustomize DIR}. kubectl (1.27 or newer: kustomize v5) must be on the PATH; the
   * test fails, rather than skips, without it: the chart's equality with the kustomizations is
   * checked nowhere else.
   */
  static Rendered kustomize(Path dir) {
    try {
      Path out = Files.createTempFile("kustomize", ".yaml");
      Path err = Files.createTempFile("kustomize", ".err");
      try {
        Process p;
        try {
          p =
              new ProcessBuilder("kubectl", "kustomize", dir.toString())
                  .redirectOutput(out.toFile())
                  .redirectError(err.toFile())
                  .start();
        } catch (IOException e) {
          throw new AssertionError(
              "cannot run `kubectl kustomize` (kubectl 1.27 or newer must be on the PATH): "
                  + e.getMessage(),
              e);
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          throw new AssertionError("kubectl kustomize " + dir + " did not finish in 120 s");
        }
        if (p.exitValue() != 0) {
          throw new AssertionError(
              "kubectl kustomize "
                  + dir
                  + " exited "
                  + p.exitValue()
                  + ": "
                  + Files.readString(err, StandardCharsets.UTF_8));
        }
        return parse(Files.readString(out, StandardCharsets.UTF_8), "kubectl kustomize " + dir);
      } finally {
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  Map<String, ObjectNode> objects() {
    return objects;
  }

  ObjectNode get(String key) {
    ObjectNode o = objects.get(key);
    if (o == null) {
      throw new AssertionError("no " + key + " among " + objects.keySet());
    }
    return o;
  }

  boolean has(String key) {
    return objects.containsKey(key);
  }

  List<String> keys() {
    return new ArrayList<>(objects.keySet());
  }

  static JsonNode yaml(String text) {
    return YAML.readTree(text);
  }
}
