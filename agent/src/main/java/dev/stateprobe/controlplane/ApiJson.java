package dev.stateprobe.controlplane;

import dev.stateprobe.decode.DecodeException;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * The envelopes around objects that the API server sends: a list page ({@code PodList}, {@code
 * LeaseList}, ...) and a watch event. One streaming pass finds the list's or event's own fields and
 * where each object starts and ends in the bytes; the objects themselves are left to the caller's
 * decoder (for pods the one {@code PodJsonDecoder}, so the control-plane view is made by the same
 * code as the kubelet's). No tree, no string of an object.
 */
final class ApiJson {
  /** The annotation of the bookmark that ends a streaming list's initial events. */
  static final String INITIAL_EVENTS_END = "k8s.io/initial-events-end";

  private final JsonFactory factory = new JsonFactory();

  /** Where one object lies in the bytes it was found in. */
  record Span(int offset, int length) {}

  /**
   * An object of a list page: where it lies, and its {@code metadata.uid}, {@code namespace} and
   * {@code name} (each {@code null} if absent).
   */
  record Item(Span span, String uid, String namespace, String name) {}

  /** A page of a LIST. */
  record Page(String resourceVersion, String continueToken, List<Item> items) {}

  /**
   * One watch event.
   *
   * @param type ADDED, MODIFIED, DELETED, BOOKMARK or ERROR
   * @param object where the event's object lies
   * @param uid the object's {@code metadata.uid}, {@code null} for a bookmark or a Status
   * @param namespace the object's namespace, for messages
   * @param name the object's name, for messages
   * @param resourceVersion the object's {@code metadata.resourceVersion}
   * @param initialEventsEnd a bookmark that carries {@code k8s.io/initial-events-end: "true"}
   * @param code an ERROR event's Status code, 0 otherwise
   * @param message an ERROR event's Status message
   */
  record Event(
      String type,
      Span object,
      String uid,
      String namespace,
      String name,
      String resourceVersion,
      boolean initialEventsEnd,
      int code,
      String message) {}

  /** A page of a {@code PodList}. */
  Page page(byte[] json, int offset, int length) throws DecodeException {
    return page(json, offset, length, "PodList");
  }

  /** A page of a list whose {@code kind} is {@code listKind} (e.g. {@code LeaseList}). */
  Page page(byte[] json, int offset, int length, String listKind) throws DecodeException {
    try (JsonParser p = factory.createParser(ObjectReadContext.empty(), json, offset, length)) {
      expect(p.nextToken(), JsonToken.START_OBJECT, "a " + listKind + " object");
      String rv = null;
      String cont = null;
      List<Item> items = null;
      String field;
      while ((field = p.nextName()) != null) {
        JsonToken t = p.nextToken();
        switch (field) {
          case "kind" -> {
            if (t != JsonToken.VALUE_STRING || !listKind.equals(p.getString())) {
              throw new DecodeException("kind is " + p.getText() + ", expected " + listKind);
            }
          }
          case "metadata" -> {
            expect(t, JsonToken.START_OBJECT, "the list's metadata to be an object");
            String m;
            while ((m = p.nextName()) != null) {
              JsonToken v = p.nextToken();
              switch (m) {
                case "resourceVersion" -> rv = text(p, v);
                case "continue" -> cont = text(p, v);
                default -> p.skipChildren();
              }
            }
          }
          case "items" -> {
            items = new ArrayList<>();
            if (t == JsonToken.VALUE_NULL) {
              continue;
            }
            expect(t, JsonToken.START_ARRAY, "items to be an array");
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
              expect(t, JsonToken.START_OBJECT, "each item to be an object");
              int start = (int) p.currentTokenLocation().getByteOffset();
              String uid = null;
              String ns = null;
              String name = null;
              String f;
              while ((f = p.nextName()) != null) {
                JsonToken v = p.nextToken();
                if ("metadata".equals(f) && v == JsonToken.START_OBJECT) {
                  String m;
                  while ((m = p.nextName()) != null) {
                    JsonToken mv = p.nextToken();
                    switch (m) {
                      case "uid" -> uid = text(p, mv);
                      case "namespace" -> ns = text(p, mv);
                      case "name" -> name = text(p, mv);
                      default -> p.skipChildren();
                    }
                  }
                } else {
                  p.skipChildren();
                }
              }
              int end = (int) p.currentLocation().getByteOffset();
              items.add(new Item(new Span(start, end - start), uid, ns, name));
            }
          }
          default -> p.skipChildren();
        }
      }
      if (items == null) {
        throw new DecodeException("not a " + listKind + ": no items field");
      }
      return new Page(rv, cont == null || cont.isEmpty() ? null : cont, items);
    } catch (JacksonException e) {
      throw new DecodeException("malformed " + listKind + " JSON: " + e.getOriginalMessage());
    }
  }

  Event event(byte[] json, int offset, int length) throws DecodeException {
    try (JsonParser p = factory.createParser(ObjectReadContext.empty(), json, offset, length)) {
      expect(p.nextToken(), JsonToken.START_OBJECT, "a watch event object");
      String type = null;
      Span span = null;
      String uid = null;
      String ns = null;
      String name = null;
      String rv = null;
      boolean end = false;
      int code = 0;
      String message = null;
      String field;
      while ((field = p.nextName()) != null) {
        JsonToken t = p.nextToken();
        switch (field) {
          case "type" -> type = text(p, t);
          case "object" -> {
            expect(t, JsonToken.START_OBJECT, "the event's object to be an object");
            int start = (int) p.currentTokenLocation().getByteOffset();
            String f;
            while ((f = p.nextName()) != null) {
              JsonToken v = p.nextToken();
              switch (f) {
                case "metadata" -> {
                  if (v != JsonToken.START_OBJECT) {
                    p.skipChildren();
                    continue;
                  }
                  String m;
                  while ((m = p.nextName()) != null) {
                    JsonToken mv = p.nextToken();
                    switch (m) {
                      case "uid" -> uid = text(p, mv);
                      case "namespace" -> ns = text(p, mv);
                      case "name" -> name = text(p, mv);
                      case "resourceVersion" -> rv = text(p, mv);
                      case "annotations" -> {
                        if (mv != JsonToken.START_OBJECT) {
                          p.skipChildren();
                          continue;
                        }
                        String a;
                        while ((a = p.nextName()) != null) {
                          JsonToken av = p.nextToken();
                          if (INITIAL_EVENTS_END.equals(a)) {
                            end = "true".equals(text(p, av));
                          } else {
                            p.skipChildren();
                          }
                        }
                      }
                      default -> p.skipChildren();
                    }
                  }
                }
                case "code" -> code = v == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : 0;
                case "message" -> message = text(p, v);
                default -> p.skipChildren();
              }
            }
            int stop = (int) p.currentLocation().getByteOffset();
            span = new Span(start, stop - start);
          }
          default -> p.skipChildren();
        }
      }
      if (type == null || span == null) {
        throw new DecodeException("not a watch event: no type or no object");
      }
      return new Event(type, span, uid, ns, name, rv, end, code, message);
    } catch (JacksonException e) {
      throw new DecodeException("malformed watch event JSON: " + e.getOriginalMessage());
    }
  }

  private static void expect(JsonToken actual, JsonToken wanted, String what)
      throws DecodeException {
    if (actual != wanted) {
      throw new DecodeException("expected " + what + ", got " + actual);
    }
  }

  private static String text(JsonParser p, JsonToken t) {
    return t == JsonToken.VALUE_STRING ? p.getString() : null;
  }
}
