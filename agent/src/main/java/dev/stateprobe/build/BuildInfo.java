package dev.stateprobe.build;

/** What this build is: the one place the version is read from. */
public final class BuildInfo {
  private BuildInfo() {}

  /**
   * The jar's Implementation-Version, or "dev" when run from classes. The manifest's main section
   * applies to every package in the jar, so this class's own package reads it.
   */
  public static String version() {
    String v = BuildInfo.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
