package dev.stateprobe.repair.exec;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The environment a script gets: a fixed minimal base plus the {@code STATE_PROBE_*} inputs. */
public final class ScriptEnv {
  /** The fixed {@code PATH}; the agent's own PATH is never passed on. */
  public static final String DEFAULT_PATH =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  public static final String DRIFT_KIND = "STATE_PROBE_DRIFT_KIND";
  public static final String NODE_NAME = "STATE_PROBE_NODE_NAME";
  public static final String POD_NAMESPACE = "STATE_PROBE_POD_NAMESPACE";
  public static final String POD_NAME = "STATE_PROBE_POD_NAME";
  public static final String POD_UID = "STATE_PROBE_POD_UID";
  public static final String JOB_NAME = "STATE_PROBE_JOB_NAME";
  public static final String ATTEMPT = "STATE_PROBE_ATTEMPT";
  public static final String DRY_RUN = "STATE_PROBE_DRY_RUN";
  public static final String DRIFT_FILE = "STATE_PROBE_DRIFT_FILE";

  /**
   * Unique per run (the working directory's name). Every process the script starts inherits it, so
   * the executor finds them when the run ends even after they left its session and were reparented.
   */
  public static final String RUN_ID = "STATE_PROBE_RUN_ID";

  /** The name of the drift file in the script's working directory. */
  public static final String DRIFT_FILE_NAME = "drift.json";

  /** Variables the executor sets; extra variables may not replace them. */
  public static final Set<String> RESERVED =
      Set.of(
          "PATH",
          "HOME",
          "TMPDIR",
          "LANG",
          DRIFT_KIND,
          NODE_NAME,
          POD_NAMESPACE,
          POD_NAME,
          POD_UID,
          JOB_NAME,
          ATTEMPT,
          DRY_RUN,
          DRIFT_FILE,
          RUN_ID);

  private ScriptEnv() {}

  /**
   * The complete environment for {@code invocation}, sorted by name.
   *
   * @param workDir the run's fresh working directory (also HOME and TMPDIR)
   * @param path the PATH to set ({@link #DEFAULT_PATH} outside tests)
   */
  public static Map<String, String> of(ScriptInvocation invocation, Path workDir, String path) {
    Map<String, String> env = new TreeMap<>();
    env.put("PATH", path);
    env.put("HOME", workDir.toString());
    env.put("TMPDIR", workDir.toString());
    env.put("LANG", "C.UTF-8");
    env.put(DRIFT_KIND, invocation.driftKind().wireName());
    env.put(NODE_NAME, invocation.node());
    env.put(POD_NAMESPACE, invocation.namespace());
    env.put(POD_NAME, invocation.podName());
    env.put(POD_UID, invocation.podUid());
    env.put(JOB_NAME, invocation.jobName());
    env.put(ATTEMPT, Integer.toString(invocation.attempt()));
    env.put(DRY_RUN, Boolean.toString(invocation.dryRun()));
    env.put(DRIFT_FILE, workDir.resolve(DRIFT_FILE_NAME).toString());
    env.put(RUN_ID, String.valueOf(workDir.getFileName()));
    env.putAll(invocation.extraEnv());
    return Collections.unmodifiableMap(env);
  }
}
