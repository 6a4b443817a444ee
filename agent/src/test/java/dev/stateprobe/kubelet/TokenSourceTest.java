package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.metrics.FailureReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenSourceTest {
  @TempDir Path dir;

  /**
   * Lays out a token the way the kubelet's atomic writer does: token -> ..data/token, ..data ->
   * ..v1.
   */
  private Path projectedToken(String version, String token) throws IOException {
    Path versionDir = Files.createDirectories(dir.resolve(".." + version));
    Files.writeString(versionDir.resolve("token"), token);
    Path data = dir.resolve("..data");
    Path tmp = dir.resolve("..data_tmp");
    Files.createSymbolicLink(tmp, versionDir.getFileName());
    Files.move(tmp, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Path link = dir.resolve("token");
    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Files.createSymbolicLink(link, Path.of("..data", "token"));
    }
    return link;
  }

  @Test
  void anUnchangedFileIsReadOnce() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa\n");
    TokenSource tokens = new TokenSource(file, null);

    assertThat(tokens.currentBlocking()).isEqualTo("token-aaaa");
    assertThat(tokens.currentBlocking()).isEqualTo("token-aaaa");
    assertThat(tokens.reads()).isEqualTo(1);
  }

  @Test
  void aChangedSizeIsSeen() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa");
    TokenSource tokens = new TokenSource(file, null);
    tokens.currentBlocking();
    FileTime before = Files.getLastModifiedTime(file);

    Files.writeString(file, "token-bbbbbb");
    Files.setLastModifiedTime(file, before); // only the size tells

    assertThat(tokens.currentBlocking()).isEqualTo("token-bbbbbb");
    assertThat(tokens.reads()).isEqualTo(2);
  }

  @Test
  void aChangedModificationTimeIsSeen() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa");
    TokenSource tokens = new TokenSource(file, null);
    tokens.currentBlocking();
    FileTime before = Files.getLastModifiedTime(file);

    Files.writeString(file, "token-bbbb"); // same size
    Files.setLastModifiedTime(file, FileTime.fromMillis(before.toMillis() + 2000));

    assertThat(tokens.currentBlocking()).isEqualTo("token-bbbb");
    assertThat(tokens.reads()).isEqualTo(2);
  }

  @Test
  void aSwappedSymlinkIsSeenEvenWithSameSizeAndTime() throws Exception {
    Path link = projectedToken("v1", "token-aaaa");
    TokenSource tokens = new TokenSource(link, null);
    assertThat(tokens.currentBlocking()).isEqualTo("token-aaaa");
    FileTime before = Files.getLastModifiedTime(link);

    projectedToken("v2", "token-bbbb");
    Files.setLastModifiedTime(dir.resolve("..v2/token"), before); // only the real path tells

    assertThat(tokens.currentBlocking()).isEqualTo("token-bbbb");
    assertThat(tokens.reads()).isEqualTo(2);
  }

  @Test
  void aRewriteThatKeepsSizeAndTimeNeedsReload() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa");
    TokenSource tokens = new TokenSource(file, null);
    tokens.currentBlocking();
    FileTime before = Files.getLastModifiedTime(file);

    Files.writeString(file, "token-bbbb");
    Files.setLastModifiedTime(file, before);

    assertThat(tokens.currentBlocking()).isEqualTo("token-aaaa"); // the stamp cannot tell
    assertThat(tokens.reloadBlocking()).isEqualTo("token-bbbb");
    assertThat(tokens.currentBlocking()).isEqualTo("token-bbbb");
    assertThat(tokens.reads()).isEqualTo(2);
  }

  @Test
  void aMissingFileIsATokenFailureNamingTheFile() {
    Path file = dir.resolve("absent");
    TokenSource tokens = new TokenSource(file, null);

    assertThatThrownBy(tokens::currentBlocking)
        .isInstanceOfSatisfying(
            KubeletException.class, e -> assertThat(e.reason()).isEqualTo(FailureReason.TOKEN))
        .hasMessageContaining(file.toString());
  }

  @Test
  void anEmptyFileIsATokenFailure() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "\n");
    TokenSource tokens = new TokenSource(file, null);

    assertThatThrownBy(tokens::currentBlocking)
        .isInstanceOfSatisfying(
            KubeletException.class, e -> assertThat(e.reason()).isEqualTo(FailureReason.TOKEN))
        .hasMessageContaining("is empty");
  }

  @Test
  void aFileThatVanishesAfterAReadFailsAndRecovers() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa");
    TokenSource tokens = new TokenSource(file, null);
    tokens.currentBlocking();
    Files.delete(file);

    assertThatThrownBy(tokens::currentBlocking).isInstanceOf(KubeletException.class);

    Files.writeString(file, "token-cccc");
    assertThat(tokens.currentBlocking()).isEqualTo("token-cccc");
  }

  @Test
  void surroundingWhiteSpaceIsTrimmedAsKubectlDoes() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "  \ttoken-aaaa \r\n\n");
    assertThat(new TokenSource(file, null).currentBlocking()).isEqualTo("token-aaaa");
  }

  @Test
  void aTokenOfTwoLinesIsATokenFailureThatNamesTheFileButNotTheToken() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa\nsecond-bbbb\n");
    assertThatThrownBy(() -> new TokenSource(file, null).currentBlocking())
        .isInstanceOfSatisfying(
            KubeletException.class, e -> assertThat(e.reason()).isEqualTo(FailureReason.TOKEN))
        .hasMessageContaining(file.toString())
        .hasMessageContaining("more than one line")
        .hasNoCause()
        .message()
        .doesNotContain("token-aaaa")
        .doesNotContain("second-bbbb");
  }

  @Test
  void controlSpaceAndNonAsciiCharactersAreRefused() throws Exception {
    for (String bad : new String[] {"tok\u0007en", "tok en", "tok\u0000en", "tökén", "tok\ten"}) {
      Path file = Files.writeString(dir.resolve("token"), bad);
      assertThatThrownBy(() -> new TokenSource(file, null).currentBlocking())
          .as("%s", bad)
          .isInstanceOfSatisfying(
              KubeletException.class, e -> assertThat(e.reason()).isEqualTo(FailureReason.TOKEN))
          .message()
          .contains(file.toString())
          .doesNotContain(bad);
    }
  }

  @Test
  void aBadFileAfterAGoodOneIsRefusedNotPapered() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa\n");
    TokenSource tokens = new TokenSource(file, null);
    tokens.currentBlocking();
    Files.writeString(file, "token-aaaa\nmore-lines-here\n");
    assertThatThrownBy(tokens::currentBlocking).isInstanceOf(KubeletException.class);
    assertThatThrownBy(tokens::currentBlocking).isInstanceOf(KubeletException.class);
  }

  @Test
  void everyTokenReadIsRedactedFromText() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "token-aaaa\n");
    TokenSource tokens = new TokenSource(file, null);
    tokens.currentBlocking();
    Files.writeString(file, "token-bbbbbb\n");
    tokens.reloadBlocking();
    assertThat(tokens.redact("Authorization: Bearer token-aaaa, then Bearer token-bbbbbb"))
        .isEqualTo("Authorization: Bearer [REDACTED], then Bearer [REDACTED]");
    assertThat(tokens.redact("nothing here")).isEqualTo("nothing here");
  }
}
