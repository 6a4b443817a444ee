package dev.stateprobe.image;

import dev.stateprobe.repair.exec.ProcessRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The runtime image as a root directory on this machine, and a {@link ProcessRunner} that runs a
 * script in it the way the DaemonSet runs the image: as uid and gid 65532, on a read-only root,
 * with only {@code /tmp} (the DaemonSet's emptyDir, {@code SCRIPT_TEMP_DIR}) writable. No Docker:
 * util-linux {@code unshare} makes a user and a mount namespace, bind-mounts the root onto itself,
 * mounts {@code /tmp}, {@code /proc}, the few devices a pod has and the service-account token into
 * it, remounts the root read-only, then starts a second user namespace that maps only uid and gid
 * 65532 and chroots into the root ({@code unshare --root}); the script runs there with no
 * capability at all. The network namespace is the host's, so the simulated API server on 127.0.0.1
 * is reachable as the API server is from a pod.
 *
 * <p>The layout follows the Dockerfile's runtime stage: BusyBox's applets as links to {@code
 * /bin/busybox} at Alpine's paths ({@link ScriptUserland#APPLETS}), bash, curl and jq at the paths
 * of Alpine's packages ({@link ScriptUserland#PACKAGE_PROGRAMS}) with the shared libraries {@code
 * ldd} names for them, {@code /etc/passwd} with the user {@code adduser} makes (home {@code
 * /nonexistent}), the scripts (0555) and catalog (0444) at {@code /opt/state-probe/repair-scripts}
 * and, as the DaemonSet's ConfigMap mounts them, at {@code /etc/state-probe/repair-scripts}.
 * Anything a test adds lives under {@link #TEST_DIR}, read-only like the rest.
 *
 * <p>Limits: the programs are this machine's builds (glibc, Debian's BusyBox), not Alpine's musl
 * ones; inside, every file shows the owner 65532 (a user namespace made without privileges maps one
 * uid), so the read-only mount, not file modes, is what stops writes, as {@code
 * readOnlyRootFilesystem} does in the pod. Fails, never skips, when {@code unshare} is missing or
 * the kernel refuses user namespaces: {@code .ci/run} checks both.
 */
public final class ImageRoot {
  /** The image's user and group (Dockerfile {@code USER 65532:65532}; DaemonSet runAsUser). */
  public static final int UID = 65532;

  /** The DaemonSet's {@code SCRIPT_TEMP_DIR}, its only writable mount (an emptyDir). */
  public static final String TMP = "/tmp";

  /** The image's catalog folder, the agent's default {@code CATALOG_FILE}'s. */
  public static final String IMAGE_SCRIPTS = "/opt/state-probe/repair-scripts";

  /** Where the DaemonSet mounts the catalog ConfigMap, its {@code CATALOG_FILE}'s folder. */
  public static final String CONFIGMAP_SCRIPTS = "/etc/state-probe/repair-scripts";

  /** Where Kubernetes mounts the service-account token (automountServiceAccountToken). */
  public static final String SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

  /** Test-only files (fakes, probes): not in the image, read-only like the rest. */
  public static final String TEST_DIR = "/opt/state-probe-test";

  private static final Path SHIPPED =
      Path.of(System.getProperty("basedir", "."), "..", "repair-scripts").normalize();

  private static final List<String> DEVICES = List.of("null", "zero", "full", "random", "urandom");
  private static final Pattern LDD_LIB = Pattern.compile("(/\\S+)\\s+\\(0x");

  /**
   * Run by the host's sh as root of the first user namespace: $1 the root, $2 the host folder that
   * is the pod's /tmp, $3 the host folder with the service-account token, $4 the working directory
   * inside; the rest is the command.
   */
  private static final String SETUP =
      """
      set -eu
      root=$1 tmp=$2 sa=$3 wd=$4
      shift 4
      mount --rbind "$root" "$root"
      mount --bind "$tmp" "$root/tmp"
      mount --rbind /proc "$root/proc"
      for d in %s; do mount --bind "/dev/$d" "$root/dev/$d"; done
      mount --bind -o ro "$sa" "$root%s"
      mount -o remount,bind,ro "$root"
      exec unshare --user --map-user=%d --map-group=%d --root="$root" --wd="$wd" /usr/bin/setsid "$@"
      """
          .formatted(String.join(" ", DEVICES), SERVICE_ACCOUNT, UID, UID);

