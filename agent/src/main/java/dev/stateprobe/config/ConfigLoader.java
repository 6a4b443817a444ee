package dev.stateprobe.config;

import dev.stateprobe.drift.DriftKind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Builds {@link AgentConfig} from environment variables and {@code --flags}; a flag wins over its
 * variable. Every variable {@code FOO_BAR} is also the flag {@code --foo-bar=value} or {@code
 * --foo-bar value}. All problems are collected, then thrown together.
 */
public final class ConfigLoader {
  public static final Path DEFAULT_TOKEN_FILE =
      Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token");
  public static final Path DEFAULT_CATALOG =
      Path.of("/opt/state-probe/repair-scripts/catalog.yaml");

  /** Every variable this loader reads; an unknown flag is an error, not silently ignored. */
  public static final List<String> VARIABLES;

  static {
    List<String> v =
        new ArrayList<>(
            List.of(
                "NODE_NAME",
                "NODE_IP",
                "KUBELET_URL",
                "KUBELET_TOKEN_FILE",
                "KUBELET_CA_FILE",
                "KUBELET_INSECURE_SKIP_TLS_VERIFY",
                "KUBELET_ALLOW_INSECURE_HTTP",
                "KUBELET_VIA_API_PROXY",
                "KUBELET_CONNECT_TIMEOUT",
                "KUBELET_REQUEST_TIMEOUT",
                "KUBELET_MAX_BODY_BYTES",
                "RUNTIME_REPROBE_INTERVAL",
                "POLL_INTERVAL",
                "HTTP_PORT",
                "MIN_OBSERVATIONS",
                "QUIET_PERIOD",
                "REPAIR_MODE",
                "CATALOG_FILE",
                "MAX_CONCURRENT_REPAIRS",
                "MAX_REPAIRS_PER_HOUR",
                "CIRCUIT_MIN",
                "CIRCUIT_PERCENT",
                "CIRCUIT_RECOVERY",
                "CRJ_TTL",
                "CRJ_MAX_PER_NODE",
                "SCRIPT_TEMP_DIR",
                // cluster repair budget
                "POD_NAMESPACE",
                "CLUSTER_REPAIR_SLOTS",
                "CLUSTER_MAX_REPAIRS_PER_HOUR"));
    // The fleet storm brake (README, Fleet storm brake).
    v.addAll(List.of("FLEET_BRAKE", "FLEET_BRAKE_MAX_AGE", "FLEET_BRAKE_NAMESPACE"));
    v.add("FLEET_BRAKE_SETTLE");
    // The cluster budget's timing (README, Cluster repair budget): tests and small clusters.
    v.addAll(
        List.of("CLUSTER_BUDGET_RETRY_MIN", "CLUSTER_BUDGET_RETRY_MAX", "CLUSTER_SLOT_MARGIN"));
    for (DriftKind k : DriftKind.values()) {
      v.add(k.windowVariable());
    }
    VARIABLES = List.copyOf(v);
  }

  /**
   * The share of the heap one kubelet reply may take: {@code heap / 8}. Reply bodies in flight
   * together may take a quarter of the heap (the kubelet package's budget), and both endpoints are
   * read at once; with {@code -Xmx64m} this is 7.7 MB, above a 1000-pod node's 4.3 MB {@code
   * /pods}.
   */
  public static final int HEAP_PER_BODY_DIVISOR = 8;

  private final Map<String, String> values;
  private final List<String> problems = new ArrayList<>();
  private final long maxHeapBytes;

  private ConfigLoader(Map<String, String> values, List<String> problems, long maxHeapBytes) {
    this.values = values;
    this.problems.addAll(problems);
    this.maxHeapBytes = maxHeapBytes;
  }

  /**
   * @param env the process environment (only the variables in {@link #VARIABLES} are read)
   * @param args flags; anything that is not a known flag is a problem
   */
  public static AgentConfig load(Map<String, String> env, List<String> args)
      throws ConfigException {
    return load(env, args, Runtime.getRuntime().maxMemory());
  }

  /** Same, for a JVM whose maximum heap is {@code maxHeapBytes}: the body limit derives from it. */
  public static AgentConfig load(Map<String, String> env, List<String> args, long maxHeapBytes)
      throws ConfigException {
    Map<String, String> merged = new LinkedHashMap<>();
    for (String name : VARIABLES) {
      String value = env.get(name);
      if (value != null && !value.isBlank()) {
        merged.put(name, value.strip());
      }
    }
    List<String> problems = new ArrayList<>();
    merged.putAll(parseFlags(args, problems));
    return new ConfigLoader(merged, problems, maxHeapBytes).build();
  }

