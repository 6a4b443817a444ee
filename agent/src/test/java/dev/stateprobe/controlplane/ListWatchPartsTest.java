package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stateprobe.decode.DecodeException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JsonToken;

/** The small parts of {@link ListWatch}: what it asks for, and how it finds objects' keys. */
class ListWatchPartsTest {

  @Test
  void aResourceRefNamesTheCollectionPathAndItsSelector() {
    ResourceRef cpol =
        ResourceRef.cluster(
            "stateprobe.dev", "v1alpha1", "consistencypolicies", "ConsistencyPolicyList");
    ResourceRef brake =
        ResourceRef.namespaced("coordination.k8s.io", "v1", "leases", "LeaseList", "sp")
            .named("brake");
    ResourceRef pods = ResourceRef.podsOnNode("node-a");

    assertThat(cpol.path()).isEqualTo("/apis/stateprobe.dev/v1alpha1/consistencypolicies");
    assertThat(cpol.selectorQuery()).isEmpty();
    assertThat(brake.path()).isEqualTo("/apis/coordination.k8s.io/v1/namespaces/sp/leases");
    assertThat(brake.selectorQuery()).isEqualTo("fieldSelector=metadata.name%3Dbrake&");
    assertThat(brake.describe())
        .isEqualTo("leases.coordination.k8s.io in sp (metadata.name=brake)");
    assertThat(pods.path()).isEqualTo("/api/v1/pods");
    assertThat(pods.selectorQuery()).isEqualTo("fieldSelector=spec.nodeName%3Dnode-a&");
  }

  @Test
  void aResourceRefRefusesWhatWouldMakeABadRequest() {
    assertThatThrownBy(() -> ResourceRef.cluster("g", "", "things", "ThingList"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version");
    assertThatThrownBy(() -> ResourceRef.namespaced("g", "v1", "things", "ThingList", " "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("namespace");
    assertThatThrownBy(() -> ResourceRef.cluster("g", "v1", "things", "ThingList").named(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("name");
  }

  @Test
  void aPageOfAnyKindGivesEachItemsNamespaceAndName() throws Exception {
    byte[] b =
        ("{\"kind\":\"LeaseList\",\"metadata\":{\"resourceVersion\":\"5\"},\"items\":["
                + "{\"metadata\":{\"name\":\"brake\",\"namespace\":\"sp\",\"uid\":\"u\"}},"
                + "{\"metadata\":{\"name\":\"slot-0\",\"namespace\":\"sp\"}}]}")
            .getBytes(StandardCharsets.UTF_8);

    ApiJson.Page page = new ApiJson().page(b, 0, b.length, "LeaseList");

    assertThat(page.items())
        .extracting(ApiJson.Item::namespace, ApiJson.Item::name, ApiJson.Item::uid)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("sp", "brake", "u"),
            org.assertj.core.groups.Tuple.tuple("sp", "slot-0", null));
    assertThatThrownBy(() -> new ApiJson().page(b, 0, b.length, "PodList"))
        .isInstanceOf(DecodeException.class)
        .hasMessageContaining("expected PodList");
  }

  @Test
  void aStreamingDecoderReadsOnlyTheObjectsSpan() throws Exception {
    byte[] b = "xx{\"a\":1}yy".getBytes(StandardCharsets.UTF_8);
    ObjectDecoder<String> d =
        ObjectDecoder.streaming(
            p -> {
              assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
              String name = p.nextName();
              p.nextToken();
              return name + "=" + p.getIntValue() + (p.nextToken() == JsonToken.END_OBJECT);
            });

    assertThat(d.decode(b, 2, 7)).isEqualTo("a=1true");
  }
}
