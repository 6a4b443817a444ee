/**
 * Command-line modes other than the agent itself. Rule: a command takes its arguments and the
 * streams to print to, returns its exit code, and never calls {@code System.exit}.
 */
package dev.stateprobe.cli;
