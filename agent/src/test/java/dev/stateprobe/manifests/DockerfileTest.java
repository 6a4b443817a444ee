package dev.stateprobe.manifests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.stateprobe.config.ConfigLoader;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.ObjectMapper;

/**
 * Docker cannot run here, so every step of the Dockerfile that can be checked against the
 * repository is: the sources it copies exist and cover every Maven module, the jar it takes is the
 * one the pom builds, and what the image promises (user, port, JVM flags, catalog path) agrees with
 * the DaemonSet and the agent's defaults.
 */
// One instance for all tests: the files are parsed once; no test changes them.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DockerfileTest {
  private final RepoFiles repo = new RepoFiles();
  private final List<Instruction> instructions = parse(repo.read(repo.resolve("Dockerfile")));
  private final Container agent =
      repo.object(repo.manifests().resolve("base/daemonset.yaml"), DaemonSet.class)
          .getSpec()
          .getTemplate()
          .getSpec()
          .getContainers()
          .get(0);

  record Instruction(int stage, String keyword, String args) {}

  /** Joins continuation lines, drops comments, numbers the stages from 0. */
  static List<Instruction> parse(String text) {
    List<Instruction> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int stage = -1;
    for (String line : text.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
        continue;
      }
      boolean continues = trimmed.endsWith("\\");
      current.append(continues ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
      if (!continues) {
        String joined = current.toString().strip().replaceAll("\\s+", " ");
        current.setLength(0);
        int space = joined.indexOf(' ');
        String keyword = joined.substring(0, space).toUpperCase(java.util.Locale.ROOT);
        if (keyword.equals("FROM")) {
          stage++;
        }
        out.add(new Instruction(stage, keyword, joined.substring(space + 1)));
      }
    }
    return out;
  }

  private List<Instruction> all(String keyword) {
    return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
  }

  private String only(String keyword) {
    List<Instruction> found = all(keyword);
    assertEquals(1, found.size(), "one " + keyword);
    return found.get(0).args();
  }

  /** The stages by name, in order: FROM's {@code AS} name. */
  private List<String> stages() {
    return all("FROM").stream()
        .map(i -> i.args().substring(i.args().lastIndexOf(' ') + 1))
        .toList();
  }

  private int stage(String name) {
    int n = stages().indexOf(name);
    assertTrue(n >= 0, "a stage named " + name);
    return n;
  }

  private List<Instruction> in(String stage, String keyword) {
    int n = stage(stage);
    return all(keyword).stream().filter(i -> i.stage() == n).toList();
  }

  /** The value of a global {@code ARG NAME=value} (before the first FROM). */
  private String globalArg(String name) {
    List<String> values =
        all("ARG").stream()
            .filter(i -> i.stage() == -1 && i.args().startsWith(name + "="))
            .map(i -> i.args().substring(name.length() + 1))
            .toList();
    assertEquals(1, values.size(), "one global ARG " + name);
    return values.get(0);
  }

  @Test
  void buildsOnTheTemurinJdkAndRunsOnTheAlpineJreBothPinnedByDigest() {
    assertEquals(
        List.of(
            "--platform=$BUILDPLATFORM ${JDK_IMAGE} AS build",
            "${JRE_IMAGE} AS runtime",
            "runtime AS host-repair",
            "runtime AS default"),
        all("FROM").stream().map(Instruction::args).toList());
    // A tag moves; a digest names the same bytes until someone moves the pin on purpose.
    assertTrue(
        globalArg("JDK_IMAGE").matches("eclipse-temurin:25-jdk@sha256:[0-9a-f]{64}"),
        globalArg("JDK_IMAGE"));
    assertTrue(
        globalArg("JRE_IMAGE").matches("eclipse-temurin:25-jre-alpine@sha256:[0-9a-f]{64}"),
        globalArg("JRE_IMAGE"));
  }

  @Test
  void onlyTheBuildStageRunsOnTheBuildersPlatform() {
    // Maven then runs natively once per multi-arch build, never under emulation: the jar is
    // platform-independent. The runtime stages must not: they are the per-platform images.
    for (Instruction from : all("FROM")) {
      assertEquals(
          from.stage() == stage("build"),
          from.args().startsWith("--platform=$BUILDPLATFORM "),
          from.args());
    }
  }

  @Test
  void theDefaultTargetIsTheImageWithoutHostTools() {
    // `docker build` without --target builds the last stage.
    List<String> stages = stages();
    assertEquals("default", stages.get(stages.size() - 1));
    int last = stages.size() - 1;
    assertEquals(
        List.of("FROM"),
        instructions.stream().filter(i -> i.stage() == last).map(Instruction::keyword).toList());
    assertEquals("runtime AS default", all("FROM").get(last).args());
  }

  @Test
  void hostRepairAddsCrictlAndNothingElseAndRunsAsTheSameUser() {
    assertEquals("runtime AS host-repair", all("FROM").get(stage("host-repair")).args());
    assertEquals(
        List.of("apk add --no-cache cri-tools"),
        in("host-repair", "RUN").stream().map(Instruction::args).toList());
    assertEquals(
        List.of("0:0", "65532:65532"),
        in("host-repair", "USER").stream().map(Instruction::args).toList());
    Set<String> keywords = new TreeSet<>();
    instructions.stream()
        .filter(i -> i.stage() == stage("host-repair"))
        .forEach(i -> keywords.add(i.keyword()));
    assertEquals(Set.of("FROM", "LABEL", "USER", "RUN"), keywords);
  }

  @Test
  void carriesOciLabels() {
    List<Instruction> labels = in("runtime", "LABEL");
    assertEquals(1, labels.size());
    Matcher m =
        Pattern.compile("(org\\.opencontainers\\.image\\.[a-z.]+)=\"([^\"]*)\"")
            .matcher(labels.get(0).args());
    java.util.Map<String, String> found = new java.util.TreeMap<>();
    while (m.find()) {
      found.put(m.group(1), m.group(2));
    }
    String p = "org.opencontainers.image.";
    assertEquals(
        Set.of(
            p + "title",
            p + "description",
            p + "version",
            p + "revision",
            p + "created",
            p + "base.name"),
        found.keySet());
    assertEquals("state-probe", found.get(p + "title"));
    Matcher description =
        Pattern.compile("<description>([^<]+)</description>")
            .matcher(repo.read(repo.resolve("pom.xml")));
    assertTrue(description.find());
    assertEquals(description.group(1), found.get(p + "description"));
    assertEquals("${VERSION}", found.get(p + "version"));
    assertEquals("${REVISION}", found.get(p + "revision"));
    assertEquals("${CREATED}", found.get(p + "created"));
    assertEquals("${JRE_IMAGE}", found.get(p + "base.name"));
    Matcher version =
        Pattern.compile("<version>([^<]+)</version>").matcher(repo.read(repo.resolve("pom.xml")));
    assertTrue(version.find());
    assertEquals(
        List.of("JRE_IMAGE", "VERSION=" + version.group(1), "REVISION=unknown", "CREATED=unknown"),
        in("runtime", "ARG").stream().map(Instruction::args).toList(),
        "the label's ARGs, declared in the stage; VERSION defaults to the pom's");
  }

  /**
   * The repository-relative files the agent's build copies into the jar from outside its {@code
   * src/main} (agent/pom.xml's copy-resources executions): the build stage needs them too.
   */
  private Set<String> filesTheAgentBuildCopies() {
    String pom = repo.read(repo.resolve("agent/pom.xml"));
    Matcher resource =
        Pattern.compile(
                "<resource>\\s*<directory>\\$\\{project\\.basedir\\}/([^<]+)</directory>"
                    + "\\s*<includes>(.*?)</includes>\\s*</resource>",
                Pattern.DOTALL)
            .matcher(pom);
    Set<String> out = new TreeSet<>();
    while (resource.find()) {
      Matcher include = Pattern.compile("<include>([^<]+)</include>").matcher(resource.group(2));
      while (include.find()) {
        out.add(
            Path.of("agent", resource.group(1), include.group(1).strip()).normalize().toString());
      }
    }
    return out;
  }

  @Test
  void theBuildCopiesTheDemosOriginalsFromWhereTheyAreCommitted() {
    assertEquals(
        Set.of(
            "manifests/crds/consistencyrepairjobs.stateprobe.dev.yaml",
            "agent/src/test/resources/fixtures/kubelet/"
                + "kubelet-pods_k8s-1.35_minikube-containerd_nri-kubernetes.json",
            "repair-scripts/pod-api.sh"),
        filesTheAgentBuildCopies());
  }

  @Test
  void copiesTheWrapperEveryMavenModuleAndWhatTheBuildCopiesFromOutsideThem() {
    Set<String> expected = new TreeSet<>(Set.of("mvnw ./", ".mvn/ .mvn/", "pom.xml ./"));
    Matcher modules =
        Pattern.compile("<module>([^<]+)</module>").matcher(repo.read(repo.resolve("pom.xml")));
    int count = 0;
    while (modules.find()) {
      String m = modules.group(1).strip();
      expected.add(m + "/pom.xml " + m + "/");
      expected.add(m + "/src/main/ " + m + "/src/main/");
      count++;
    }
    assertTrue(count >= 1, "the root pom lists its modules");
    for (String file : filesTheAgentBuildCopies()) {
      // One file per COPY, to the same path: the build reads it where the repository has it.
      expected.add(file + " " + file.substring(0, file.lastIndexOf('/') + 1));
    }
    Set<String> copied = new TreeSet<>();
    for (Instruction i : all("COPY")) {
      if (i.stage() == stage("build")) {
        copied.add(i.args());
      }
    }
    assertEquals(expected, copied);
    for (String copy : copied) {
      String source = copy.substring(0, copy.indexOf(' '));
      assertTrue(Files.exists(repo.resolve(source)), "COPY source " + source + " is missing");
    }
  }

  @Test
  void buildsWithTheWrapperAndLeavesTheTestsToCi() {
    List<Instruction> runs = in("build", "RUN");
    assertEquals(1, runs.size());
    assertTrue(
        runs.get(0).args().endsWith("./mvnw -B -ntp -DskipTests package"), runs.get(0).args());
    assertTrue(
        Files.isExecutable(repo.resolve("mvnw")), "COPY keeps mvnw's mode: it must be executable");
  }

  @Test
  void takesTheShadedJarThatTheAgentPomBuilds() {
    // The agent jar's shade execution, not the demo jar's: the image carries only the agent.
    Matcher finalName =
        Pattern.compile("<id>agent-jar</id>.*?<finalName>([^<]+)</finalName>", Pattern.DOTALL)
            .matcher(repo.read(repo.resolve("agent/pom.xml")));
    assertTrue(finalName.find(), "agent/pom.xml names its agent jar (execution agent-jar)");
    String jar = "/src/agent/target/" + finalName.group(1) + ".jar";
    List<String> fromBuild =
        all("COPY").stream()
            .map(Instruction::args)
            .filter(a -> a.startsWith("--from=build "))
            .toList();
    assertEquals(List.of("--from=build " + jar + " /opt/state-probe/state-probe.jar"), fromBuild);
    assertEquals("/src", only("WORKDIR"));
  }

  @Test
  void startsTheAgentFromThatJarByDefault() throws Exception {
    ObjectMapper json = new ObjectMapper();
    assertEquals(
        List.of("java", "-jar", "/opt/state-probe/state-probe.jar"),
        List.of(json.readValue(only("ENTRYPOINT"), String[].class)));
    assertEquals(List.of("agent"), List.of(json.readValue(only("CMD"), String[].class)));
    assertEquals(List.of("agent"), agent.getArgs());
  }

  @Test
  void installsTheCatalogWhereTheAgentLooksByDefault() {
    String catalog = ConfigLoader.DEFAULT_CATALOG.toString();
    String dir = ConfigLoader.DEFAULT_CATALOG.getParent().toString() + "/";
    List<String> copies =
        all("COPY").stream()
            .filter(i -> i.stage() == stage("runtime"))
            .map(Instruction::args)
            .filter(a -> a.contains("repair-scripts/"))
            .toList();
    assertEquals(
        List.of(
            "--chmod=0555 repair-scripts/*.sh " + dir,
            "--chmod=0444 repair-scripts/catalog.yaml " + catalog),
        copies);
  }

  @Test
  void installsOnlyWhatTheApiScriptsNeedFromAlpinesRepositories() {
    List<Instruction> runs = in("runtime", "RUN");
    assertEquals(1, runs.size());
    assertTrue(
        runs.get(0).args().startsWith("apk add --no-cache bash curl jq && "), runs.get(0).args());
    assertTrue(all("ADD").isEmpty(), "no ADD: it can fetch URLs");
    for (Instruction i : instructions) {
      assertFalse(
          i.args().contains("http://") || i.args().contains("https://"), "a download in " + i);
    }
  }

  @Test
  void runsAsTheNumericUserTheDaemonSetExpects() {
    List<Instruction> users = in("runtime", "USER");
    assertEquals(1, users.size());
    String user = users.get(0).args();
    assertEquals(
        agent.getSecurityContext().getRunAsUser()
            + ":"
            + agent.getSecurityContext().getRunAsGroup(),
        user);
    assertTrue(user.matches("[0-9]+:[0-9]+"), "numeric, so runAsNonRoot can be verified");
    assertEquals("65532:65532", user);
    // Every image ends as that user; host-repair's overlay makes it root on purpose, not the image.
    List<Instruction> hostRepair = in("host-repair", "USER");
    assertEquals(user, hostRepair.get(hostRepair.size() - 1).args());
  }

  @Test
  void exposesTheDaemonSetsPort() {
    assertEquals(String.valueOf(agent.getPorts().get(0).getContainerPort()), only("EXPOSE"));
  }

  @Test
  void setsTheSameJvmFlagsAsTheDaemonSet() {
    String env = only("ENV");
    String prefix = "JAVA_TOOL_OPTIONS=\"";
    String malloc = " MALLOC_ARENA_MAX=";
    int end = env.lastIndexOf('"');
    assertTrue(env.startsWith(prefix) && end > prefix.length(), env);
    String flags = env.substring(prefix.length(), end);
    String daemonSetMalloc =
        agent.getEnv().stream()
            .filter(e -> e.getName().equals("MALLOC_ARENA_MAX"))
            .findFirst()
            .orElseThrow()
            .getValue();
    assertEquals(malloc + daemonSetMalloc, env.substring(end + 1));
    assertEquals(String.join(" ", DaemonSetTest.JVM_FLAGS), flags);
    String daemonSet =
        agent.getEnv().stream()
            .filter(e -> e.getName().equals("JAVA_TOOL_OPTIONS"))
            .findFirst()
            .orElseThrow()
            .getValue();
    assertEquals(daemonSet, flags);
  }

  @Test
  void dockerignoreDropsBuildOutputAndGitButNothingTheBuildCopies() {
    List<PathMatcher> ignored = new ArrayList<>();
    for (String line : repo.read(repo.resolve(".dockerignore")).split("\n")) {
      String p = line.strip();
      if (!p.isEmpty() && !p.startsWith("#")) {
        ignored.add(FileSystems.getDefault().getPathMatcher("glob:" + p));
      }
    }
    assertTrue(isIgnored(ignored, "agent/target"), "agent/target");
    assertTrue(isIgnored(ignored, ".git"), ".git");
    for (Instruction i : all("COPY")) {
      String[] parts = i.args().split(" ");
      if (parts[0].startsWith("--from=")) {
        continue;
      }
      String source = parts[0].startsWith("--") ? parts[1] : parts[0];
      String concrete = source.replace("*", "x").replaceAll("/$", "");
      assertFalse(isIgnored(ignored, concrete), source + " is copied but .dockerignore drops it");
    }
  }

  /** A path is ignored when a pattern matches it or one of the folders above it. */
  private static boolean isIgnored(List<PathMatcher> patterns, String path) {
    Path p = Path.of(path);
    for (int n = 1; n <= p.getNameCount(); n++) {
      Path prefix = p.subpath(0, n);
      for (PathMatcher m : patterns) {
        if (m.matches(prefix)) {
          return true;
        }
      }
    }
    return false;
  }
}
