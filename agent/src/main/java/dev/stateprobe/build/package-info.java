/**
 * Build information (the version) for the modes, the log and {@code stateprobe_build_info}. Rule:
 * depends on no other package of the project, so every package may use it.
 */
package dev.stateprobe.build;
