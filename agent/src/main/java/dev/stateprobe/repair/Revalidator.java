package dev.stateprobe.repair;

import dev.stateprobe.controlplane.ControlPlaneSource;
import dev.stateprobe.controlplane.PodLister;
import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftDetector;
import dev.stateprobe.drift.DriftKey;
import dev.stateprobe.kubelet.KubeletSource;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimeView;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Right before a script starts: does the drift still hold, on fresh reads? The pod is read with a
 * direct GET (not the informer cache, which may lag), the kubelet is polled again, and the same
 * pure detector judges the result. Only the same drift for the same UID counts.
 */
public final class Revalidator {
  private final KubernetesClient client;
  private final WorkerExecutor worker;
  private final ControlPlaneSource controlPlane;
  private final KubeletSource kubelet;
  private final PodLister lister;
  private final Clock clock;
  private final DriftDetector detector = new DriftDetector();

  public Revalidator(
      KubernetesClient client,
      WorkerExecutor worker,
      ControlPlaneSource controlPlane,
      KubeletSource kubelet,
      PodLister lister,
      Clock clock) {
    this.client = client;
    this.worker = worker;
    this.controlPlane = controlPlane;
    this.kubelet = kubelet;
    this.lister = lister;
    this.clock = clock;
  }

  /**
   * What the fresh reads say. (The record is written before them, so the target's resourceVersion
   * in {@code spec.drift} is the one the drift was confirmed from.)
   */
  public record Verdict(boolean stillHolds, String why) {}

  public Future<Verdict> check(DriftKey key) {
    String ns = key.target().namespace();
    String name = key.target().name();
    Future<Optional<PodRecord>> direct =
        worker.executeBlocking(
            () -> {
              Pod pod = client.pods().inNamespace(ns).withName(name).get();
              return pod == null ? Optional.<PodRecord>empty() : Optional.of(lister.decode(pod));
            },
            false);
    Future<KubeletView> pods = kubelet.pollPods();
    Future<Optional<RuntimeView>> runtime = kubelet.pollRunningPods();
    return Future.all(direct, pods, runtime)
        .map(
            all -> {
              Instant now = clock.instant();
              ControlPlaneView cached = controlPlane.snapshot(now);
              Map<String, PodRecord> api = new HashMap<>(cached.podsByUid());
              // The GET is the truth about this name: drop what the cache says about it.
              api.values().removeIf(p -> p.namespace().equals(ns) && p.name().equals(name));
              api.remove(key.target().uid());
              Optional<PodRecord> fresh = direct.result();
              fresh.ifPresent(p -> api.put(p.uid(), p));
              ControlPlaneView view =
                  new ControlPlaneView(
                      api,
                      now,
                      cached.synced(),
                      cached.relisting(),
                      cached.lastRelistAt(),
                      cached.resourceVersion(),
                      cached.relists(),
                      cached.watchRestarts());
              boolean holds =
                  detector.detect(view, pods.result(), runtime.result(), now).stream()
                      .map(Drift::key)
                      .anyMatch(key::equals);
              return new Verdict(
                  holds, holds ? "drift still holds on fresh reads" : "drift gone before repair");
            });
  }
}
