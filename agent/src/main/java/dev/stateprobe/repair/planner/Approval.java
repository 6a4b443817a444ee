package dev.stateprobe.repair.planner;

/** The state of a manual entry's record: a person sets {@code spec.approved} to let it run. */
public enum Approval {
  /** The record exists and waits for a person. */
  PENDING,
  /** A person approved it: the entry may run, within the limits, for its remaining attempts. */
  APPROVED
}