  private final Path root;
  private final Path tmp;
  private final Path serviceAccount;
  private final Path unshare;

  private ImageRoot(Path root, Path tmp, Path serviceAccount, Path unshare) {
    this.root = root;
    this.tmp = tmp;
    this.serviceAccount = serviceAccount;
    this.unshare = unshare;
  }

  /**
   * Lays out the image under {@code dir/root}, with {@code dir/tmp} as its {@code /tmp} and {@code
   * dir/serviceaccount} as its service-account folder, and checks that it can be entered.
   *
   * @throws IllegalStateException naming what is missing: unshare, busybox, a package's program, or
   *     the kernel's permission to create user namespaces
   */
  public static ImageRoot create(Path dir) throws IOException {
    return create(
        dir,
        Stream.of("/usr/bin/unshare", "/bin/unshare")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst()
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "unshare (util-linux) is not installed: the image's read-only root and"
                            + " user cannot be tested (apt-get install util-linux; .ci/run"
                            + " installs it)")));
  }

  /** As {@link #create(Path)} with this {@code unshare}: tests of the refusal give a fake. */
  static ImageRoot create(Path dir, Path unshare) throws IOException {
    Path root = dir.resolve("root");
    if (Files.exists(root)) {
      throw new IllegalStateException(root + " exists: give ImageRoot a fresh folder");
    }
    ImageUserland.create(root);
    Path busybox = hostProgram("busybox");
    Set<Path> binaries = new TreeSet<>();
    copy(busybox, root.resolve("bin/busybox"));
    binaries.add(busybox);
    // Every applet links to /bin/busybox as in Alpine, not to this machine's path.
    for (String applet : ScriptUserland.appletPaths()) {
      Path link = root.resolve(applet.substring(1));
      Files.delete(link);
      Files.createSymbolicLink(link, Path.of("/bin/busybox"));
    }
    for (String program : List.of("bash", "curl", "jq")) {
      Path host = hostProgram(program);
      String inImage = ScriptUserland.PACKAGE_PROGRAMS.get(program).get(0);
      Path target = root.resolve(inImage.substring(1));
      Files.deleteIfExists(target);
      copy(host, target);
      binaries.add(host);
    }
    for (Path lib : sharedLibraries(binaries)) {
      copy(lib, root.resolve(lib.toString().substring(1)));
    }
    for (String d : List.of("tmp", "proc", "dev", "etc", "run", SERVICE_ACCOUNT.substring(1))) {
      Files.createDirectories(root.resolve(d));
    }
    for (String d : DEVICES) {
      Files.createFile(root.resolve("dev").resolve(d));
    }
    Files.createSymbolicLink(root.resolve("dev/fd"), Path.of("/proc/self/fd"));
    Files.writeString(
        root.resolve("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nstateprobe:x:65532:65532:Linux User,,,:/nonexistent:"
            + "/sbin/nologin\n");
    Files.writeString(root.resolve("etc/group"), "root:x:0:root\nstateprobe:x:65532:\n");
    // The kubelet mounts a pod's /etc/hosts.
    Files.writeString(root.resolve("etc/hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
    for (String folder : List.of(IMAGE_SCRIPTS, CONFIGMAP_SCRIPTS)) {
      Path scripts = Files.createDirectories(root.resolve(folder.substring(1)));
      try (Stream<Path> files = Files.list(SHIPPED)) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          if (name.endsWith(".sh") || name.equals("catalog.yaml")) {
            Path to = scripts.resolve(name);
            Files.copy(f, to);
            Files.setPosixFilePermissions(
                to,
                PosixFilePermissions.fromString(name.endsWith(".sh") ? "r-xr-xr-x" : "r--r--r--"));
          }
        }
      }
    }
    Files.createDirectories(root.resolve(TEST_DIR.substring(1)));
    Path tmp = Files.createDirectories(dir.resolve("tmp"));
    Path sa = Files.createDirectories(dir.resolve("serviceaccount"));
    ImageRoot image = new ImageRoot(root, tmp, sa, unshare);
    image.checkUserNamespaces();
    return image;
  }

  /** The folder that is the image's {@code /} (writable from outside, read-only inside). */
  public Path root() {
    return root;
  }

  /** Where {@code inImage} (absolute, as the script sees it) is on this machine. */
  public Path host(String inImage) {
    if (inImage.equals(TMP) || inImage.startsWith(TMP + "/")) {
      return tmp.resolve(inImage.substring(TMP.length()).replaceFirst("^/", ""));
    }
    if (inImage.startsWith(SERVICE_ACCOUNT + "/")) {
      return serviceAccount.resolve(inImage.substring(SERVICE_ACCOUNT.length() + 1));
    }
    return root.resolve(inImage.replaceFirst("^/+", ""));
  }

  /** The host folder the image's {@code /tmp} is: the executor's {@code tempBase}. */
  public Path tmp() {
    return tmp;
  }

  /** Writes the service-account token the scripts read at {@code SERVICE_ACCOUNT/token}. */
  public void serviceAccountToken(String token) throws IOException {
    Files.writeString(serviceAccount.resolve("token"), token + "\n");
  }

  /**
   * Starts {@code command} inside; {@code workingDirectory} is on this machine, under {@link
   * #tmp()} as the executor makes it with this {@code tempBase}. Arguments and environment values
   * naming a place under {@link #tmp()} or {@link #root()} on this machine (the executor checks the
   * script exists there) are rewritten to where the image has it.
   */
  public ProcessRunner runner() {
    return (command, workingDirectory, environment) -> {
      List<String> argv = new ArrayList<>();
      argv.addAll(
          List.of(
              unshare.toString(),
              "--user",
              "--map-root-user",
              "--mount",
              "--propagation",
              "private",
              "/bin/sh",
              "-c",
              SETUP,
              "image-root",
              root.toString(),
              tmp.toString(),
              serviceAccount.toString(),
              inside(workingDirectory.toString())));
      command.forEach(c -> argv.add(inside(c)));
      ProcessBuilder pb =
          new ProcessBuilder(argv).directory(workingDirectory.toFile()).redirectErrorStream(true);
      pb.environment().clear();
      environment.forEach((k, v) -> pb.environment().put(k, inside(v)));
      return pb.start();
    };
  }

  /** A host path under {@link #tmp()} or {@link #root()} as the image sees it; else unchanged. */
  private String inside(String value) {
    String base = tmp.toString();
    if (value.equals(base)) {
      return TMP;
    }
    if (value.startsWith(base + "/")) {
      return TMP + value.substring(base.length());
    }
    String top = root.toString();
    if (value.startsWith(top + "/")) {
      return value.substring(top.length());
    }
    return value;
  }

  private void checkUserNamespaces() throws IOException {
    Path probe = root.resolve(TEST_DIR.substring(1)).resolve("id.sh");
    Files.writeString(probe, "#!/bin/sh\nid -u\n");
    Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("r-xr-xr-x"));
    Process p =
        runner()
            .start(List.of(probe.toString()), tmp, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.strip().equals("" + UID)) {
        throw new IllegalStateException(
            "cannot enter the image root as uid "
                + UID
                + " with '"
                + unshare
                + " --user --mount': the kernel refuses unprivileged user namespaces here"
                + " (user.max_user_namespaces, kernel.unprivileged_userns_clone or an AppArmor/"
                + "seccomp policy), or a mount failed. Output: "
                + out.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static Path hostProgram(String name) {
    for (String dir : List.of("/usr/local/bin", "/usr/bin", "/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    throw new IllegalStateException(
        name + " is not installed, and the image has it: apt-get install " + name);
  }

  /** The shared libraries and the loader {@code ldd} names for {@code binaries}. */
  private static Set<Path> sharedLibraries(Set<Path> binaries) throws IOException {
    List<String> argv = new ArrayList<>(List.of("ldd"));
    binaries.forEach(b -> argv.add(b.toString()));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("ldd " + binaries + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    Set<Path> libs = new TreeSet<>();
    Matcher m = LDD_LIB.matcher(out);
    while (m.find()) {
      libs.add(Path.of(m.group(1)));
    }
    if (out.contains("not found")) {
      throw new IllegalStateException("a shared library of " + binaries + " is missing: " + out);
    }
    return libs;
  }

  /** Copies a file's content (following links) with its mode, creating the folders. */
  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
      return; // the same library named by two binaries
    }
    try {
      Files.copy(from.toRealPath(), to, StandardCopyOption.COPY_ATTRIBUTES);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + from + " into the image root", e);
    }
  }
}
