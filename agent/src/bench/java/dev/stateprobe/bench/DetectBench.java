package dev.stateprobe.bench;

import dev.stateprobe.drift.Drift;
import dev.stateprobe.drift.DriftDetector;
import java.util.List;
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

/** The pure detector on decoded views, with no drift and with 5 % of the pods drifting. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DetectBench {
  @Param({"110", "1000", "5000"})
  public int pods;

  @Param({"0", "5"})
  public int driftPercent;

  private BenchNode node;
  private final DriftDetector detector = new DriftDetector();

  @Setup
  public void setUp() {
    node = BenchNode.of(pods, driftPercent);
    System.out.printf(
        "%n%d pods, %d %% drift: %d drifts%n", pods, driftPercent, node.drifts.size());
  }

  @Benchmark
  public List<Drift> detect() {
    return detector.detect(node.api, node.kubelet, Optional.of(node.runtime), BenchNode.NOW);
  }
}
