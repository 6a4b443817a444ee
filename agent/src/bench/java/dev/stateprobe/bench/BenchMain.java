package dev.stateprobe.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs JMH with the given command-line options (those of JMH's own {@code Main}) plus {@link
 * CpuTimeProfiler}, then prints the results as Markdown tables: every benchmark with its wall time,
 * CPU time and allocation per operation (the last when run with {@code -prof gc}), and for the
 * decode benchmarks the ratios the budget speaks of, computed from CPU time.
 */
public final class BenchMain {
  private static final String NORM = "gc.alloc.rate.norm";

  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    Options options =
        new OptionsBuilder()
            .parent(new CommandLineOptions(args))
            .addProfiler(CpuTimeProfiler.class)
            .build();
    Collection<RunResult> results = new Runner(options).run();
    List<RunResult> sorted = new ArrayList<>(results);
    sorted.sort(Comparator.comparing(BenchMain::label));
    System.out.println();
    System.out.println("| benchmark | params | wall µs/op | ± | CPU µs/op | alloc/op |");
    System.out.println("| --- | --- | ---: | ---: | ---: | ---: |");
    for (RunResult r : sorted) {
      Result<?> p = r.getPrimaryResult();
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.1f | %.1f | %.1f | %s |%n",
          shortName(r.getParams()),
          params(r.getParams()),
          p.getScore(),
          p.getScoreError(),
          cpu(r),
          alloc(r));
    }
    decodeRatios(sorted);
  }

  /** Per size and endpoint: decoder ÷ floor (budget: ≤ 2) and fabric8 ÷ decoder. */
  private static void decodeRatios(List<RunResult> results) {
    Map<String, Map<String, Double>> byCase = new LinkedHashMap<>();
    for (RunResult r : results) {
      BenchmarkParams bp = r.getParams();
      if (!bp.getBenchmark().endsWith("DecodeBench." + method(bp))) {
        continue;
      }
      String key = bp.getParam("endpoint") + " | " + bp.getParam("pods");
      byCase.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(method(bp), cpu(r));
    }
    if (byCase.isEmpty()) {
      return;
    }
    System.out.println();
    System.out.println(
        "| endpoint | pods | token pass (floor), CPU µs | state-probe decoder, CPU µs | fabric8"
            + " PodList, CPU µs | decoder ÷ floor | fabric8 ÷ decoder |");
    System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (var e : byCase.entrySet()) {
      Map<String, Double> m = e.getValue();
      double floor = m.getOrDefault("jacksonTokenPass", Double.NaN);
      double ours = m.getOrDefault("stateProbeDecoder", Double.NaN);
      double naive = m.getOrDefault("fabric8PodList", Double.NaN);
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f | %.0f | %.0f | %.2f | %.1f |%n",
          e.getKey(),
          floor,
          ours,
          naive,
          ours / floor,
          naive / ours);
    }
  }

  private static String label(RunResult r) {
    return shortName(r.getParams()) + " " + params(r.getParams());
  }

  private static String method(BenchmarkParams bp) {
    String b = bp.getBenchmark();
    return b.substring(b.lastIndexOf('.') + 1);
  }

  private static String shortName(BenchmarkParams bp) {
    String b = bp.getBenchmark();
    int cls = b.lastIndexOf('.', b.lastIndexOf('.') - 1);
    return b.substring(cls + 1);
  }

  private static String params(BenchmarkParams bp) {
    List<String> out = new ArrayList<>();
    for (String k : bp.getParamsKeys()) {
      out.add(k + "=" + bp.getParam(k));
    }
    return String.join(" ", out);
  }

  private static double cpu(RunResult r) {
    Result<?> cpu = r.getSecondaryResults().get(CpuTimeProfiler.NAME);
    return cpu == null ? Double.NaN : cpu.getScore();
  }

  private static String alloc(RunResult r) {
    for (var e : r.getSecondaryResults().entrySet()) {
      if (e.getKey().endsWith(NORM)) {
        double bytes = e.getValue().getScore();
        return bytes >= 1 << 20
            ? String.format(Locale.ROOT, "%.1f MB", bytes / (1 << 20))
            : String.format(Locale.ROOT, "%.0f KB", bytes / 1024);
      }
    }
    return "-";
  }
}
