/**
 * Running one repair script as a child process. Rule: a script is executed directly (never through
 * a shell string), with a minimal environment, in its own working directory and process group; when
 * its run ends, nothing it started is left running.
 */
package dev.stateprobe.repair.exec;
