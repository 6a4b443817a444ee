package dev.stateprobe.decode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.testing.Fixtures;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class ItemMemoTest {
  private final PodJsonDecoder decoder = new PodJsonDecoder();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static final List<String> CAPTURES =
      List.of(
          Fixtures.K8S_1_35,
          Fixtures.API_1_35,
          Fixtures.K8S_1_24,
          Fixtures.K8S_1_16,
          Fixtures.EVICTED,
          Fixtures.K8S_1_10_INIT,
          Fixtures.K8S_1_9_GKE);

  @ParameterizedTest(name = "{0}")
  @FieldSource("CAPTURES")
  void everyCaptureDecodesAsWithoutAMemoAndTheSecondTimeToTheSameRecords(String file)
      throws Exception {
    byte[] capture = Fixtures.kubelet(file);
    // Inside a larger array, as a reply buffer holds it.
    byte[] padded = new byte[capture.length + 7];
    System.arraycopy(capture, 0, padded, 3, capture.length);
    ItemMemo<PodRecord> memo = new ItemMemo<>();
    List<PodRecord> plain = decoder.decodePodList(capture);

    List<PodRecord> first = decoder.decodePodList(padded, 3, capture.length, 10_000, memo);
    assertThat(first).isEqualTo(plain);
    List<PodRecord> second = decoder.decodePodList(padded, 3, capture.length, 10_000, memo);
    assertThat(second).isEqualTo(plain);
    for (int i = 0; i < second.size(); i++) {
      assertThat(second.get(i)).as("item %d", i).isSameAs(first.get(i));
    }
  }

  @Test
  void onlyTheChangedItemIsDecodedAgain() throws Exception {
    String list =
        "{\"kind\":\"PodList\",\"items\":[%s,%s]}"
            .formatted(pod("a", "uid-a", "x"), pod("b", "uid-b", "x"));
    String changed =
        "{\"kind\":\"PodList\",\"items\":[%s,%s]}"
            .formatted(pod("a", "uid-a", "x"), pod("b", "uid-b", "y"));
    ItemMemo<PodRecord> memo = new ItemMemo<>();
    List<PodRecord> first = decoder.decodePodList(utf8(list), 0, utf8(list).length, 10, memo);

    List<PodRecord> second =
        decoder.decodePodList(utf8(changed), 0, utf8(changed).length, 10, memo);
    assertThat(second).isEqualTo(decoder.decodePodList(utf8(changed)));
    assertThat(second.get(0)).isSameAs(first.get(0));
    assertThat(second.get(1)).isNotSameAs(first.get(1));
    assertThat(second.get(1).labelsHash()).isNotEqualTo(first.get(1).labelsHash());
  }

  @Test
  void aRefusedListIsRefusedWithTheSameMessageAndLeavesTheMemoAsItWas() throws Exception {
    String good = "{\"kind\":\"PodList\",\"items\":[%s]}".formatted(pod("a", "uid-a", "x"));
    String[] bad = {
      "{\"kind\":\"PodList\",\"items\":[%s,{\"metadata\":{\"name\":\"b\",\"uid\":\"u\",\"uid\":\"v\"}}]}"
          .formatted(pod("a", "uid-a", "x")),
      "{\"kind\":\"PodList\",\"items\":[%s,{\"metadata\":{\"name\":\"b\"}}]}"
          .formatted(pod("a", "uid-a", "x")),
      "{\"kind\":\"PodList\",\"items\":[%s],\"items\":[]}".formatted(pod("a", "uid-a", "x")),
      "{\"kind\":\"PodList\",\"items\":[%s,{\"metadata\":{\"name\":\"b\",\"uid\":\"u\"}}"
          .formatted(pod("a", "uid-a", "x")),
    };
    ItemMemo<PodRecord> memo = new ItemMemo<>();
    PodRecord a = decoder.decodePodList(utf8(good), 0, utf8(good).length, 10, memo).get(0);
    for (String b : bad) {
      byte[] bytes = utf8(b);
      Throwable plain = catchDecode(() -> decoder.decodePodList(bytes, 0, bytes.length, 10));
      assertThat(plain).as(b).isInstanceOf(DecodeException.class);
      assertThatThrownBy(() -> decoder.decodePodList(bytes, 0, bytes.length, 10, memo))
          .as(b)
          .isInstanceOf(DecodeException.class)
          .hasMessage(plain.getMessage());
    }
    byte[] two =
        utf8(
            "{\"kind\":\"PodList\",\"items\":[%s,%s]}"
                .formatted(pod("a", "uid-a", "x"), pod("c", "uid-c", "x")));
    assertThatThrownBy(() -> decoder.decodePodList(two, 0, two.length, 1, memo))
        .isInstanceOfSatisfying(DecodeException.class, e -> assertThat(e.tooLarge()).isTrue());

    assertThat(decoder.decodePodList(utf8(good), 0, utf8(good).length, 10, memo).get(0))
        .isSameAs(a);
  }

  @Test
  void runningPodsAreReusedToo() throws Exception {
    String list =
        "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"n\","
            + "\"uid\":\"uid-a\"},\"spec\":{\"containers\":[{\"name\":\"app\"}]}}]}";
    byte[] bytes = utf8(list);
    ItemMemo<RuntimePod> memo = new ItemMemo<>();
    List<RuntimePod> first = decoder.decodeRunningPods(bytes, 0, bytes.length, 10, memo);
    assertThat(first).isEqualTo(decoder.decodeRunningPods(bytes));
    assertThat(decoder.decodeRunningPods(bytes, 0, bytes.length, 10, memo).get(0))
        .isSameAs(first.get(0));
  }

  private static String pod(String name, String uid, String label) {
    return ("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\",\"uid\":\"%s\","
            + "\"labels\":{\"l\":\"%s\"}},\"spec\":{\"nodeName\":\"n1\"},"
            + "\"status\":{\"phase\":\"Running\"}}")
        .formatted(name, uid, label);
  }

  @FunctionalInterface
  private interface Decode {
    Object run() throws DecodeException;
  }

  private static Throwable catchDecode(Decode d) {
    try {
      d.run();
      return null;
    } catch (DecodeException e) {
      return e;
    }
  }
}
