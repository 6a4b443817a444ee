package dev.stateprobe.bench;

import dev.stateprobe.decode.DecodeException;
import dev.stateprobe.decode.PodJsonDecoder;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import tools.jackson.core.JsonParser;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Decoding one kubelet reply, three ways over the same bytes: a bare Jackson token pass (the floor:
 * every token read, nothing kept), state-probe's streaming decoder (what the agent runs), and
 * fabric8's full {@code PodList} binding (the naive way). {@link BenchMain} prints the ratios.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class DecodeBench {
  @Param({"110", "1000", "5000"})
  public int pods;

  /** {@code pods}: the kubelet's {@code /pods}; {@code runningpods}: its {@code /runningpods/}. */
  @Param({"pods", "runningpods"})
  public String endpoint;

  private byte[] json;
  private final JsonFactory factory = new JsonFactory();
  private final PodJsonDecoder decoder = new PodJsonDecoder();
  private final KubernetesSerialization fabric8 = new KubernetesSerialization();

  @Setup
  public void setUp() {
    BenchNode node = BenchNode.of(pods, 0);
    json = endpoint.equals("pods") ? node.kubeletPodsJson : node.runningPodsJson;
    System.out.printf("%n%s: %d pods, %d bytes%n", endpoint, pods, json.length);
  }

  @Benchmark
  public long jacksonTokenPass() {
    long tokens = 0;
    try (JsonParser p = factory.createParser(ObjectReadContext.empty(), json, 0, json.length)) {
      while (p.nextToken() != null) {
        tokens++;
      }
    }
    return tokens;
  }

  @Benchmark
  public List<?> stateProbeDecoder() throws DecodeException {
    return endpoint.equals("pods")
        ? decoder.decodePodList(json, 0, json.length)
        : decoder.decodeRunningPods(json, 0, json.length);
  }

  @Benchmark
  public PodList fabric8PodList() {
    return fabric8.unmarshal(new ByteArrayInputStream(json), PodList.class);
  }
}
