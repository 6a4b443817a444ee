/**
 * The shipped image as tests can see it without Docker: its userland (BusyBox applets as Alpine has
 * them, plus the packages the Dockerfile installs) to run scripts with, and checks that everything
 * the agent and the scripts call is in it; and the image as a read-only root entered as uid 65532
 * ({@code ImageRoot}), to run the scripts as the DaemonSet runs them. Test scope only; reads the
 * Dockerfile, the DaemonSet and the scripts from the source tree.
 *
 * <p>Rule: a test of something the image executes runs it against these programs, never only
 * against this machine's Debian tools, and what it writes is checked on a read-only root as the
 * image's user.
 */
package dev.stateprobe.image;
