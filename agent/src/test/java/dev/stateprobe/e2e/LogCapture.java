package dev.stateprobe.e2e;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the agent logs while a test runs. slf4j-simple, as configured in {@code
 * simplelogger.properties} ({@code logFile=System.err}, output stream not cached), looks up {@code
 * System.err} for every line, so a tee installed here sees exactly what the agent would print, and
 * still prints it. One capture at a time; close it to restore {@code System.err}.
 */
final class LogCapture implements AutoCloseable {
  private final PrintStream original;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();

  LogCapture() {
    original = System.err;
    OutputStream tee =
        new OutputStream() {
          @Override
          public void write(int b) {
            original.write(b);
            buffer.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            original.write(b, off, len);
            buffer.write(b, off, len);
          }

          @Override
          public void flush() {
            original.flush();
          }
        };
    System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
  }

  String text() {
    return buffer.toString(StandardCharsets.UTF_8);
  }

  List<String> lines() {
    return text().lines().toList();
  }

  /** Lines with {@code event=NAME} and every one of {@code parts}. */
  List<String> events(String name, String... parts) {
    return lines().stream()
        .filter(l -> l.contains(" event=" + name + " ") || l.endsWith(" event=" + name))
        .filter(l -> List.of(parts).stream().allMatch(l::contains))
        .toList();
  }

  /** The {@code cycle=N} of a log line; fails when the line has none. */
  static long cycleOf(String line) {
    Matcher m = Pattern.compile(" cycle=(\\d+)\\b").matcher(line);
    if (!m.find()) {
      throw new AssertionError("no cycle id in log line: " + line);
    }
    return Long.parseLong(m.group(1));
  }

  @Override
  public void close() {
    System.err.flush();
    System.setErr(original);
  }
}
