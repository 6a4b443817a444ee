package dev.stateprobe.policy;

/**
 * Where the agent reads the cluster's policies from. A cycle takes one snapshot and uses it
 * throughout, so a policy edited mid-cycle applies from the next cycle, whole.
 */
@FunctionalInterface
public interface PolicySource {

  /** No policies: every pod is {@link ConsistencyLevel#STRICT}, as without the CRD. */
  PolicySource NONE = () -> PolicySet.EMPTY;

  /** The policies now. Never blocks, never fails: a source that lost its watch keeps its last. */
  PolicySet snapshot();
}
