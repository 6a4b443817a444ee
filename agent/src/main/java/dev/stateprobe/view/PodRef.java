package dev.stateprobe.view;

import java.util.Comparator;
import java.util.Objects;

/** Who a drift is about. {@code uid} is the UID of the view the drift is anchored in. */
public record PodRef(String namespace, String name, String uid) implements Comparable<PodRef> {

  private static final Comparator<PodRef> ORDER =
      Comparator.comparing(PodRef::namespace)
          .thenComparing(PodRef::name)
          .thenComparing(PodRef::uid);

  public PodRef {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(uid, "uid");
  }

  @Override
  public int compareTo(PodRef o) {
    return ORDER.compare(this, o);
  }

  @Override
  public String toString() {
    return namespace + "/" + name + " (" + uid + ")";
  }
}
