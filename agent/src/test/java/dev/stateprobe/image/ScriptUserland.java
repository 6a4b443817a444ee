package dev.stateprobe.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The runtime image's userland, for tests that run what the image runs: a folder to use as the
 * whole {@code PATH}, holding one link per BusyBox applet that Alpine's BusyBox has ({@link
 * #APPLETS}, each to this machine's {@code busybox}) and the programs of the packages the
 * Dockerfile installs that can run here (bash, curl, jq). Nothing else: no Debian coreutils or
 * util-linux, so a GNU-only option or a program the image lacks fails the test as it would fail in
 * the image.
 *
 * <p>crictl (cri-tools) is not packaged for Debian: tests that need it put a fake first on the
 * PATH. The script's {@code #!/usr/bin/env bash} line is still resolved by this machine's kernel
 * and {@code env}; BusyBox's {@code env} is at the same path in the image ({@link #APPLETS}).
 *
 * <p>Fails, never skips, when busybox or a package's program is missing here: {@code .ci/run}
 * installs them ({@code apt-get install busybox bash curl jq}).
 */
public final class ScriptUserland {
  /** Alpine's BusyBox applets with their paths in the image; provenance in the file. */
  public static final Path APPLETS =
      Path.of(System.getProperty("basedir", "."))
          .resolve("src/test/resources/image/alpine-busybox-applets.txt");

  /**
   * The programs each Alpine package of the Dockerfile's {@code apk add} installs, at their paths
   * in the image. A package missing here fails {@code ImageCommandsTest}: say what it brings first.
   */
  public static final Map<String, List<String>> PACKAGE_PROGRAMS =
      Map.of(
          "bash", List.of("/bin/bash"),
          "curl", List.of("/usr/bin/curl"),
          "jq", List.of("/usr/bin/jq"),
          "cri-tools", List.of("/usr/bin/crictl"));

  /** The package programs that run here too; crictl does not (no Debian package). */
  private static final List<String> HOST_PROGRAMS = List.of("bash", "curl", "jq");

  private static final List<Path> HOST_DIRS =
      List.of(Path.of("/usr/local/bin"), Path.of("/usr/bin"), Path.of("/bin"));

  /**
   * Built once per test JVM, outside JUnit's temporary folders (which warn about links), in a
   * folder of its own so that two builds at once do not share one.
   */
  private static final Path DIR =
      Path.of(System.getProperty("basedir", "."))
          .resolve("target/image-userland-" + ProcessHandle.current().pid());

  private static ScriptUserland shared;

  private final Path dir;

  private ScriptUserland(Path dir) {
    this.dir = dir;
  }

  /** The userland, built on first use in this JVM under {@code target/image-userland-PID}. */
  public static synchronized ScriptUserland get() {
    if (shared == null) {
      shared = build(DIR);
    }
    return shared;
  }

  private static ScriptUserland build(Path dir) {
    try {
      Path busybox =
          hostProgram("busybox")
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "busybox is not installed: the scripts cannot be tested with the image's"
                              + " userland (apt-get install busybox; .ci/run installs it)"));
      Set<String> here = busyboxApplets(busybox);
      if (Files.isDirectory(dir)) {
        try (Stream<Path> old = Files.list(dir)) {
          for (Path p : old.toList()) {
            Files.delete(p); // links only: the programs they point at stay
          }
        }
      }
      Files.createDirectories(dir);
      List<String> lacking = new ArrayList<>();
      for (String applet : appletNames()) {
        if (!here.contains(applet)) {
          lacking.add(applet);
          continue;
        }
        Files.createSymbolicLink(dir.resolve(applet), busybox);
      }
      if (!lacking.isEmpty()) {
        throw new IllegalStateException(
            busybox
                + " lacks applets that Alpine's BusyBox has: "
                + lacking
                + " ("
                + APPLETS
                + ")");
      }
      for (String program : HOST_PROGRAMS) {
        Path p =
            hostProgram(program)
                .orElseThrow(
                    () ->
                        new IllegalStateException(
                            program
                                + " is not installed, and the image has it: apt-get install "
                                + program));
        Files.createSymbolicLink(dir.resolve(program), p);
      }
      return new ScriptUserland(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The folder, to be the whole PATH (or its end, after a folder of fakes). */
  public String path() {
    return dir.toString();
  }

  public Path dir() {
    return dir;
  }

  /** Paths of Alpine's applets in the image, e.g. {@code /usr/bin/setsid}, sorted. */
  public static List<String> appletPaths() {
    try (Stream<String> lines = Files.lines(APPLETS)) {
      return lines.map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Names of Alpine's applets, e.g. {@code setsid}, sorted. */
  public static Set<String> appletNames() {
    Set<String> names = new TreeSet<>();
    for (String p : appletPaths()) {
      names.add(p.substring(p.lastIndexOf('/') + 1));
    }
    return names;
  }

  private static Set<String> busyboxApplets(Path busybox) throws IOException {
    Process p = new ProcessBuilder(busybox.toString(), "--list").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(busybox + " --list failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return new TreeSet<>(Arrays.asList(out.strip().split("\\s+")));
  }

  private static java.util.Optional<Path> hostProgram(String name) {
    return HOST_DIRS.stream().map(d -> d.resolve(name)).filter(Files::isExecutable).findFirst();
  }
}
