package dev.stateprobe.controlplane;

import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.PodRecord;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * One LIST of this node's pods, as a complete view: what {@code check} and revalidation use where
 * an informer would be too much. Blocking: call it off the event loop.
 */
public final class PodLister {
  private final KubernetesClient client;
  private final String nodeName;
  private final PodJsonDecoder decoder;

  public PodLister(KubernetesClient client, String nodeName, PodJsonDecoder decoder) {
    this.client = client;
    this.nodeName = nodeName;
    this.decoder = decoder;
  }

  /**
   * @throws DecodeException when the API server returns a pod the decoder refuses
   */
  public ControlPlaneView list(Instant now) throws DecodeException {
    PodList list = client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).list();
    Map<String, PodRecord> pods = new HashMap<>();
    for (Pod pod : list.getItems()) {
      PodRecord r = decode(pod);
      pods.put(r.uid(), r);
    }
    String rv = list.getMetadata() == null ? null : list.getMetadata().getResourceVersion();
    return new ControlPlaneView(pods, now, true, false, null, rv, 0, 0);
  }

  /** The same mapping the informer uses: fabric8's JSON through the one decoder. */
  public PodRecord decode(Pod pod) throws DecodeException {
    String json = client.getKubernetesSerialization().asJson(pod);
    return decoder.decodePod(json.getBytes(StandardCharsets.UTF_8));
  }
}
