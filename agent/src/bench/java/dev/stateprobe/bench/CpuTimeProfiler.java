package dev.stateprobe.bench;

import java.lang.management.ManagementFactory;
import java.util.Collection;
import java.util.List;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * CPU time of the benchmark's JVM per operation ({@code cpu.time.norm}, µs/op): the process's CPU
 * time over an iteration divided by the operations it measured. Unlike the wall time JMH reports,
 * it does not grow when other processes take the cores away, which on a shared 2-core machine is
 * most of the noise; it does include the GC's and the JIT's work, as an agent's CPU budget does.
 */
public final class CpuTimeProfiler implements InternalProfiler {
  static final String NAME = "cpu.time.norm";

  private final com.sun.management.OperatingSystemMXBean os =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
  private long before;

  @Override
  public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
    before = os.getProcessCpuTime();
  }

  @Override
  public Collection<? extends Result> afterIteration(
      BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
    long cpu = os.getProcessCpuTime() - before;
    long ops = result.getMetadata().getMeasuredOps();
    if (ops <= 0) {
      return List.of();
    }
    return List.of(new ScalarResult(NAME, cpu / 1000.0 / ops, "us/op", AggregationPolicy.AVG));
  }

  @Override
  public String getDescription() {
    return "process CPU time per operation";
  }
}
