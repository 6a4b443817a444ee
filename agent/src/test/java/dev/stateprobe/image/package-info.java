/**
 * The shipped image as tests can see it without Docker: its userland (BusyBox applets as Alpine has
 * them, plus the packages the Dockerfile installs) to run scripts with, and checks that everything
 * the agent and the scripts call is in it. Test scope only; reads the Dockerfile and the scripts
 * from the source tree.
 *
 * <p>Rule: a test of something the image executes runs it against these programs, never only
 * against this machine's Debian tools.
 */
package dev.stateprobe.image;
