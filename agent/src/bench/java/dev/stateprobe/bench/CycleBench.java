package dev.stateprobe.bench;

import dev.stateprobe.config.AgentConfig;
import dev.stateprobe.config.ConfigLoader;
import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.PodJsonDecoder;
import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftDetector;
import dev.stateprobe.drift.DriftTracker;
import dev.stateprobe.drift.Trust;
import dev.stateprobe.drift.TrustGate;
import dev.stateprobe.view.ControlPlaneView;
import dev.stateprobe.view.KubeletView;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimeView;
import dev.stateprobe.view.Snapshot;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * One detection cycle of the agent after the bytes have arrived, as {@code Agent} runs it: decode
 * {@code /pods} and {@code /runningpods/} into views, take the control-plane snapshot (a copy of
 * the informer's records), the trust gate, detect, track. Network I/O is not in it: the footprint
 * harness measures the real agent's CPU per cycle, HTTP and TLS included.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CycleBench {
  @Param({"110", "1000", "5000"})
  public int pods;

  @Param({"0", "5"})
  public int driftPercent;

  private BenchNode node;

  /** The informer's records, in the kind of map PodViewState keeps them in. */
  private Map<String, PodRecord> informerRecords;

  private final PodJsonDecoder decoder = new PodJsonDecoder();
  private final DriftDetector detector = new DriftDetector();
  private Duration poll;
  private TrustGate.Rules rules;
  private DriftTracker tracker;
  private Instant now;
  private long cycle;

  @Setup
  public void setUp() throws Exception {
    node = BenchNode.of(pods, driftPercent);
    informerRecords = new HashMap<>(node.api.podsByUid());
    AgentConfig config =
        ConfigLoader.load(
            Map.of("NODE_NAME", PodSynth.NODE, "KUBELET_URL", "https://localhost:10250"),
            List.of());
    poll = config.pollInterval();
    rules =
        new TrustGate.Rules(
            config.detection().quietPeriod(),
            config.timings().kubeletViewMaxAge(),
            config.timings().runtimeViewMaxAge());
    tracker =
        DriftTracker.initial(config.detection().windows(), config.detection().minObservations());
    now = BenchNode.NOW;
  }

  @Benchmark
  public DriftTracker cycle() throws DecodeException {
    now = now.plus(poll);
    KubeletView kubelet = BenchNode.kubeletView(decoder, node.kubeletPodsJson, now);
    RuntimeView runtime = BenchNode.runtimeView(decoder, node.runningPodsJson, now);
    ControlPlaneView api = new ControlPlaneView(informerRecords, now, true, false, null, "1", 0, 0);
    Snapshot s =
        new Snapshot(++cycle, now, api, Optional.of(kubelet), true, Optional.of(runtime), true);
    Trust trust = TrustGate.evaluate(s, rules, null);
    List<Drift> seen =
        trust.trusted() ? detector.detect(api, kubelet, s.runtime(), now) : List.of();
    tracker = tracker.step(trust.trusted(), seen, now).next();
    return tracker;
  }
}
