package dev.stateprobe.controlplane;

import java.util.Objects;
import tools.jackson.core.JsonParser;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.json.JsonFactory;

/**
 * Turns one object of a list page or watch event into what a {@link ListWatch} keeps. It gets the
 * bytes the API server sent and where the object lies in them; nothing is copied first. Any
 * exception it throws is a decode failure: counted, logged once per object, never fatal (the
 * object's last good value stays).
 *
 * @param <T> the decoded object; immutable, since snapshots share it
 */
@FunctionalInterface
public interface ObjectDecoder<T> {

  T decode(byte[] json, int offset, int length) throws Exception;

  /** Reads one object from a Jackson 3 parser positioned before its {@code START_OBJECT}. */
  @FunctionalInterface
  interface FromParser<T> {
    T read(JsonParser parser) throws Exception;
  }

  /** A decoder that hands {@code reader} a streaming parser over the object's bytes. */
  static <T> ObjectDecoder<T> streaming(FromParser<T> reader) {
    Objects.requireNonNull(reader, "reader");
    JsonFactory factory = new JsonFactory();
    return (json, offset, length) -> {
      try (JsonParser p = factory.createParser(ObjectReadContext.empty(), json, offset, length)) {
        return reader.read(p);
      }
    };
  }
}
