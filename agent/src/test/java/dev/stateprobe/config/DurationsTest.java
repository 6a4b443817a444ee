package dev.stateprobe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @ParameterizedTest
  @CsvSource({"500ms, 500", "5s, 5000", "2m, 120000", "1h, 3600000", "1m30s, 90000", "0s, 0"})
  void parsesGoStyleDurations(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest
  @ValueSource(strings = {"5", "s", "5 s", "1.5s", "-1s", "5d", "", "10sms"})
  void refusesAnythingElseNamingTheFormat(String text) {
    assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @CsvSource({"1500, 1500ms", "5000, 5s", "120000, 2m", "86400000, 24h"})
  void formatsTheShortestExactForm(long millis, String text) {
    assertThat(Durations.format(Duration.ofMillis(millis))).isEqualTo(text);
  }
}
