package dev.stateprobe.coordinator;

import dev.stateprobe.fleet.BrakeObject;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;

/** fabric8's Lease as a {@link BrakeObject}. */
final class BrakeLeases {
  private BrakeLeases() {}

  static BrakeObject read(Lease lease) {
    Map<String, String> annotations =
        lease.getMetadata() == null || lease.getMetadata().getAnnotations() == null
            ? Map.of()
            : lease.getMetadata().getAnnotations();
    Optional<String> holder = Optional.ofNullable(lease.getSpec()).map(s -> s.getHolderIdentity());
    Optional<Instant> renew =
        Optional.ofNullable(lease.getSpec()).map(s -> s.getRenewTime()).map(t -> t.toInstant());
    return new BrakeObject(holder, renew, annotations);
  }

  static Optional<Instant> instant(String s) {
    try {
      return Optional.of(Instant.parse(s));
    } catch (DateTimeParseException | NullPointerException e) {
      return Optional.empty();
    }
  }
}
