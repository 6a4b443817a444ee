/**
 * Streaming JSON decoders from kubelet and API server pod JSON to compact view records. Rule: one
 * pass over the tokens, keep only what {@link dev.stateprobe.view.PodRecord} holds, never build a
 * tree or a fabric8 object; no I/O beyond the bytes handed in.
 */
package dev.stateprobe.decode;
