package dev.stateprobe.manifests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/**
 * Follows kustomization files the way kustomize does: resources and components (a file, or a folder
 * with its own kustomization.yaml), patch files and generator files. Every reference must resolve.
 * The exceptions are the files other branches write (the CRD, the catalog and the scripts), and
 * only while they are absent: once they land, they are checked like any other.
 */
final class Kustomizations {
  private final RepoFiles repo;

  Kustomizations(RepoFiles repo) {
    this.repo = repo;
  }

  /** Every file a build of {@code dir} reads, kustomization files included. */
  Set<Path> reachedFrom(Path dir) {
    Set<Path> reached = new LinkedHashSet<>();
    visit(dir.normalize(), reached, new ArrayList<>());
    return reached;
  }

  private void visit(Path dir, Set<Path> reached, List<Path> stack) {
    Path file = dir.resolve("kustomization.yaml");
    if (!Files.isRegularFile(file)) {
      throw new AssertionError(
          dir + " is referenced as a kustomization but has no kustomization.yaml");
    }
    if (stack.contains(dir)) {
      throw new AssertionError("kustomization cycle: " + stack + " -> " + dir);
    }
    stack.add(dir);
    reached.add(file);
    JsonNode k = repo.yamlTree(file);
    for (String field : List.of("resources", "components")) {
      for (JsonNode ref : k.path(field)) {
        Path target = dir.resolve(ref.asString()).normalize();
        if (Files.isDirectory(target)) {
          visit(target, reached, stack);
        } else {
          reached.add(existing(file, ref.asString(), target));
        }
      }
    }
    for (JsonNode patch : k.path("patches")) {
      if (patch.has("path")) {
        reached.add(
            existing(
                file, patch.path("path").asString(), dir.resolve(patch.path("path").asString())));
      }
    }
    for (String field : List.of("configMapGenerator", "secretGenerator")) {
      for (JsonNode generator : k.path(field)) {
        for (JsonNode source : generator.path("files")) {
          String spec = source.asString();
          String path = spec.contains("=") ? spec.substring(spec.indexOf('=') + 1) : spec;
          reached.add(existing(file, spec, dir.resolve(path)));
        }
      }
    }
    stack.remove(stack.size() - 1);
  }

  private Path existing(Path kustomization, String reference, Path target) {
    Path normalized = target.normalize();
    if (Files.isRegularFile(normalized) || isPending(normalized)) {
      return normalized;
    }
    throw new AssertionError(
        kustomization + " references '" + reference + "', which does not exist");
  }

  /** True only for the exact paths of files other branches write, and only while absent. */
  boolean isPending(Path path) {
    Path p = path.normalize();
    if (Files.exists(p)) {
      return false;
    }
    if (p.equals(repo.manifests().resolve(RepoFiles.CRD).normalize())) {
      return true;
    }
    return RepoFiles.REPAIR_FILES.stream().anyMatch(f -> repo.resolve(f).normalize().equals(p));
  }
}
