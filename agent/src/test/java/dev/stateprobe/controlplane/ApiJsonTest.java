package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.decode.DecodeException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ApiJsonTest {
  private final ApiJson json = new ApiJson();

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aPageGivesItsVersionItsContinueTokenAndWhereEachPodLies() throws Exception {
    String text =
        "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"42\",\"continue\":\"abc\","
            + "\"remainingItemCount\":3},\"items\":[{\"metadata\":{\"uid\":\"u1\"}},"
            + " {\"metadata\":{\"uid\":\"u2\",\"x\":[1,{\"y\":2}]}}]}";
    byte[] b = bytes(text);
    ApiJson.Page page = json.page(b, 0, b.length);

    assertThat(page.resourceVersion()).isEqualTo("42");
    assertThat(page.continueToken()).isEqualTo("abc");
    assertThat(page.items()).hasSize(2);
    assertThat(page.items()).extracting(ApiJson.Item::uid).containsExactly("u1", "u2");
    ApiJson.Span second = page.items().get(1).span();
    assertThat(new String(b, second.offset(), second.length(), StandardCharsets.UTF_8))
        .isEqualTo("{\"metadata\":{\"uid\":\"u2\",\"x\":[1,{\"y\":2}]}}");
  }

  @Test
  void anEmptyContinueTokenIsTheLastPage() throws Exception {
    byte[] b = bytes("{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"\"},\"items\":null}");
    ApiJson.Page page = json.page(b, 0, b.length);
    assertThat(page.continueToken()).isNull();
    assertThat(page.items()).isEmpty();
  }

  @Test
  void aBookmarkThatEndsTheInitialEventsIsRecognised() throws Exception {
    byte[] b =
        bytes(
            "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":"
                + "\"77\",\"annotations\":{\"other\":\"x\",\"k8s.io/initial-events-end\":\"true\"}}}}");
    ApiJson.Event e = json.event(b, 0, b.length);
    assertThat(e.type()).isEqualTo("BOOKMARK");
    assertThat(e.resourceVersion()).isEqualTo("77");
    assertThat(e.initialEventsEnd()).isTrue();
  }

  @Test
  void anErrorEventCarriesItsStatusCode() throws Exception {
    byte[] b =
        bytes(
            "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
                + "\"message\":\"too old resource version\",\"metadata\":{}}}");
    ApiJson.Event e = json.event(b, 0, b.length);
    assertThat(e.code()).isEqualTo(410);
    assertThat(e.message()).isEqualTo("too old resource version");
    assertThat(e.initialEventsEnd()).isFalse();
  }

  @Test
  void aPodEventGivesIdentityAndTheObjectsExactBytes() throws Exception {
    String pod =
        "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"a\",\"uid\":\"u1\","
            + "\"resourceVersion\":\"9\"},\"spec\":{}}";
    byte[] b = bytes("{\"type\":\"MODIFIED\",\"object\":" + pod + "}\n");
    ApiJson.Event e = json.event(b, 0, b.length - 1);
    assertThat(e.uid()).isEqualTo("u1");
    assertThat(e.namespace()).isEqualTo("ns");
    assertThat(e.name()).isEqualTo("a");
    assertThat(e.resourceVersion()).isEqualTo("9");
    assertThat(new String(b, e.object().offset(), e.object().length(), StandardCharsets.UTF_8))
        .isEqualTo(pod);
  }

  @Test
  void badInputIsRefusedWithAMessageThatSaysWhat() {
    byte[] notAList = bytes("{\"kind\":\"Status\",\"items\":[]}");
    assertThatThrownBy(() -> json.page(notAList, 0, notAList.length))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("expected PodList");
    byte[] truncated = bytes("{\"type\":\"ADDED\",\"object\":{\"metadata\":");
    assertThatThrownBy(() -> json.event(truncated, 0, truncated.length))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("malformed watch event");
    byte[] noObject = bytes("{\"type\":\"ADDED\"}");
    assertThatThrownBy(() -> json.event(noObject, 0, noObject.length))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("no type or no object");
  }
}
