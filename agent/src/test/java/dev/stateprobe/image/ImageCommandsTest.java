package dev.stateprobe.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Everything the image runs is in the image: every program the shipped scripts (and the demo's,
 * which share the shipped prologue) call, and every program path the agent's Java code names, is a
 * BusyBox applet Alpine has ({@link ScriptUserland#APPLETS}) or comes with a package the
 * Dockerfile's {@code apk add} installs. A program only the host-repair image has is allowed in the
 * default image only where the script looks for it first ({@code command -v}) and exits 3 without
 * it.
 */
class ImageCommandsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern STAGE = Pattern.compile("(?m)^FROM\\s+.*\\sAS\\s+(\\S+)\\s*$");
  private static final Pattern APK = Pattern.compile("apk add --no-cache ((?:[a-z0-9.+-]+ ?)+)");

  /** The Dockerfile's {@code apk add} packages by stage, and which stage builds on which. */
  private record Image(Map<String, List<String>> packages, Map<String, String> base) {
    /** The packages of {@code stage} and of the stages it is built from. */
    Set<String> packagesOf(String stage) {
      Set<String> out = new TreeSet<>();
      for (String s = stage; s != null; s = base.get(s)) {
        out.addAll(packages.getOrDefault(s, List.of()));
      }
      return out;
    }

    /** Program paths in {@code stage}: Alpine's applets plus its packages' programs. */
    Set<String> paths(String stage) {
      Set<String> out = new TreeSet<>(ScriptUserland.appletPaths());
      for (String pkg : packagesOf(stage)) {
        assertThat(ScriptUserland.PACKAGE_PROGRAMS)
            .as("ScriptUserland.PACKAGE_PROGRAMS says what package %s installs", pkg)
            .containsKey(pkg);
        out.addAll(ScriptUserland.PACKAGE_PROGRAMS.get(pkg));
      }
      return out;
    }

    Set<String> names(String stage) {
      Set<String> out = new TreeSet<>();
      paths(stage).forEach(p -> out.add(p.substring(p.lastIndexOf('/') + 1)));
      return out;
    }
  }

  private static Image image() throws IOException {
    String dockerfile = Files.readString(ROOT.resolve("Dockerfile")).replace("\\\n", " ");
    Map<String, List<String>> packages = new LinkedHashMap<>();
    Map<String, String> base = new TreeMap<>();
    String stage = null;
    for (String line : dockerfile.split("\n")) {
      if (line.startsWith("#")) {
        continue;
      }
      Matcher from = STAGE.matcher(line);
      if (from.find()) {
        stage = from.group(1);
        String[] words = line.trim().split("\\s+");
        base.put(stage, words[words.length - 3]); // FROM [--platform=...] BASE AS NAME
        continue;
      }
      Matcher apk = APK.matcher(line);
      if (apk.find()) {
        packages
            .computeIfAbsent(stage, s -> new ArrayList<>())
            .addAll(List.of(apk.group(1).trim().split(" ")));
      }
    }
    return new Image(packages, base);
  }

  private static Map<String, String> scripts(Path folder) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".sh")).sorted().toList()) {
        out.put(ROOT.relativize(f).toString(), Files.readString(f));
      }
    }
    return out;
  }

  private static final Pattern SOURCE =
      Pattern.compile("(?m)^\\s*(?:source|\\.)\\s+.*/([A-Za-z0-9._-]+\\.sh)\"?\\s*$");

  private static final String DEMO_SCRIPTS = "agent/src/main/resources/demo/scripts";

  /**
   * Where the files {@code name} sources from its own folder come from: that folder, except for the
   * demo's scripts, beside which the build puts the shipped scripts' prologue (agent/pom.xml).
   */
  private static Path sourcedFrom(String name) {
    Path folder = ROOT.resolve(name).getParent();
    return folder.equals(ROOT.resolve(DEMO_SCRIPTS)) ? ROOT.resolve("repair-scripts") : folder;
  }

  /** Scans {@code name}, with the functions of the files it sources from its own folder. */
  private static ShellCommands scan(String name, String text) {
    List<String> sourced = new ArrayList<>();
    Matcher m = SOURCE.matcher(text);
    while (m.find()) {
      try {
        sourced.add(Files.readString(sourcedFrom(name).resolve(m.group(1))));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(name + " sources a missing " + m.group(1), e);
      }
    }
    return ShellCommands.scan(text, sourced);
  }

  private static Map<String, String> allScripts() throws IOException {
    Map<String, String> all = new TreeMap<>(scripts(ROOT.resolve("repair-scripts")));
    all.putAll(scripts(ROOT.resolve(DEMO_SCRIPTS)));
    return all;
  }

  @Test
  void theDockerfileInstallsWhatTheTestsAssume() throws IOException {
    Image image = image();
    assertThat(image.packagesOf("runtime")).containsExactly("bash", "curl", "jq");
    assertThat(image.packagesOf("host-repair")).containsExactly("bash", "cri-tools", "curl", "jq");
    assertThat(image.packagesOf("default")).isEqualTo(image.packagesOf("runtime"));
  }

  @Test
  void theScannerFindsExactlyTheProgramsEachScriptCalls() throws IOException {
    // Pinned, so that a scanner that finds nothing cannot pass the checks below: a new program in
    // a script is added here on purpose, after checking the image has it.
    Map<String, Set<String>> expected = new TreeMap<>();
    expected.put("repair-scripts/force-delete-stuck-pod.sh", Set.of("dirname", "head"));
    expected.put("repair-scripts/pod-api.sh", Set.of("curl", "mktemp", "tr"));
    expected.put("repair-scripts/recreate-controlled-pod.sh", Set.of("dirname", "head", "jq"));
    expected.put("repair-scripts/remove-orphaned-sandbox.sh", Set.of("crictl"));
    expected.put("repair-scripts/restart-kubelet.sh", Set.of("nsenter", "sleep"));
    Map<String, Set<String>> found = new TreeMap<>();
    allScripts()
        .forEach(
            (name, text) -> {
              if (name.startsWith("repair-scripts/")) {
                found.put(name, scan(name, text).programs());
              }
            });
    assertThat(found).isEqualTo(expected);
  }

  @Test
  void everyScriptCallsOnlyWhatTheImageHas() throws IOException {
    Image image = image();
    Set<String> inDefault = image.names("default");
    Set<String> inHostRepair = image.names("host-repair");
    Map<String, String> problems = new TreeMap<>();
    allScripts()
        .forEach(
            (name, text) -> {
              ShellCommands scan = scan(name, text);
              Set<String> missing = new TreeSet<>(scan.programs());
              missing.removeAll(inHostRepair);
              if (!missing.isEmpty()) {
                problems.put(name, "not in any image: " + missing);
              }
              Set<String> onlyHostRepair = new TreeSet<>(scan.programs());
              onlyHostRepair.removeAll(inDefault);
              onlyHostRepair.removeAll(missing);
              onlyHostRepair.removeAll(scan.guarded());
              if (!onlyHostRepair.isEmpty()) {
                problems.put(
                    name,
                    "only in the host-repair image, and not looked for with command -v first: "
                        + onlyHostRepair);
              }
            });
    assertThat(problems).isEmpty();
  }

  @Test
  void everyScriptThatNeedsAHostRepairProgramExitsThreeWithoutIt() throws IOException {
    Set<String> inDefault = image().names("default");
    Map<String, Set<String>> guardedHostTools = new TreeMap<>();
    allScripts()
        .forEach(
            (name, text) -> {
              Set<String> g = new TreeSet<>(scan(name, text).guarded());
              g.removeAll(inDefault);
              if (!g.isEmpty()) {
                guardedHostTools.put(name, g);
                for (String tool : g) {
                  // The guard's failure is "cannot repair here", exit 3 (repair-scripts/README.md).
                  Matcher guard =
                      Pattern.compile(
                              "command -v "
                                  + Pattern.quote(tool)
                                  + " > /dev/null \\|\\|\\s*\\n?\\s*(missing\\+=|fail 3 \"cannot"
                                  + " repair here)")
                          .matcher(text);
                  assertThat(guard.find()).as(name + " guards " + tool + " with exit 3").isTrue();
                }
              }
            });
    assertThat(guardedHostTools)
        .isEqualTo(Map.of("repair-scripts/remove-orphaned-sandbox.sh", Set.of("crictl")));
  }

  @Test
  void everyScriptStartsBashThroughAnInterpreterTheImageHas() throws IOException {
    Set<String> paths = image().paths("default");
    allScripts()
        .forEach(
            (name, text) -> {
              if (name.endsWith("/pod-api.sh")) {
                assertThat(text).as(name + " is sourced, never run").doesNotStartWith("#!");
                return;
              }
              assertThat(text).as(name).startsWith("#!/usr/bin/env bash\n");
              assertThat(paths).contains("/usr/bin/env", "/bin/bash");
            });
  }

  /** Absolute program paths in the agent's main code ({@code "/usr/bin/x"} and the like). */
  private static final Pattern PROGRAM_PATH =
      Pattern.compile("\"(/(?:usr/)?s?bin/[A-Za-z0-9._+-]+)\"");

  /**
   * Paths the agent names only as alternatives to one the image has, each with why: the agent takes
   * the first that exists.
   */
  private static final Map<String, String> FALLBACKS =
      Map.of("/bin/setsid", "util-linux's location on distributions without usrmerge");

  @Test
  void everyProgramPathTheAgentNamesIsInTheImage() throws IOException {
    Set<String> paths = image().paths("default");
    Map<String, String> named = new TreeMap<>();
    try (Stream<Path> files = Files.walk(ROOT.resolve("agent/src/main/java"))) {
      for (Path f : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
        Matcher m = PROGRAM_PATH.matcher(Files.readString(f));
        while (m.find()) {
          named.put(m.group(1), ROOT.relativize(f).toString());
        }
      }
    }
    Map<String, String> missing = new TreeMap<>(named);
    missing.keySet().removeAll(paths);
    missing.keySet().removeAll(FALLBACKS.keySet());
    assertThat(missing).as("program paths the agent names that the image lacks").isEmpty();
    for (String fallback : FALLBACKS.keySet()) {
      assertThat(paths).as("fallbacks are for other systems").doesNotContain(fallback);
    }
  }
}
