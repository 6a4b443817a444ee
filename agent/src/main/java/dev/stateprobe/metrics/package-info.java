/**
 * Every meter name and tag of the agent, in one class. Rule: tags are bounded enums ({@code kind},
 * {@code script}, {@code outcome}, {@code reason}, {@code view}, {@code endpoint}, {@code phase},
 * {@code field}); never a pod name, namespace or UID. The registry is passed in, never global. A
 * tag enum that only a metric needs (the kubelet's failure reason) lives here, so the packages that
 * count depend on metrics and never the other way.
 */
package dev.stateprobe.metrics;
