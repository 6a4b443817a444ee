package dev.stateprobe.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogfmtTest {
  @Test
  void aPlainValueStaysAsItIs() {
    assertThat(Logfmt.value("web-0")).isEqualTo("web-0");
    assertThat(Logfmt.value(42)).isEqualTo("42");
  }

  @Test
  void aValueThatCouldEndTheLineOrStartAFieldIsQuotedAndEscaped() {
    assertThat(Logfmt.value("web\r\n2026 INFO event=drift_confirmed"))
        .isEqualTo("\"web\\r\\n2026 INFO event=drift_confirmed\"");
    assertThat(Logfmt.value("a b")).isEqualTo("\"a b\"");
    assertThat(Logfmt.value("a=b")).isEqualTo("\"a=b\"");
    assertThat(Logfmt.value("")).isEqualTo("\"\"");
    assertThat(Logfmt.value("say \"hi\" \\ bye")).isEqualTo("\"say \\\"hi\\\" \\\\ bye\"");
    assertThat(Logfmt.value("\u001b[2J\u0000")).isEqualTo("\"\\u001b[2J\\u0000\"");
    assertThat(Logfmt.value("\u202eevil")).isEqualTo("\"\\u202eevil\"");
  }

  @Test
  void escapedIsTheInsideOfAQuotedValue() {
    assertThat(Logfmt.escaped("x\"\n\t\u007f\u0085")).isEqualTo("x\\\"\\n\\t\\u007f\\u0085");
    assertThat(Logfmt.escaped("plain text")).isEqualTo("plain text");
  }

  @Test
  void printableEscapesControlCharactersOnly() {
    assertThat(Logfmt.printable("a \"b\" \\c\u001b]0;pwned\u0007\n"))
        .isEqualTo("a \"b\" \\c\\u001b]0;pwned\\u0007\\u000a");
    assertThat(Logfmt.printable("ünïcode ok")).isEqualTo("ünïcode ok");
  }

  @Test
  void shortenedCutsLongValues() {
    assertThat(Logfmt.shortened("a".repeat(64))).hasSize(64);
    assertThat(Logfmt.shortened("a".repeat(65))).isEqualTo("a".repeat(64) + "…");
  }
}
