package dev.stateprobe.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * The demo's files, read from the classpath ({@code /demo/}, inside the jar): the kubelet capture
 * the simulated node is built from, the CRD, the discovery documents, and the demo catalog with its
 * scripts, which are extracted to a folder because the agent runs scripts from files. The capture,
 * the CRD and the scripts' prologue are copied into the jar by the build from their originals (the
 * test fixtures, {@code manifests/crds/}, {@code repair-scripts/}). {@code SimCluster} reads the
 * capture, the CRD and the discovery documents from the same folder; the names here are the ones
 * the build copies.
 */
public final class DemoResources {
  static final String CAPTURE = "kubelet-pods_k8s-1.35_minikube-containerd_nri-kubernetes.json";
  static final String CRD = "consistencyrepairjobs.stateprobe.dev.yaml";
  static final String DISCOVERY = "discovery.json";
  static final String CATALOG = "catalog.yaml";

  /** The catalog's scripts: a jar cannot be listed, so they are named here. */
  static final List<String> SCRIPTS =
      List.of("stop-sandbox.sh", "recreate-controlled-pod.sh", "restart-kubelet.sh");

  /**
   * What the scripts source from their own folder: the shipped scripts' prologue, which the build
   * copies into the jar from {@code repair-scripts/}.
   */
  static final List<String> SOURCED = List.of("pod-api.sh");

  private DemoResources() {}

  /** The bytes of {@code /demo/name}. */
  public static byte[] read(String name) {
    try (InputStream in = DemoResources.class.getResourceAsStream("/demo/" + name)) {
      if (in == null) {
        throw new IllegalStateException("demo resource /demo/" + name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read demo resource /demo/" + name, e);
    }
  }

  /**
   * Writes the demo catalog to {@code dir/catalog.yaml} and its scripts to {@code dir/scripts/},
   * executable, with the file they source beside them; answers the catalog's path.
   */
  public static Path extractCatalog(Path dir) throws IOException {
    Path scripts = Files.createDirectories(dir.resolve("scripts"));
    for (String name : SCRIPTS) {
      Path file = scripts.resolve(name);
      Files.write(file, read("scripts/" + name));
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    for (String name : SOURCED) {
      // Sourced, never run: readable is enough.
      Path file = scripts.resolve(name);
      Files.write(file, read("scripts/" + name));
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    }
    Path catalog = dir.resolve(CATALOG);
    writeAtomically(catalog, read(CATALOG));
    return catalog;
  }

  /**
   * Replaces {@code file} in one step (write aside, then rename), as a ConfigMap update does: a
   * reader never sees half a file.
   */
  public static void writeAtomically(Path file, byte[] content) throws IOException {
    Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName(), ".tmp");
    Files.write(tmp, content);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
