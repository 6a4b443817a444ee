package dev.stateprobe.drift;

import java.util.List;
import java.util.Objects;

/**
 * Whether one cycle's views may be believed, and if not, why.
 *
 * @param trusted true exactly when {@code reasons} is empty
 * @param reasons bounded snake_case words from {@link TrustGate#REASONS}, in that order; safe as a
 *     metric tag
 */
public record Trust(boolean trusted, List<String> reasons) {

  public Trust {
    reasons = List.copyOf(Objects.requireNonNull(reasons, "reasons"));
    if (trusted != reasons.isEmpty()) {
      throw new IllegalArgumentException(
          "trusted must be true exactly when there is no reason, got trusted="
              + trusted
              + " reasons="
              + reasons);
    }
    for (String r : reasons) {
      if (!TrustGate.REASONS.contains(r)) {
        throw new IllegalArgumentException("unknown trust reason: " + r);
      }
    }
  }

  public static Trust of(List<String> reasons) {
    return new Trust(reasons.isEmpty(), reasons);
  }
}
