/**
 * The shipped image's userland, for tests of what the image runs. Rule: a test of something the
 * image executes runs it against these programs (BusyBox applets where Alpine has them, plus what
 * the Dockerfile installs), never only against this machine's Debian tools.
 */
package dev.stateprobe.image;
