package dev.stateprobe.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The word scan on the shell constructs the scripts use, and on ones it must not be fooled by. */
class ShellCommandsTest {
  private static java.util.Set<String> programs(String script) {
    return ShellCommands.scan(script).programs();
  }

  @Test
  void findsFirstWordsOfCommandsPipelinesListsAndSubstitutions() {
    assertThat(programs("ls -l | grep x && sort; uniq || wc\n(cut -c1)\n{ tac; }\n"))
        .containsExactly("cut", "grep", "ls", "sort", "tac", "uniq", "wc");
    assertThat(programs("x=$(mktemp)\necho \"got $(head -c 2 \"$f\") and `tail -1 g`\"\n"))
        .containsExactly("head", "mktemp", "tail");
    assertThat(programs("if ! out=$(nsenter -t 1 -- true 2>&1); then sleep 1; fi\n"))
        .containsExactly("nsenter", "sleep");
  }

  @Test
  void ignoresBuiltinsFunctionsQuotesExpansionsTestsAndArithmetic() {
    String script =
        """
        log() { printf '%s\\n' "$*"; }
        fail() { local code=$1; shift; log "$*" >&2; exit "$code"; }
        echo 'grep | sort $(rm -rf /)'
        echo "no $HOME ${x:-sed} ${y//$'\\n'/ } program"
        [[ "$a" =~ ^(awk|sed)$ && -n "$b" ]] || fail 3 "bad"
        (( n > 3 )) && n=$(( n + 1 ))
        for ((i = 0; i < 3; i++)); do read -r line; done < /etc/file
        for f in awk sed; do true; done
        "${HOST[@]}" systemctl restart kubelet
        exec "$@"
        """;
    assertThat(programs(script)).isEmpty();
  }

  @Test
  void caseLabelsAreNotCommandsTheirBodiesAre() {
    String script =
        """
        case "$status" in
          200 | 202) log ok ;;
          pods) cat "$f" ;;
          -X) method=$2; shift ;;
          *) date ;;
        esac
        """;
    assertThat(programs(script)).containsExactly("cat", "date", "log");
  }

  @Test
  void arrayLiteralsAreCommandsTheScriptRunsAndCommandDashVIsAGuard() {
    ShellCommands s =
        ShellCommands.scan(
            "readonly HOST=(nsenter -t 1 --)\ntls=(--cacert \"$ca\")\n"
                + "command -v crictl > /dev/null || exit 3\ncrictl pods\n");
    assertThat(s.programs()).containsExactly("crictl", "nsenter");
    assertThat(s.guarded()).containsExactly("crictl");
  }

  @Test
  void functionsOfASourcedLibraryAreNotPrograms() {
    assertThat(
            ShellCommands.scan("request GET\nlog hi\n", List.of("request() { curl \"$@\"; }\n"))
                .programs())
        .containsExactly("log");
  }
}
