/**
 * The binary's modes ({@code agent}, {@code check}, {@code repair-test}, {@code demo}). Rule: a
 * command parses its arguments, builds its parts from {@code Main}'s shared pieces and returns an
 * exit code; it never calls {@code System.exit} itself.
 */
package dev.stateprobe.cli;
