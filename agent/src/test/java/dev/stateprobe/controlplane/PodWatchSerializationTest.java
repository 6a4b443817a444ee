package dev.stateprobe.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.WatchEvent;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

/** What the informer's own serialization makes of the events a pod watch delivers. */
class PodWatchSerializationTest {
  private final KubernetesSerialization serialization = PodInformerSource.podWatchSerialization();

  private Object object(String event) {
    return serialization.unmarshal(event, WatchEvent.class).getObject();
  }

  @Test
  void aPodEventCarriesAPod() {
    Object o =
        object(
            "{\"type\":\"MODIFIED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                + "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\",\"uid\":\"u-1\","
                + "\"resourceVersion\":\"42\"},\"spec\":{\"nodeName\":\"n1\"}}}");
    assertThat(o).isInstanceOf(Pod.class);
    Pod pod = (Pod) o;
    assertThat(pod.getMetadata().getUid()).isEqualTo("u-1");
    assertThat(pod.getSpec().getNodeName()).isEqualTo("n1");
  }

  @Test
  void aGoneErrorCarriesAStatusSoTheInformerRelists() {
    Object o =
        object(
            "{\"type\":\"ERROR\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Status\","
                + "\"status\":\"Failure\",\"reason\":\"Expired\",\"code\":410,"
                + "\"message\":\"too old resource version\"}}");
    assertThat(o).isInstanceOf(Status.class);
    assertThat(((Status) o).getCode()).isEqualTo(410);
  }

  @Test
  void anyOtherKindStillDecodesGenerically() {
    Object o =
        object(
            "{\"type\":\"ADDED\",\"object\":{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                + "\"metadata\":{\"name\":\"c\"}}}");
    assertThat(o).isInstanceOf(GenericKubernetesResource.class);
  }

  @Test
  void podsSerializeAsTheDefaultSerializationDoes() {
    Pod pod =
        new KubernetesSerialization()
            .unmarshal(
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
                    + "\"uid\":\"u-1\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":"
                    + "[{\"name\":\"c\",\"image\":\"i\",\"ports\":[{\"containerPort\":80}]}]}}",
                Pod.class);
    assertThat(serialization.asJson(pod)).isEqualTo(new KubernetesSerialization().asJson(pod));
  }
}
