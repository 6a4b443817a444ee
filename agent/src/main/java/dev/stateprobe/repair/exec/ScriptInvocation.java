package dev.stateprobe.repair.exec;

import dev.stateprobe.drift.DriftKind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * One run of one catalog script against one drift.
 *
 * @param entryName the catalog entry's name (used in thread names and messages)
 * @param script absolute path of the script
 * @param timeout after this the whole process tree is terminated
 * @param attempt counts from 1 (becomes {@code STATE_PROBE_ATTEMPT})
 * @param dryRun becomes {@code STATE_PROBE_DRY_RUN=true}
 * @param driftJson the drift as JSON, rendered by the caller: written to the drift file and to the
 *     script's stdin
 * @param extraEnv further variables for the script, such as {@code STATE_PROBE_API_URL}; may not
 *     replace any variable the executor sets ({@link ScriptEnv#RESERVED})
 */
public record ScriptInvocation(
    String entryName,
    Path script,
    Duration timeout,
    DriftKind driftKind,
    String node,
    String namespace,
    String podName,
    String podUid,
    String jobName,
    int attempt,
    boolean dryRun,
    String driftJson,
    Map<String, String> extraEnv) {

  private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public ScriptInvocation {
    Objects.requireNonNull(entryName, "entryName");
    Objects.requireNonNull(script, "script");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(driftKind, "driftKind");
    Objects.requireNonNull(driftJson, "driftJson");
    Objects.requireNonNull(extraEnv, "extraEnv");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt counts from 1, got " + attempt);
    }
    envValue("node", node);
    envValue("namespace", namespace);
    envValue("podName", podName);
    envValue("podUid", podUid);
    envValue("jobName", jobName);
    TreeMap<String, String> copy = new TreeMap<>();
    extraEnv.forEach(
        (k, v) -> {
          if (k == null || !ENV_NAME.matcher(k).matches()) {
            throw new IllegalArgumentException("extraEnv: '" + k + "' is not a variable name");
          }
          if (ScriptEnv.RESERVED.contains(k)) {
            throw new IllegalArgumentException(
                "extraEnv: " + k + " is set by the executor and cannot be replaced");
          }
          envValue("extraEnv " + k, v);
          copy.put(k, v);
        });
    extraEnv = Collections.unmodifiableMap(copy);
  }

  private static void envValue(String what, String value) {
    Objects.requireNonNull(value, what);
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(what + " contains a NUL character");
    }
  }
}
