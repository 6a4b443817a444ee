package dev.stateprobe.repair.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class OutputTailTest {
  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static void write(OutputTail t, String s) {
    byte[] b = ascii(s);
    t.write(b, 0, b.length);
  }

  @Test
  void shortOutputIsKeptWhole() {
    OutputTail t = new OutputTail(8);
    write(t, "abc");
    write(t, "de");
    assertEquals("abcde", t.text());
    assertEquals(5, t.total());
  }

  @Test
  void wrappingKeepsTheLastBytesInOrder() {
    OutputTail t = new OutputTail(8);
    write(t, "abcdef");
    write(t, "ghij");
    assertArrayEquals(ascii("cdefghij"), t.bytes());
    write(t, "k");
    assertEquals("defghijk", t.text());
    assertEquals(11, t.total());
  }

  @Test
  void oneWriteLargerThanTheRingKeepsItsEnd() {
    OutputTail t = new OutputTail(8);
    write(t, "xyz");
    write(t, "0123456789abc");
    assertEquals("56789abc", t.text());
    write(t, "de");
    assertEquals("789abcde", t.text());
  }

  @Test
  void writeOfExactlyTheCapacityAtAnOffset() {
    OutputTail t = new OutputTail(4);
    write(t, "ab");
    write(t, "cdef");
    assertEquals("cdef", t.text());
    write(t, "g");
    assertEquals("defg", t.text());
  }

  @Test
  void cutInsideAMultiByteCharacterSkipsItsLeftoverBytes() {
    // "é" is C3 A9, "€" is E2 82 AC: keeping the last 4 bytes of "aé€" cuts "é" in half.
    OutputTail t = new OutputTail(4);
    byte[] b = "aé€".getBytes(StandardCharsets.UTF_8);
    t.write(b, 0, b.length);
    assertEquals("€", t.text());
  }

  @Test
  void untruncatedOutputKeepsEvenABrokenFirstByteVisible() {
    OutputTail t = new OutputTail(16);
    byte[] b = {(byte) 0xA9, 'o', 'k'};
    t.write(b, 0, b.length);
    assertEquals("\uFFFDok", t.text());
  }

  @Test
  void drainReadsAStreamToItsEnd() {
    OutputTail t = new OutputTail(4);
    t.drain(new ByteArrayInputStream(ascii("hello world")));
    assertEquals("orld", t.text());
    assertEquals(11, t.total());
  }
}
