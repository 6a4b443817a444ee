package dev.stateprobe.coordinator;

import dev.stateprobe.config.ConfigException;
import dev.stateprobe.config.Durations;
import dev.stateprobe.fleet.StormSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * The coordinator's configuration, from environment variables or {@code --flags} (a flag wins).
 *
 * @param namespace {@code POD_NAMESPACE}, default {@code state-probe}: where the leader Lease, the
 *     brake Lease and their Events live (the agents' namespace)
 * @param identity {@code POD_NAME}, required: this replica's name in the leader Lease
 * @param storm the decision's settings ({@code FLEET_STORM_*})
 * @param heartbeat {@code FLEET_BRAKE_HEARTBEAT}, default 15s: how often the leader decides and
 *     renews the brake Lease; keep it well under the agents' {@code FLEET_BRAKE_MAX_AGE} (60s)
 * @param nodeCountEvery {@code FLEET_NODE_COUNT_INTERVAL}, default 60s: how often the nodes are
 *     counted
 * @param leaseDuration {@code LEADER_LEASE_DURATION}, default 15s
 * @param renewDeadline {@code LEADER_RENEW_DEADLINE}, default 10s
 * @param retryPeriod {@code LEADER_RETRY_PERIOD}, default 2s
 * @param httpPort {@code HTTP_PORT}, default 9809: {@code /metrics} and {@code /healthz}; 0 picks a
 *     free port (tests)
 * @param settle {@code FLEET_BRAKE_SETTLE}, default 2s: a new record is decided on this long after
 *     its creation (not only at the next heartbeat), as the agents start a script only under a
 *     decision made that long after its record appeared; keep it equal to the agents' setting
 */
public record CoordinatorConfig(
    String namespace,
    String identity,
    StormSettings storm,
    Duration heartbeat,
    Duration nodeCountEvery,
    Duration leaseDuration,
    Duration renewDeadline,
    Duration retryPeriod,
    int httpPort,
    Duration settle) {

  /** The leader-election Lease. */
  public static final String LEADER_LEASE = "state-probe-coordinator";

  public static final List<String> VARIABLES =
      List.of(
          "POD_NAMESPACE",
          "POD_NAME",
          "FLEET_STORM_PERCENT",
          "FLEET_STORM_MIN_NODES",
          "FLEET_STORM_WINDOW",
          "FLEET_STORM_HOLD",
          "FLEET_BRAKE_HEARTBEAT",
          "FLEET_NODE_COUNT_INTERVAL",
          "LEADER_LEASE_DURATION",
          "LEADER_RENEW_DEADLINE",
          "LEADER_RETRY_PERIOD",
          "HTTP_PORT",
          "FLEET_BRAKE_SETTLE");

  public static final Duration DEFAULT_SETTLE = Duration.ofSeconds(2);

  public CoordinatorConfig {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(storm, "storm");
    Objects.requireNonNull(heartbeat, "heartbeat");
    Objects.requireNonNull(nodeCountEvery, "nodeCountEvery");
    Objects.requireNonNull(leaseDuration, "leaseDuration");
    Objects.requireNonNull(renewDeadline, "renewDeadline");
    Objects.requireNonNull(retryPeriod, "retryPeriod");
    Objects.requireNonNull(settle, "settle");
  }

  /** With the default {@code FLEET_BRAKE_SETTLE}. */
  public CoordinatorConfig(
      String namespace,
      String identity,
      StormSettings storm,
      Duration heartbeat,
      Duration nodeCountEvery,
      Duration leaseDuration,
      Duration renewDeadline,
      Duration retryPeriod,
      int httpPort) {
    this(
        namespace,
        identity,
        storm,
        heartbeat,
        nodeCountEvery,
        leaseDuration,
        renewDeadline,
        retryPeriod,
        httpPort,
        DEFAULT_SETTLE);
  }

  /** Every problem at once, as the agent's loader reports them. */
  public static CoordinatorConfig load(Map<String, String> env, List<String> args)
      throws ConfigException {
    Map<String, String> v = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    for (String name : VARIABLES) {
      String value = env.get(name);
      if (value != null && !value.isBlank()) {
        v.put(name, value.strip());
      }
    }
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
      } else if (i + 1 < args.size()) {
        value = args.get(++i);
      } else {
        problems.add("flag --" + body + " needs a value");
        continue;
      }
      String name = body.toUpperCase(Locale.ROOT).replace('-', '_');
      if (!VARIABLES.contains(name)) {
        problems.add("unknown flag --" + body);
        continue;
      }
      v.put(name, value);
    }
    String identity = v.get("POD_NAME");
    if (identity == null) {
      problems.add("POD_NAME is required (set it from the downward API: metadata.name)");
    }
    String namespace = v.getOrDefault("POD_NAMESPACE", "state-probe");
    int percent = integer(v, problems, "FLEET_STORM_PERCENT", 10, 0, 100);
    int minNodes = integer(v, problems, "FLEET_STORM_MIN_NODES", 3, 1, 1_000_000);
    int port = integer(v, problems, "HTTP_PORT", 9809, 0, 65535);
    Duration window = duration(v, problems, "FLEET_STORM_WINDOW", "5m", Duration.ofSeconds(1));
    Duration hold = duration(v, problems, "FLEET_STORM_HOLD", "2m", Duration.ZERO);
    Duration heartbeat =
        duration(v, problems, "FLEET_BRAKE_HEARTBEAT", "15s", Duration.ofMillis(100));
    Duration nodeCount =
        duration(v, problems, "FLEET_NODE_COUNT_INTERVAL", "60s", Duration.ofMillis(100));
    Duration lease = duration(v, problems, "LEADER_LEASE_DURATION", "15s", Duration.ofMillis(100));
    Duration renew = duration(v, problems, "LEADER_RENEW_DEADLINE", "10s", Duration.ofMillis(100));
    Duration retry = duration(v, problems, "LEADER_RETRY_PERIOD", "2s", Duration.ofMillis(10));
    Duration settle = duration(v, problems, "FLEET_BRAKE_SETTLE", "2s", Duration.ofSeconds(1));
    if (lease != null && renew != null && renew.compareTo(lease) >= 0) {
      problems.add("LEADER_RENEW_DEADLINE must be shorter than LEADER_LEASE_DURATION");
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new CoordinatorConfig(
        namespace,
        identity,
        new StormSettings(percent, minNodes, window, hold),
        heartbeat,
        nodeCount,
        lease,
        renew,
        retry,
        port,
        settle);
  }

  private static int integer(
      Map<String, String> v, List<String> problems, String name, int dflt, int min, int max) {
    String raw = v.get(name);
    if (raw == null) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(raw);
      if (n < min || n > max) {
        problems.add(name + " must be " + min + ".." + max + ", got '" + raw + "'");
      }
      return n;
    } catch (NumberFormatException e) {
      problems.add(name + " must be a whole number, got '" + raw + "'");
      return dflt;
    }
  }

  private static Duration duration(
      Map<String, String> v, List<String> problems, String name, String dflt, Duration min) {
    String raw = v.getOrDefault(name, dflt);
    try {
      Duration d = Durations.parse(raw);
      if (d.compareTo(min) < 0) {
        problems.add(name + " must be at least " + Durations.format(min) + ", got '" + raw + "'");
        return null;
      }
      return d;
    } catch (IllegalArgumentException e) {
      problems.add(name + ": " + e.getMessage());
      return null;
    }
  }
}
