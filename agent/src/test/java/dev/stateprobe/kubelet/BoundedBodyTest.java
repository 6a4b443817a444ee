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

  @Test
  void aBodyThatTheBudgetCannotHoldIsRefusedAndEveryByteComesBackOnRelease() {
    BodyBudget budget = new BodyBudget(1300);
    BoundedBody a = new BoundedBody(10_000, 400, budget);
    assertThat(budget.reserved()).isEqualTo(400);
    assertThat(a.append(new byte[400], 0, 400)).isTrue();
    // Growing to 800 while the 400 are still being copied needs 1200: both are counted.
    assertThat(a.append(new byte[300], 0, 300)).isTrue();
    assertThat(budget.reserved()).isEqualTo(800);
    BoundedBody b = new BoundedBody(10_000, 600, budget);
    assertThat(b.append(new byte[600], 0, 600)).isFalse();
    assertThat(b.refusedByBudget()).isTrue();
    assertThat(a.refusedByBudget()).isFalse();

    a.release();
    b.release();
    a.release(); // idempotent
    assertThat(budget.reserved()).isZero();
    assertThat(a.array()).isEmpty(); // a stream still holding the body no longer holds its bytes
    assertThat(a.append(new byte[1], 0, 1)).isFalse();
    assertThat(budget.reserved()).isZero();
  }

  @Test
  void theLimitStillRefusesFirstWhenTheBudgetIsLarge() {
    BoundedBody body = new BoundedBody(100, -1, new BodyBudget(1 << 20));
    assertThat(body.append(new byte[101], 0, 101)).isFalse();
    assertThat(body.refusedByBudget()).isFalse();
  }
}
