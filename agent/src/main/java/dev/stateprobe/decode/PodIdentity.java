package dev.stateprobe.decode;

import java.util.Optional;

/**
 * A pod's identity as Kubernetes validates it, for names that come from a source the agent does not
 * trust (the kubelet's port, a proxy on the way): nothing else may reach a log line, a record, a
 * URL or a script.
 *
 * <ul>
 *   <li>name: a DNS-1123 subdomain (what the API server requires of a pod name): at most 253
 *       characters, dot-separated labels of lower-case letters, digits and {@code -}, each starting
 *       and ending with a letter or digit;
 *   <li>namespace: a DNS-1123 label: at most 63 such characters, no dots;
 *   <li>UID: the 36-character RFC 4122 text form the API server assigns, or the 32 hex digits of
 *       the config hash a kubelet uses as the UID of a static pod (seen in every capture under
 *       {@code fixtures/kubelet}: {@code kubelet-pods_k8s-1.35…}, {@code 1.24}, {@code 1.16}, the
 *       1.9 GKE one).
 * </ul>
 *
 * <p>Pure and thread-safe; no regular expressions (a hostile name must not cost more than its
 * length).
 */
public final class PodIdentity {
  static final int MAX_NAME = 253;
  static final int MAX_LABEL = 63;

  /** Which part of an identity was refused: a bounded metric tag. */
  public enum Field {
    NAME("name"),
    NAMESPACE("namespace"),
    UID("uid");

    private final String tag;

    Field(String tag) {
      this.tag = tag;
    }

    public String tag() {
      return tag;
    }
  }

  private PodIdentity() {}

  /** The first field of this identity that Kubernetes would refuse, if any. */
  public static Optional<Field> invalid(String namespace, String name, String uid) {
    if (!isUid(uid)) {
      return Optional.of(Field.UID);
    }
    if (!isNamespace(namespace)) {
      return Optional.of(Field.NAMESPACE);
    }
    if (!isPodName(name)) {
      return Optional.of(Field.NAME);
    }
    return Optional.empty();
  }

  /** A DNS-1123 subdomain. */
  public static boolean isPodName(String s) {
    if (s == null || s.isEmpty() || s.length() > MAX_NAME) {
      return false;
    }
    int start = 0;
    for (int i = 0; i <= s.length(); i++) {
      if (i == s.length() || s.charAt(i) == '.') {
        if (!isLabel(s, start, i)) {
          return false;
        }
        start = i + 1;
      }
    }
    return true;
  }

  /** A DNS-1123 label. */
  public static boolean isNamespace(String s) {
    return s != null && s.length() <= MAX_LABEL && isLabel(s, 0, s.length());
  }

  /** {@code 8-4-4-4-12} hex digits, or 32 hex digits (a static pod's config hash). */
  public static boolean isUid(String s) {
    if (s == null) {
      return false;
    }
    if (s.length() == 32) {
      for (int i = 0; i < 32; i++) {
        if (!isHex(s.charAt(i))) {
          return false;
        }
      }
      return true;
    }
    if (s.length() != 36) {
      return false;
    }
    for (int i = 0; i < 36; i++) {
      char c = s.charAt(i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : !isHex(c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isLabel(String s, int from, int to) {
    if (to <= from || to - from > MAX_LABEL) {
      return false;
    }
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      boolean alnum = c >= 'a' && c <= 'z' || c >= '0' && c <= '9';
      if (!alnum && (c != '-' || i == from || i == to - 1)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isHex(char c) {
    return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
  }
}
