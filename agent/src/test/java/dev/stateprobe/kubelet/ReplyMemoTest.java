package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.decode.DecodeException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyMemoTest {
  private final ReplyMemo<String> memo = new ReplyMemo<>();
  private final List<String> decoded = new ArrayList<>();

  private String decode(String body) throws DecodeException {
    byte[] bytes = (body + "    padding").getBytes(StandardCharsets.UTF_8); // length counts
    return memo.decode(
        bytes,
        body.length(),
        (b, n) -> {
          String s = new String(b, 0, n, StandardCharsets.UTF_8);
          if (s.startsWith("bad")) {
            throw new DecodeException("refused " + s);
          }
          decoded.add(s);
          return "value of " + s;
        });
  }

  @Test
  void theSameBytesAgainAreNotDecodedAgainAndGiveTheSameValue() throws Exception {
    String first = decode("{\"items\":[1]}");
    String second = decode("{\"items\":[1]}");

    assertThat(second).isSameAs(first).isEqualTo("value of {\"items\":[1]}");
    assertThat(decoded).containsExactly("{\"items\":[1]}");
  }

  @Test
  void oneChangedByteOfTheSameLengthIsDecoded() throws Exception {
    decode("{\"items\":[1]}");
    assertThat(decode("{\"items\":[2]}")).isEqualTo("value of {\"items\":[2]}");
    assertThat(decode("{\"items\":[1]}")).isEqualTo("value of {\"items\":[1]}");

    assertThat(decoded).containsExactly("{\"items\":[1]}", "{\"items\":[2]}", "{\"items\":[1]}");
  }

  @Test
  void onlyTheGivenLengthCountsNotWhatFollowsInTheArray() throws Exception {
    byte[] a = "{}AAAA".getBytes(StandardCharsets.UTF_8);
    byte[] b = "{}BBBB".getBytes(StandardCharsets.UTF_8);
    assertThat(ReplyMemo.digest(a, 2)).isEqualTo(ReplyMemo.digest(b, 2));
    assertThat(ReplyMemo.digest(a, 3)).isNotEqualTo(ReplyMemo.digest(b, 3));
  }

  @Test
  void aRefusedBodyIsRefusedAgainAndForgetsNothingGood() throws Exception {
    decode("{\"items\":[]}");
    assertThatThrownBy(() -> decode("bad body")).hasMessage("refused bad body");
    assertThatThrownBy(() -> decode("bad body")).hasMessage("refused bad body");
    assertThat(decode("{\"items\":[]}")).isEqualTo("value of {\"items\":[]}");

    assertThat(decoded).containsExactly("{\"items\":[]}");
  }

  @Test
  void anEmptyBodyIsABodyLikeAnyOther() throws Exception {
    assertThat(decode("")).isEqualTo("value of ");
    assertThat(decode("")).isEqualTo("value of ");
    assertThat(decoded).containsExactly("");
  }
}
