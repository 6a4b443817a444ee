package dev.stateprobe.repair.catalog;

import java.util.regex.Pattern;

/** Kubernetes name rules the catalog checks. */
final class Names {
  private static final Pattern DNS_1123_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");

  private Names() {}

  /** Lower-case alphanumerics and '-', starting and ending alphanumeric, at most 63 characters. */
  static boolean isDns1123Label(String s) {
    return s != null && s.length() <= 63 && DNS_1123_LABEL.matcher(s).matches();
  }
}