  /** {@code --poll-interval=5s} or {@code --poll-interval 5s} → {@code POLL_INTERVAL=5s}. */
  static Map<String, String> parseFlags(List<String> args, List<String> problems) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--")) {
        problems.add("unexpected argument '" + arg + "'");
        continue;
      }
      String body = arg.substring(2);
      String value;
      int eq = body.indexOf('=');
      if (eq >= 0) {
        value = body.substring(eq + 1);
        body = body.substring(0, eq);
      } else if (i + 1 < args.size() && !args.get(i + 1).startsWith("--")) {
        value = args.get(++i);
      } else {
        value = "true"; // a bare boolean flag
      }
      String name = body.toUpperCase(Locale.ROOT).replace('-', '_');
      if (!VARIABLES.contains(name)) {
        problems.add("unknown flag --" + body);
        continue;
      }
      out.put(name, value);
    }
    return out;
  }

  private AgentConfig build() throws ConfigException {
    String nodeName = values.get("NODE_NAME");
    if (nodeName == null) {
      problems.add("NODE_NAME is required (set it from the downward API: spec.nodeName)");
    } else if (!nodeName.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
      problems.add("NODE_NAME '" + nodeName + "' is not a valid node name");
    }
    Optional<String> nodeIp = Optional.ofNullable(values.get("NODE_IP"));

    boolean viaProxy = bool("KUBELET_VIA_API_PROXY", false);
    URI url = kubeletUrl(nodeIp, viaProxy);
    boolean allowHttp = bool("KUBELET_ALLOW_INSECURE_HTTP", false);
    if (url != null && !viaProxy && "http".equals(url.getScheme()) && !allowHttp) {
      problems.add(
          "KUBELET_URL '"
              + url
              + "' is plain http: the bearer token would cross the network in clear and the"
              + " reply could come from anyone; use https, or set KUBELET_ALLOW_INSECURE_HTTP=true"
              + " to accept that");
    }
    Path tokenFile =
        Path.of(values.getOrDefault("KUBELET_TOKEN_FILE", DEFAULT_TOKEN_FILE.toString()));
    Optional<Path> caFile = Optional.ofNullable(values.get("KUBELET_CA_FILE")).map(Path::of);
    boolean insecure = bool("KUBELET_INSECURE_SKIP_TLS_VERIFY", false);
    if (insecure && caFile.isPresent()) {
      problems.add("KUBELET_CA_FILE and KUBELET_INSECURE_SKIP_TLS_VERIFY=true exclude each other");
    }
    Duration connectTimeout = within("KUBELET_CONNECT_TIMEOUT", "5s", MILLI, Duration.ofMinutes(5));
    Duration requestTimeout =
        within("KUBELET_REQUEST_TIMEOUT", "10s", MILLI, Duration.ofMinutes(5));
    long maxBody = maxBodyBytes();
    Duration reprobe = within("RUNTIME_REPROBE_INTERVAL", "5m", MILLI, Duration.ofDays(1));

    Duration poll = within("POLL_INTERVAL", "5s", Duration.ofMillis(100), Duration.ofHours(1));
    if (poll != null && requestTimeout != null) {
      Duration stall = new PollTimings(poll).stallAfter();
      if (requestTimeout.compareTo(stall) >= 0) {
        problems.add(
            "KUBELET_REQUEST_TIMEOUT ("
                + Durations.format(requestTimeout)
                + ") must be shorter than "
                + Durations.format(stall)
                + ", the time /healthz allows without a finished cycle (max(60s, 10 ×"
                + " POLL_INTERVAL)): a kubelet that hangs would get the agent restarted");
      }
    }
    int port = (int) integer("HTTP_PORT", 9808, 0, 65535);
    int minObs = (int) integer("MIN_OBSERVATIONS", 3, 1, 1000);
    Duration quiet =
        values.containsKey("QUIET_PERIOD")
            ? within("QUIET_PERIOD", null, Duration.ZERO, Duration.ofDays(1))
            : (poll == null ? null : new PollTimings(poll).defaultQuietPeriod());
    Map<DriftKind, Duration> windows = new EnumMap<>(DriftKind.class);
    for (DriftKind k : DriftKind.values()) {
      Duration w =
          within(k.windowVariable(), k.defaultWindow(), Duration.ZERO, Duration.ofDays(30));
      if (w != null) {
        windows.put(k, w);
      }
    }

    RepairMode mode = enumValue("REPAIR_MODE", "dry-run", RepairMode::parse, "on, dry-run, off");
    Path catalog = Path.of(values.getOrDefault("CATALOG_FILE", DEFAULT_CATALOG.toString()));
    int maxConcurrent = (int) integer("MAX_CONCURRENT_REPAIRS", 1, 1, 64);
    int maxPerHour = (int) integer("MAX_REPAIRS_PER_HOUR", 10, 0, 10_000);
    int circuitMin = (int) integer("CIRCUIT_MIN", 3, 0, 100_000);
    int circuitPercent = (int) integer("CIRCUIT_PERCENT", 30, 1, 100);
    Duration circuitRecovery = within("CIRCUIT_RECOVERY", "60s", MILLI, Duration.ofDays(1));
    Duration ttl = within("CRJ_TTL", "24h", MILLI, Duration.ofDays(365));
    int maxJobs = (int) integer("CRJ_MAX_PER_NODE", 200, 1, 100_000);
    Path tempDir =
        Path.of(values.getOrDefault("SCRIPT_TEMP_DIR", System.getProperty("java.io.tmpdir")));
    if (mode != RepairMode.OFF) {
      writableDirectory("SCRIPT_TEMP_DIR", tempDir);
    }
    caFile.ifPresent(ca -> pemCertificates("KUBELET_CA_FILE", ca));
    AgentConfig.ClusterBudget budget = clusterBudget();
    boolean fleetBrake =
        enumValue("FLEET_BRAKE", "off", ConfigLoader::onOff, "on, off") == Boolean.TRUE;
    Duration brakeMaxAge =
        within("FLEET_BRAKE_MAX_AGE", "60s", Duration.ofSeconds(1), Duration.ofHours(1));
    String brakeNamespace = values.getOrDefault("FLEET_BRAKE_NAMESPACE", "state-probe");
    Duration brakeSettle =
        within("FLEET_BRAKE_SETTLE", "2s", Duration.ofSeconds(1), Duration.ofMinutes(1));
    if (!brakeNamespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      problems.add("FLEET_BRAKE_NAMESPACE '" + brakeNamespace + "' is not a valid namespace name");
    }

    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new AgentConfig(
        nodeName,
        nodeIp,
        new AgentConfig.KubeletSettings(
            url,
            tokenFile,
            caFile,
            insecure,
            viaProxy,
            connectTimeout,
            requestTimeout,
            maxBody,
            reprobe),
        poll,
        port,
        new AgentConfig.Detection(minObs, quiet, windows),
        new AgentConfig.Repair(
            mode,
            catalog,
            maxConcurrent,
            maxPerHour,
            circuitMin,
            circuitPercent,
            circuitRecovery,
            ttl,
            maxJobs,
            tempDir),
        budget,
        new AgentConfig.FleetBrake(fleetBrake, brakeMaxAge, brakeNamespace, brakeSettle));
  }

  private static Optional<Boolean> onOff(String raw) {
    return switch (raw) {
      case "on" -> Optional.of(true);
      case "off" -> Optional.of(false);
      default -> Optional.empty();
    };
  }

  /** The cluster repair budget's settings (README, Cluster repair budget). */
  private AgentConfig.ClusterBudget clusterBudget() {
    int slots = (int) integer("CLUSTER_REPAIR_SLOTS", 5, 0, AgentConfig.ClusterBudget.MAX_SLOTS);
    int cap = (int) integer("CLUSTER_MAX_REPAIRS_PER_HOUR", 100, 0, 1000);
    Optional<String> ns = Optional.ofNullable(values.get("POD_NAMESPACE")).map(String::strip);
    if (ns.isPresent() && !ns.get().matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      problems.add(
          "POD_NAMESPACE '"
              + ns.get()
              + "' is not a namespace name (set it from the downward API:"
              + " metadata.namespace)");
    }
    Duration retryMin =
        within("CLUSTER_BUDGET_RETRY_MIN", "1s", Duration.ofMillis(10), Duration.ofMinutes(5));
    Duration retryMax =
        within("CLUSTER_BUDGET_RETRY_MAX", "30s", Duration.ofMillis(10), Duration.ofMinutes(30));
    Duration margin =
        within("CLUSTER_SLOT_MARGIN", "30s", Duration.ofSeconds(1), Duration.ofMinutes(30));
    if (retryMin != null && retryMax != null && retryMax.compareTo(retryMin) < 0) {
      problems.add(
          "CLUSTER_BUDGET_RETRY_MAX ("
              + Durations.format(retryMax)
              + ") must not be under CLUSTER_BUDGET_RETRY_MIN ("
              + Durations.format(retryMin)
              + ")");
      retryMax = retryMin;
    }
    return new AgentConfig.ClusterBudget(
        slots,
        cap,
        ns.filter(n -> !n.isEmpty()),
        retryMin == null ? Duration.ofSeconds(1) : retryMin,
        retryMax == null ? Duration.ofSeconds(30) : retryMax,
        margin == null ? Duration.ofSeconds(30) : margin);
  }

  private URI kubeletUrl(Optional<String> nodeIp, boolean viaProxy) {
    String raw = values.get("KUBELET_URL");
    if (raw == null) {
      if (nodeIp.isPresent()) {
        String host = nodeIp.get().contains(":") ? "[" + nodeIp.get() + "]" : nodeIp.get();
        raw = "https://" + host + ":10250";
      } else if (viaProxy) {
        return URI.create("https://kubelet.invalid:10250"); // unused: reads go through the API
      } else {
        problems.add("KUBELET_URL or NODE_IP is required (or set KUBELET_VIA_API_PROXY=true)");
        return null;
      }
    }
    try {
      URI uri = new URI(raw);
      if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())
          || uri.getHost() == null) {
        problems.add("KUBELET_URL '" + raw + "' must be an http(s) URL with a host");
        return null;
      }
      return uri;
    } catch (URISyntaxException e) {
      problems.add("KUBELET_URL '" + raw + "' is not a URL: " + e.getMessage());
      return null;
    }
  }

  /**
   * {@code KUBELET_MAX_BODY_BYTES}: an eighth of the heap unless set; a value the heap cannot hold
   * is refused rather than lowered quietly (the old default of 64 MiB was the whole heap, and a
   * large reply ended the agent with an OutOfMemoryError, restart after restart).
   */
  private long maxBodyBytes() {
    long heapShare = Math.max(1024, maxHeapBytes / HEAP_PER_BODY_DIVISOR);
    long n = integer("KUBELET_MAX_BODY_BYTES", heapShare, 1024, Long.MAX_VALUE);
    if (n > heapShare) {
      problems.add(
          "KUBELET_MAX_BODY_BYTES "
              + n
              + " is more than this JVM's heap can hold for one reply: at most "
              + heapShare
              + " (an eighth of the "
              + maxHeapBytes
              + "-byte maximum heap); lower it, or raise -Xmx");
    }
    return n;
  }

  private boolean bool(String name, boolean dflt) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "1", "yes" -> true;
      case "false", "0", "no" -> false;
      default -> {
        problems.add(name + " must be true or false, got '" + v + "'");
        yield dflt;
      }
    };
  }

  private long integer(String name, long dflt, long min, long max) {
    String v = values.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      long n = Long.parseLong(v);
      if (n < min || n > max) {
        problems.add(name + " must be between " + min + " and " + max + ", got " + v);
        return dflt;
      }
      return n;
    } catch (NumberFormatException e) {
      problems.add(name + " must be a whole number, got '" + v + "'");
      return dflt;
    }
  }

  private Duration duration(String name, String dflt) {
    String v = values.getOrDefault(name, dflt);
    if (v == null) {
      return null;
    }
    try {
      return Durations.parse(v);
    } catch (IllegalArgumentException e) {
      problems.add(name + ": " + e.getMessage());
      return null;
    }
  }

  /** The shortest duration a positive setting may have. */
  private static final Duration MILLI = Duration.ofMillis(1);

  /** A duration from {@code min} to {@code max}; a problem naming the setting and both else. */
  private Duration within(String name, String dflt, Duration min, Duration max) {
    Duration d = duration(name, dflt);
    if (d != null && (d.compareTo(min) < 0 || d.compareTo(max) > 0)) {
      problems.add(
          name
              + " must be from "
              + Durations.format(min)
              + " to "
              + Durations.format(max)
              + ", got "
              + values.get(name));
      return null;
    }
    return d;
  }

  private void writableDirectory(String name, Path dir) {
    if (!Files.exists(dir)) {
      problems.add(name + " " + dir + " does not exist (scripts' working directories go there)");
    } else if (!Files.isDirectory(dir)) {
      problems.add(name + " " + dir + " is not a directory");
    } else if (!Files.isWritable(dir)) {
      problems.add(name + " " + dir + " is not writable by this user");
    }
  }

  /** The file must exist and hold at least one PEM certificate, and nothing else unparsable. */
  private void pemCertificates(String name, Path file) {
    byte[] content;
    try {
      content = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      problems.add(name + " " + file + " does not exist");
      return;
    } catch (IOException e) {
      problems.add(name + " " + file + " cannot be read: " + e);
      return;
    }
    if (!new String(content, StandardCharsets.US_ASCII).contains("-----BEGIN CERTIFICATE-----")) {
      problems.add(name + " " + file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
      return;
    }
    try {
      if (CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(content))
          .isEmpty()) {
        problems.add(name + " " + file + " holds no certificate");
      }
    } catch (CertificateException e) {
      problems.add(name + " " + file + " is not a valid PEM certificate file: " + e.getMessage());
    }
  }

  private <T> T enumValue(
      String name, String dflt, Function<String, Optional<T>> parse, String allowed) {
    String v = values.getOrDefault(name, dflt);
    Optional<T> t = parse.apply(v);
    if (t.isEmpty()) {
      problems.add(name + " must be one of " + allowed + ", got '" + v + "'");
      return parse.apply(dflt).orElseThrow();
    }
    return t.get();
  }
}
