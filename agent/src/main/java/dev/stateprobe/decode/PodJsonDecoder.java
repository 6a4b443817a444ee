package dev.stateprobe.decode;

import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import java.util.List;

/** PLACEHOLDER signatures; the decode work replaces this body. Thread-safe, stateless. */
public final class PodJsonDecoder {

  /** A v1 {@code PodList} (kubelet {@code /pods}, or an API server list). */
  public List<PodRecord> decodePodList(byte[] json, int offset, int length) throws DecodeException {
    throw new UnsupportedOperationException("not yet implemented");
  }

  /** One v1 {@code Pod} object. */
  public PodRecord decodePod(byte[] json, int offset, int length) throws DecodeException {
    throw new UnsupportedOperationException("not yet implemented");
  }

  /** The kubelet's {@code /runningpods/} reply (a PodList of name, namespace, uid, containers). */
  public List<RuntimePod> decodeRunningPods(byte[] json, int offset, int length)
      throws DecodeException {
    throw new UnsupportedOperationException("not yet implemented");
  }
}
