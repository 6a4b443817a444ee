package dev.stateprobe.bench;

import dev.stateprobe.testing.Fixtures;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Pods for a node of any size, made from the real kubelet captures in the test fixtures, so that
 * sizes and shapes (managedFields, static pods, init containers, terminated and pending pods) are
 * those of real {@code /pods} replies. Pod {@code i} is a copy of capture pod {@code i mod 80} with
 * a unique name ({@code -s<i>} appended) and UID (derived from {@code i}); static pods also get
 * their {@code kubernetes.io/config.hash} set to the new UID, as a kubelet does.
 *
 * <p>Deterministic: the same {@code n} always gives the same bytes.
 */
public final class PodSynth {
  public static final String NODE = "bench-node";

  static final String CONFIG_SOURCE = "kubernetes.io/config.source";
  static final String CONFIG_SEEN = "kubernetes.io/config.seen";
  static final String CONFIG_HASH = "kubernetes.io/config.hash";
  static final String CONFIG_MIRROR = "kubernetes.io/config.mirror";

  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private final List<ObjectNode> templates;

  public PodSynth() {
    templates = new ArrayList<>();
    for (String capture : Fixtures.KUBELET_CAPTURES) {
      JsonNode list = MAPPER.readTree(Fixtures.kubelet(capture));
      for (JsonNode item : list.get("items")) {
        templates.add((ObjectNode) item);
      }
    }
  }

  /** How many distinct capture pods there are to copy from. */
  public int templates() {
    return templates.size();
  }

  /** The kubelet's copies of {@code n} pods, in {@code /pods} order. */
  public List<ObjectNode> kubeletPods(int n) {
    List<ObjectNode> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ObjectNode pod = templates.get(i % templates.size()).deepCopy();
      ObjectNode meta = (ObjectNode) pod.get("metadata");
      String uid = uid(i);
      meta.put("name", meta.path("name").asString("pod") + "-s" + i);
      meta.put("uid", uid);
      ObjectNode spec = pod.has("spec") ? (ObjectNode) pod.get("spec") : pod.putObject("spec");
      spec.put("nodeName", NODE);
      JsonNode ann = meta.get("annotations");
      if (ann instanceof ObjectNode a && a.has(CONFIG_HASH)) {
        a.put(CONFIG_HASH, uid);
      }
      out.add(pod);
    }
    return out;
  }

  /**
   * What the API server holds for the same pods: the kubelet's own annotations removed, and each
   * static pod replaced by its mirror pod (a UID of its own, {@code config.mirror} = the static
   * pod's UID). Against {@link #kubeletPods} this is a node without drift.
   */
  public List<ObjectNode> apiPods(List<ObjectNode> kubeletPods) {
    List<ObjectNode> out = new ArrayList<>(kubeletPods.size());
    int i = 0;
    for (ObjectNode k : kubeletPods) {
      ObjectNode pod = k.deepCopy();
      ObjectNode meta = (ObjectNode) pod.get("metadata");
      JsonNode ann = meta.get("annotations");
      if (ann instanceof ObjectNode a) {
        String source = a.path(CONFIG_SOURCE).asString("");
        a.remove(CONFIG_SEEN);
        if (source.equals("file") || source.equals("http")) {
          a.put(CONFIG_MIRROR, meta.get("uid").asString());
          meta.put("uid", mirrorUid(i));
        } else {
          a.remove(CONFIG_SOURCE);
        }
      }
      out.add(pod);
      i++;
    }
    return out;
  }

  /**
   * The kubelet's {@code /runningpods/}: per pod with running containers, identity and those
   * containers (name, image), as {@code Pod.ToAPIPod()} renders a runtime pod.
   */
  public byte[] runningPods(List<ObjectNode> kubeletPods) {
    ObjectNode list = MAPPER.createObjectNode();
    list.put("kind", "PodList");
    list.put("apiVersion", "v1");
    list.putObject("metadata");
    ArrayNode items = list.putArray("items");
    for (ObjectNode pod : kubeletPods) {
      List<String[]> running = new ArrayList<>();
      for (JsonNode s : pod.path("status").path("containerStatuses")) {
        if (s.path("state").has("running")) {
          running.add(new String[] {s.path("name").asString(""), s.path("image").asString("")});
        }
      }
      if (running.isEmpty()) {
        continue;
      }
      ObjectNode item = items.addObject();
      ObjectNode meta = item.putObject("metadata");
      meta.put("name", pod.path("metadata").path("name").asString());
      meta.put("namespace", pod.path("metadata").path("namespace").asString("default"));
      meta.put("uid", pod.path("metadata").path("uid").asString());
      meta.putNull("creationTimestamp");
      ArrayNode containers = item.putObject("spec").putArray("containers");
      for (String[] c : running) {
        ObjectNode container = containers.addObject();
        container.put("name", c[0]);
        container.put("image", c[1]);
        container.putObject("resources");
      }
      item.putObject("status");
    }
    return MAPPER.writeValueAsBytes(list);
  }

  /** A {@code PodList} of these pods, compact, as the kubelet writes it. */
  public static byte[] podList(List<ObjectNode> pods) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(pods.size() * 6000);
    out.writeBytes(
        "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":["
            .getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < pods.size(); i++) {
      if (i > 0) {
        out.write(',');
      }
      out.writeBytes(MAPPER.writeValueAsBytes(pods.get(i)));
    }
    out.writeBytes("]}".getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  public static byte[] json(JsonNode node) {
    return MAPPER.writeValueAsBytes(node);
  }

  static String uid(int i) {
    return UUID.nameUUIDFromBytes(("state-probe-bench-pod-" + i).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  static String mirrorUid(int i) {
    return UUID.nameUUIDFromBytes(
            ("state-probe-bench-mirror-" + i).getBytes(StandardCharsets.UTF_8))
        .toString();
  }
}
