/**
 * Configuration: one validated record built from environment variables and flags. Rule: defaults
 * first, then one validation that reports every problem at once; nothing here reads configuration
 * later or from anywhere else.
 */
package dev.stateprobe.config;
