package dev.stateprobe.bench;

import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftDetector;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import dev.stateprobe.view.RuntimeView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One simulated node for the benchmarks: the bytes the kubelet serves ({@code /pods}, {@code
 * /runningpods/}), the API server's pods, and the three views decoded from them, with a chosen
 * share of pods drifting.
 *
 * <p>Drift is made in the JSON, so the decoder sees it as it would arrive. Of every 20 running,
 * non-static pods (5 %) one drifts, taking turns over four kinds: gone from the kubelet's list
 * (UnknownToKubelet), a label only the API server has (StaleKubeletView), a new UID on the
 * kubelet's side (UidMismatch), its containers gone from the runtime (ContainerNotRunning).
 */
public final class BenchNode {
  public static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");

  public final int pods;
  public final int driftPercent;
  public final byte[] kubeletPodsJson;
  public final byte[] runningPodsJson;
  public final byte[] apiPodsJson;
  public final KubeletView kubelet;
  public final RuntimeView runtime;
  public final ControlPlaneView api;

  /** What the detector finds on this node; checked when the node is made. */
  public final List<Drift> drifts;

  private BenchNode(int pods, int driftPercent, PodSynth synth) throws DecodeException {
    if (driftPercent != 0 && driftPercent != 5) {
      throw new IllegalArgumentException("driftPercent must be 0 or 5, got " + driftPercent);
    }
    this.pods = pods;
    this.driftPercent = driftPercent;
    List<ObjectNode> kubeletPods = synth.kubeletPods(pods);
    List<ObjectNode> apiPods = synth.apiPods(kubeletPods);
    Set<String> notRunning = new HashSet<>();
    int drifted = 0;
    if (driftPercent > 0) {
      List<ObjectNode> keep = new ArrayList<>(kubeletPods.size());
      int eligible = 0;
      for (int i = 0; i < kubeletPods.size(); i++) {
        ObjectNode k = kubeletPods.get(i);
        if (!eligible(k) || eligible++ % 20 != 7) {
          keep.add(k);
          continue;
        }
        switch (drifted++ % 4) {
          case 0 -> {} // UnknownToKubelet: not kept
          case 1 -> {
            keep.add(k);
            ObjectNode meta = (ObjectNode) apiPods.get(i).get("metadata");
            JsonNode labels = meta.get("labels");
            (labels instanceof ObjectNode l ? l : meta.putObject("labels"))
                .put("bench.stateprobe.dev/drift", "stale");
          }
          case 2 -> {
            ObjectNode copy = k.deepCopy();
            ((ObjectNode) copy.get("metadata"))
                .put("uid", UUID.nameUUIDFromBytes(("recreated-" + i).getBytes()).toString());
            keep.add(copy);
          }
          default -> {
            keep.add(k);
            notRunning.add(k.get("metadata").get("uid").asString());
          }
        }
      }
      kubeletPods = keep;
    }
    List<ObjectNode> running = new ArrayList<>();
    for (ObjectNode k : kubeletPods) {
      if (!notRunning.contains(k.get("metadata").get("uid").asString())) {
        running.add(k);
      }
    }
    this.kubeletPodsJson = PodSynth.podList(kubeletPods);
    this.runningPodsJson = synth.runningPods(running);
    this.apiPodsJson = PodSynth.podList(apiPods);

    PodJsonDecoder decoder = new PodJsonDecoder();
    this.kubelet = kubeletView(decoder, kubeletPodsJson, NOW);
    this.runtime = runtimeView(decoder, runningPodsJson, NOW);
    Map<String, PodRecord> apiByUid = new LinkedHashMap<>();
    for (PodRecord r : decoder.decodePodList(apiPodsJson)) {
      apiByUid.put(r.uid(), r);
    }
    this.api = new ControlPlaneView(apiByUid, NOW, true, false, null, "1", 0, 0);
    this.drifts = new DriftDetector().detect(api, kubelet, Optional.of(runtime), NOW);
    if (driftPercent == 0 && !drifts.isEmpty()) {
      throw new IllegalStateException(
          "a node of " + pods + " pods without drift shows " + drifts.size() + ": " + drifts);
    }
    if (driftPercent > 0 && drifts.size() != drifted) {
      throw new IllegalStateException(
          drifted
              + " pods were made to drift but the detector finds "
              + drifts.size()
              + ": "
              + drifts);
    }
  }

  public static BenchNode of(int pods, int driftPercent) {
    try {
      return new BenchNode(pods, driftPercent, new PodSynth());
    } catch (DecodeException e) {
      throw new IllegalStateException("synthesized pods do not decode", e);
    }
  }

  /** Running (so every kind of drift shows), not static (static pods pair by mirror). */
  private static boolean eligible(ObjectNode k) {
    String source =
        k.path("metadata").path("annotations").path(PodSynth.CONFIG_SOURCE).asString("");
    if (source.equals("file") || source.equals("http")) {
      return false;
    }
    if (!"Running".equals(k.path("status").path("phase").asString(""))) {
      return false;
    }
    for (JsonNode s : k.path("status").path("containerStatuses")) {
      if (s.path("state").has("running")) {
        return true;
      }
    }
    return false;
  }

  /** As the kubelet source makes it: decode, then key by UID. */
  public static KubeletView kubeletView(PodJsonDecoder decoder, byte[] json, Instant at)
      throws DecodeException {
    List<PodRecord> list = decoder.decodePodList(json, 0, json.length);
    Map<String, PodRecord> byUid = new LinkedHashMap<>(list.size() * 2);
    for (PodRecord p : list) {
      byUid.put(p.uid(), p);
    }
    return new KubeletView(byUid, at);
  }

  public static RuntimeView runtimeView(PodJsonDecoder decoder, byte[] json, Instant at)
      throws DecodeException {
    List<RuntimePod> list = decoder.decodeRunningPods(json, 0, json.length);
    Map<String, RuntimePod> byUid = new LinkedHashMap<>(list.size() * 2);
    for (RuntimePod p : list) {
      byUid.put(p.uid(), p);
    }
    return new RuntimeView(byUid, at);
  }
}
