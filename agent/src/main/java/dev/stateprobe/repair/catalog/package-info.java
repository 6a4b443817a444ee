/**
 * The repair catalog: which scripts may repair which drift kinds, in escalation order. Rule: a
 * catalog is either valid in every field or refused whole, a file is bounded in size and shape
 * before it is parsed, and a refused reload never replaces the last good one.
 */
package dev.stateprobe.repair.catalog;
