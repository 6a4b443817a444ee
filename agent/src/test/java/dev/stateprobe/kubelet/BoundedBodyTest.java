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

  @Test
  void aDecodedBodyLeavesItsArrayReservedForTheNextReplyOnTheSamePath() {
    BodyBudget budget = new BodyBudget(1 << 20);
    BoundedBody first = new BoundedBody(10_000, 1000, budget, "/pods");
    assertThat(first.append(new byte[900], 0, 900)).isTrue();
    byte[] array = first.array();

    first.recycle();
    assertThat(first.array()).isEmpty(); // nothing reads through the old body any more
    assertThat(first.append(new byte[1], 0, 1)).isFalse();
    assertThat(budget.reserved()).isEqualTo(1000);
    assertThat(budget.spareBytes()).isEqualTo(1000);

    BoundedBody other = new BoundedBody(10_000, 1000, budget, "/runningpods/");
    assertThat(other.array()).isNotSameAs(array);
    BoundedBody second = new BoundedBody(10_000, 1000, budget, "/pods");
    assertThat(second.array()).isSameAs(array);
    assertThat(second.length()).isZero();
    assertThat(budget.reserved()).isEqualTo(2000);

    second.release();
    other.release();
    assertThat(budget.reserved()).isZero();
    assertThat(budget.takeSpare("/pods")).isNull();
  }

  @Test
  void aRefusedBodyNeverBecomesASpare() {
    BodyBudget budget = new BodyBudget(1 << 20);
    BoundedBody body = new BoundedBody(100, 100, budget, "/pods");
    assertThat(body.append(new byte[101], 0, 101)).isFalse();

    body.release();
    assertThat(budget.reserved()).isZero();
    assertThat(budget.takeSpare("/pods")).isNull();
    assertThat(new BoundedBody(100, 100, budget, "/pods").array()).isNotSameAs(body.array());
  }

  @Test
  void spareArraysGiveWayToABodyThatNeedsTheirBytes() {
    BodyBudget budget = new BodyBudget(1000);
    BoundedBody pods = new BoundedBody(10_000, 600, budget, "/pods");
    pods.recycle();
    assertThat(budget.reserved()).isEqualTo(600);

    // 700 fit only without the spare: it is dropped, not the new body refused.
    BoundedBody other = new BoundedBody(10_000, 700, budget, "/runningpods/");
    assertThat(other.array()).hasSize(700);
    assertThat(other.append(new byte[700], 0, 700)).isTrue();
    assertThat(budget.reserved()).isEqualTo(700);
    assertThat(budget.takeSpare("/pods")).isNull();

    other.release();
    assertThat(budget.reserved()).isZero();
  }

  @Test
  void aSpareTooSmallOrFarTooLargeForTheNextReplyIsDropped() {
    BodyBudget budget = new BodyBudget(1 << 30);
    new BoundedBody(1 << 30, 1000, budget, "/pods").recycle();
    BoundedBody larger = new BoundedBody(1 << 30, 5000, budget, "/pods");
    assertThat(larger.array()).hasSize(5000);
    assertThat(budget.reserved()).isEqualTo(5000);

    larger.recycle();
    BoundedBody muchSmaller = new BoundedBody(1 << 30, 100_000_000, budget, "/pods");
    assertThat(muchSmaller.array()).hasSize(8 * 1024 * 1024);
    muchSmaller.recycle();
    BoundedBody tiny = new BoundedBody(1 << 30, 1000, budget, "/pods");
    assertThat(tiny.array()).hasSize(1000);
    assertThat(budget.reserved()).isEqualTo(1000);
  }

  @Test
  void twoRepliesAtOnceLeaveTheLargerArrayAsTheSpare() {
    BodyBudget budget = new BodyBudget(1 << 20);
    BoundedBody a = new BoundedBody(10_000, 1000, budget, "/pods");
    BoundedBody b = new BoundedBody(10_000, 1200, budget, "/pods");
    byte[] larger = b.array();
    a.recycle();
    b.recycle();

    assertThat(budget.reserved()).isEqualTo(1200);
    assertThat(budget.takeSpare("/pods")).isSameAs(larger);
  }

  @Test
  void aBodyWithoutAPathIsReleasedWhenRecycled() {
    BodyBudget budget = new BodyBudget(1 << 20);
    BoundedBody body = new BoundedBody(10_000, 1000, budget);
    body.recycle();
    assertThat(budget.reserved()).isZero();
  }
}
