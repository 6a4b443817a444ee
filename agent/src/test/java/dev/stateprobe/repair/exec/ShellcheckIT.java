package dev.stateprobe.repair.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every shell script of the project, shipped or test double, is shellcheck-clean. Without
 * shellcheck this fails, never skips: a build that did not lint the scripts must not go green
 * ({@code .ci/run} installs shellcheck or fails).
 */
class ShellcheckIT {
  private static final List<Path> FOLDERS =
      List.of(
          Path.of("..", "repair-scripts"),
          Path.of("..", ".ci"),
          Path.of("src/test/resources/repair/scripts"),
          Path.of("src/test/resources/repair/fakebin"),
          Path.of("src/test/resources/repair-it"),
          Path.of("src/main/resources/demo/scripts"),
          Path.of("src/test/resources/demo/scripts"));

  private static Optional<Path> shellcheck() {
    String path = System.getenv().getOrDefault("PATH", "");
    return Stream.of(path.split(":"))
        .filter(d -> !d.isEmpty())
        .map(d -> Path.of(d, "shellcheck"))
        .filter(Files::isExecutable)
        .findFirst();
  }

  @Test
  void everyScriptIsShellcheckClean() throws IOException, InterruptedException {
    Optional<Path> shellcheck = shellcheck();
    assertTrue(
        shellcheck.isPresent(),
        "shellcheck is not on PATH, so the scripts cannot be checked (apt-get install shellcheck;"
            + " .ci/run installs it)");
    List<String> argv =
        new ArrayList<>(List.of(shellcheck.get().toString(), "--format=gcc", "--external-sources"));
    int scripts = 0;
    for (Path folder : FOLDERS) {
      try (Stream<Path> files = Files.list(folder)) {
        for (Path f : files.sorted().toList()) {
          if (Files.isRegularFile(f) && Files.readString(f).startsWith("#!/usr/bin/env bash")) {
            argv.add(f.toString());
            scripts++;
          }
        }
      }
    }
    assertEquals(
        4 + 1 + 9 + 4 + 2 + 3 + 3,
        scripts,
        "shipped, CI, fixture, fake, repair lifecycle, demo and demo test scripts found");
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "shellcheck did not finish in 60 s");
    assertEquals("", out);
    assertEquals(0, p.exitValue());
  }
}
