package dev.stateprobe.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A stand-in for the runtime image's userland (eclipse-temurin:25-jre-alpine): a folder laid out as
 * Alpine's root, whose {@code bin}, {@code sbin}, {@code usr/bin} and {@code usr/sbin} hold one
 * symlink to BusyBox per applet that Alpine's BusyBox has, at Alpine's path for it ({@link
 * ScriptUserland#APPLETS}: {@code setsid} is {@code usr/bin/setsid}, {@code kill} and {@code ps}
 * are {@code bin/...}). {@link ScriptUserland} is the same applets as one flat PATH folder.
 * Programs the Dockerfile adds with apk (bash, curl, jq, ...) are linked from this machine into
 * {@code usr/bin} on request.
 *
 * <p>Give a script {@link #path()} as its whole PATH and every program it calls by name is the
 * image's. Limits: absolute paths in shebangs ({@code #!/usr/bin/env}) still reach this machine's
 * files; the applets' behaviour is the same BusyBox code (Debian's build). Test scope only.
 */
public final class ImageUserland {
  /** The directories of the scripts' fixed PATH, in its order (ScriptEnv.DEFAULT_PATH). */
  private static final List<String> PATH_DIRS =
      List.of("usr/local/sbin", "usr/local/bin", "usr/sbin", "usr/bin", "sbin", "bin");

  private static final List<Path> BUSYBOX =
      List.of(Path.of("/usr/bin/busybox"), Path.of("/bin/busybox"));

  private final Path root;
  private final Path busybox;

  private ImageUserland(Path root, Path busybox) {
    this.root = root;
    this.busybox = busybox;
  }

  /**
   * Lays out the userland under {@code root} (created if needed).
   *
   * @param packages programs the image installs besides BusyBox (the Dockerfile's {@code apk add}),
   *     linked from this machine's PATH into {@code usr/bin}; each replaces an applet of that name
   * @throws IllegalStateException when BusyBox or one of {@code packages} is not installed here:
   *     the test cannot say anything about the image then, so it fails rather than skips
   */
  public static ImageUserland create(Path root, String... packages) throws IOException {
    Path busybox =
        BUSYBOX.stream()
            .filter(Files::isExecutable)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "BusyBox is not installed (looked at "
                            + BUSYBOX
                            + "): apt-get install busybox; the image's userland is BusyBox"));
    for (String dir : PATH_DIRS) {
      Files.createDirectories(root.resolve(dir));
    }
    for (String applet : ScriptUserland.appletPaths()) {
      Path link = root.resolve(applet.substring(1));
      Files.createDirectories(link.getParent());
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, busybox);
    }
    for (String program : packages) {
      Path host =
          hostProgram(program)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          program + " is not installed here, and the image installs it"));
      Path link = root.resolve("usr/bin").resolve(program);
      Files.deleteIfExists(link);
      Files.createSymbolicLink(link, host);
    }
    return new ImageUserland(root, busybox);
  }

  /** The folder standing for the image's {@code /}. */
  public Path root() {
    return root;
  }

  /** The BusyBox binary every applet links to. */
  public Path busybox() {
    return busybox;
  }

  /** The scripts' fixed PATH with every directory moved under {@link #root()}. */
  public String path() {
    return String.join(":", PATH_DIRS.stream().map(d -> root.resolve(d).toString()).toList());
  }

  /** Where the image has {@code absolute} (such as {@code /usr/bin/setsid}), under the root. */
  public Path resolve(String absolute) {
    return root.resolve(absolute.replaceFirst("^/+", ""));
  }

  private static Optional<Path> hostProgram(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path p = Path.of(dir.isEmpty() ? "." : dir, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
