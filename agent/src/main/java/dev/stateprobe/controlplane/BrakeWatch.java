package dev.stateprobe.controlplane;

import dev.stateprobe.fleet.BrakeObject;
import dev.stateprobe.fleet.BrakeSource;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;

/**
 * The fleet storm brake as the agent reads it: one list/watch of the one Lease {@link
 * BrakeObject#NAME} in the agents' namespace ({@code fieldSelector=metadata.name=...}, so the
 * agents' Role names it in {@code resourceNames}), on the agent's own list/watch, not fabric8.
 *
 * <p>Until the first list, and while the Lease does not exist, {@link #latest()} is empty (the
 * brake reads missing and holds). A watch that is down keeps the last object, whose heartbeat then
 * ages until the brake reads stale: either way the agent holds back, which is the point.
 */
public final class BrakeWatch implements BrakeSource, AutoCloseable {
  private final ListWatch<BrakeObject> watch;

  private BrakeWatch(ListWatch<BrakeObject> watch) {
    this.watch = watch;
  }

  /**
   * @param namespace the agents' namespace, where the coordinator publishes the brake
   */
  public static BrakeWatch of(ApiServerClient api, String namespace, ListWatch.Settings settings) {
    return new BrakeWatch(
        ListWatch.of(
            api,
            ResourceRef.namespaced("coordination.k8s.io", "v1", "leases", "LeaseList", namespace)
                .named(BrakeObject.NAME),
            ObjectDecoder.streaming(BrakeWatch::read),
            settings));
  }

  public void start() {
    watch.start();
  }

  /** The list/watch underneath (tests, metrics). */
  public ListWatch<BrakeObject> listWatch() {
    return watch;
  }

  @Override
  public Optional<BrakeObject> latest() {
    return watch.snapshot().objects().values().stream().findFirst();
  }

  @Override
  public void close() {
    watch.close();
  }

  /** A Lease as a brake: its {@code stateprobe.dev/brake*} annotations, holder and renewTime. */
  static BrakeObject read(JsonParser p) {
    expect(p.nextToken(), JsonToken.START_OBJECT, "a Lease");
    Map<String, String> annotations = new HashMap<>();
    String holder = null;
    Instant renew = null;
    while (p.nextToken() == JsonToken.PROPERTY_NAME) {
      String field = p.currentName();
      JsonToken t = p.nextToken();
      if (field.equals("metadata") && t == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
          String m = p.currentName();
          JsonToken mt = p.nextToken();
          if (m.equals("annotations") && mt == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.PROPERTY_NAME) {
              String key = p.currentName();
              JsonToken v = p.nextToken();
              if (key.startsWith(BrakeObject.STATE) && v == JsonToken.VALUE_STRING) {
                annotations.put(key, p.getString());
              } else {
                p.skipChildren();
              }
            }
          } else {
            p.skipChildren();
          }
        }
      } else if (field.equals("spec") && t == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
          String s = p.currentName();
          JsonToken st = p.nextToken();
          if (s.equals("holderIdentity") && st == JsonToken.VALUE_STRING) {
            holder = p.getString();
          } else if (s.equals("renewTime") && st == JsonToken.VALUE_STRING) {
            renew = instant(p.getString());
          } else {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
    return new BrakeObject(Optional.ofNullable(holder), Optional.ofNullable(renew), annotations);
  }

  /** A renewTime that does not parse is no heartbeat: the brake reads stale. */
  private static Instant instant(String s) {
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static void expect(JsonToken got, JsonToken want, String what) {
    if (got != want) {
      throw new IllegalArgumentException("expected " + what + " (" + want + "), got " + got);
    }
  }
}
