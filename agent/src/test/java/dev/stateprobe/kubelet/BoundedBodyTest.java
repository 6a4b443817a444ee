package dev.stateprobe.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BoundedBodyTest {
  @Test
  void growsUpToTheLimitExactly() {
    BoundedBody body = new BoundedBody(10, -1);
    assertThat(body.append(new byte[] {1, 2, 3, 4}, 0, 4)).isTrue();
    assertThat(body.append(Buffer.buffer(new byte[] {5, 6, 7}))).isTrue();
    assertThat(body.append(ByteBuffer.wrap(new byte[] {8, 9, 10}))).isTrue();

    assertThat(body.length()).isEqualTo(10);
    assertThat(Arrays.copyOf(body.array(), body.length()))
        .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  }

  @Test
  void refusesTheChunkThatWouldPassTheLimitAndKeepsWhatCameBefore() {
    BoundedBody body = new BoundedBody(10, -1);
    body.append(new byte[8], 0, 8);

    assertThat(body.append(new byte[3], 0, 3)).isFalse();
    assertThat(body.length()).isEqualTo(8);
  }

  @Test
  void aLyingContentLengthDoesNotAllocateTheLimit() {
    BoundedBody body = new BoundedBody(1L << 30, 1L << 30);
    assertThat(body.array().length).isEqualTo(8 * 1024 * 1024);
  }

  @Test
  void aReplyWithoutALengthIsSizedFromTheLastOne() {
    assertThat(BodySizes.expectedLength(-1, -1)).isEqualTo(-1);
    assertThat(BodySizes.expectedLength(-1, 4_320_000)).isEqualTo(4_860_000);
    assertThat(BodySizes.expectedLength(1000, 4_320_000)).isEqualTo(1000);

    BodySizes sizes = new BodySizes();
    assertThat(sizes.newBody("/pods", 1 << 20, -1, new BodyBudget(1 << 30)).array())
        .hasSize(64 * 1024);
    sizes.remember("/pods", 8000);
    assertThat(sizes.newBody("/pods", 1 << 20, -1, new BodyBudget(1 << 30)).array()).hasSize(9000);
    assertThat(sizes.newBody("/pods", 1 << 20, 5000, new BodyBudget(1 << 30)).array())
        .hasSize(5000);
    assertThat(sizes.newBody("/runningpods/", 1 << 20, -1, new BodyBudget(1 << 30)).array())
        .hasSize(64 * 1024);
  }
}
