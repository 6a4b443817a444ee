package dev.stateprobe.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The userland is what the image has and nothing more: GNU-only options fail in it as they fail in
 * the image, and programs the image lacks are not found.
 */
class ScriptUserlandIT {
  private final ScriptUserland userland = ScriptUserland.get();

  private record Run(int code, String output) {}

  /** Runs {@code script} with the userland's bash and the userland as the whole PATH. */
  private Run bash(String script) throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(userland.dir().resolve("bash").toString(), "-c", script)
            .redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().put("PATH", userland.path());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out);
  }

  @Test
  void gnuOnlyOptionsFailAsInTheImage() throws Exception {
    // The example: BusyBox's setsid knows only -c.
    Run setsid = bash("setsid --wait true");
    assertThat(setsid.code()).isNotZero();
    assertThat(setsid.output()).contains("unrecognized option");
    assertThat(bash("echo x | head --lines=1").code()).isNotZero();
    assertThat(bash("echo x | head -n 1").output()).isEqualTo("x\n");
  }

  @Test
  void everyProgramComesFromTheUserlandAndNothingElseIsFound() throws Exception {
    Path busybox = Path.of(bash("readlink -f \"$(command -v head)\"").output().strip());
    assertThat(busybox.getFileName().toString()).isEqualTo("busybox");
    for (String program : List.of("head", "tr", "mktemp", "sleep", "nsenter", "bash", "jq")) {
      assertThat(bash("command -v " + program).output().strip())
          .isEqualTo(userland.dir().resolve(program).toString());
    }
    assertThat(bash("curl --version").output()).startsWith("curl ");
    for (String absent : List.of("crictl", "systemctl", "python3", "perl", "coreutils")) {
      assertThat(bash("command -v " + absent).code()).as(absent).isNotZero();
    }
  }
}
