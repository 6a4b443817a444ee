package dev.stateprobe.repair.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LabelsTest {
  private static final Pattern LABEL_VALUE =
      Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");

  @ParameterizedTest
  @ValueSource(strings = {"worker-1", "OrphanedPod", "remove-orphaned-sandbox", "a.b_c", "x", ""})
  void aValidValueStaysAsItIs(String v) {
    assertEquals(v, Labels.value(v));
  }

  @ParameterizedTest(name = "{0} -> {1}<hash>")
  @CsvSource(
      delimiter = '|',
      value = {
        "ip-10-0-3-17.eu-west-1.compute.internal.example.with.a.very.long.suffix.that.goes.on |"
            + " ip-10-0-3-17.eu-west-1.compute.internal.example.with-",
        "nödé | n-d-",
        "-lead | lead-",
        "trail- | trail-",
        "a b/c | a-b-c-",
      })
  void anInvalidValueBecomesAValidOneWithAHash(String raw, String prefix) {
    String v = Labels.value(raw);
    assertTrue(v.length() <= 63, v);
    assertTrue(LABEL_VALUE.matcher(v).matches(), v);
    assertEquals(prefix, v.substring(0, v.length() - 10));
    assertEquals(v, Labels.value(raw));
  }

  @Test
  void aValueOfOnlyInvalidCharactersBecomesItsHash() {
    String v = Labels.value("___");
    assertEquals(10, v.length());
    assertTrue(LABEL_VALUE.matcher(v).matches(), v);
  }

  @Test
  void longValuesThatDifferOnlyAtTheEndStayDifferent() {
    String base = "n".repeat(100);
    assertNotEquals(Labels.value(base + "a"), Labels.value(base + "b"));
  }
}
