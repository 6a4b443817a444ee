package dev.stateprobe.sim;

/** An open watch the simulated API server can drop, as a lost connection does. */
interface SimWatch {
  /** Opened by the cluster's other users ({@link SimApiServer#client()}), whom faults spare. */
  boolean backstage();

  /** Closes the connection; the client sees the watch end. */
  void drop();
}
