/**
 * The fleet storm brake, as values and pure judgements: the brake object's names and annotations,
 * the coordinator's storm decision and the agent's reading of the brake. Nothing here does I/O or
 * reads a clock; {@code now} is always a parameter.
 */
package dev.stateprobe.fleet;
