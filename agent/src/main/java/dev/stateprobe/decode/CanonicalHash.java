package dev.stateprobe.decode;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;

/**
 * An order-independent 64-bit digest of a JSON value, read from a parser positioned on the
 * value's first token; the parser ends on the value's last token.
 *
 * <p>Why order-independent: the kubelet writes Go struct order, {@code kubectl -o yaml} sorts
 * keys, and fabric8 writes its own order; the same object must digest the same. Why null, empty
 * strings, empty arrays and empty objects count as absent: Go's {@code omitempty} drops them and
 * fabric8's serializer does not always; neither difference is a difference of the pod.
 */
final class CanonicalHash {
  /** The digest of an absent value; containers skip members that digest to this. */
  static final long ABSENT = 0L;

  private static final long OBJECT_SEED = 0x9E3779B97F4A7C15L;
  private static final long ARRAY_SEED = 0xC2B2AE3D27D4EB4FL;
  private static final long STRING_TAG = 0x165667B19E3779F9L;
  private static final long NUMBER_TAG = 0x27D4EB2F165667C5L;
  private static final long TRUE = 0x61C8864680B583EBL;
  private static final long FALSE = 0x3C6EF372FE94F82AL;

  private CanonicalHash() {}

  static long value(JsonParser p) {
    JsonToken t = p.currentToken();
    return switch (t) {
      case START_OBJECT -> object(p);
      case START_ARRAY -> array(p);
      case VALUE_STRING -> {
        int len = p.getStringLength();
        yield len == 0 ? ABSENT : mix(chars(p.getStringCharacters(), p.getStringOffset(), len) ^ STRING_TAG);
      }
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> mix(string(p.getString()) ^ NUMBER_TAG);
      case VALUE_TRUE -> TRUE;
      case VALUE_FALSE -> FALSE;
      case VALUE_NULL -> ABSENT;
      default -> throw new IllegalStateException("not a value start: " + t);
    };
  }

  /** Digest of an object's members, skipping names for which {@code skip} says so. */
  static long object(JsonParser p, java.util.function.Predicate<String> skip) {
    long sum = 0;
    int members = 0;
    String name;
    while ((name = p.nextName()) != null) {
      p.nextToken();
      if (skip != null && skip.test(name)) {
        p.skipChildren();
        continue;
      }
      long v = value(p);
      if (v != ABSENT) {
        sum += member(name, v);
        members++;
      }
    }
    return members == 0 ? ABSENT : mix(sum ^ OBJECT_SEED);
  }

  /** The contribution of one member; the sum of these over members is order-independent. */
  static long member(String name, long valueHash) {
    return mix(string(name) * 31 + valueHash);
  }

  /** Finishes a sum of {@link #member} values the caller accumulated itself. */
  static long finishObject(long sum, int members) {
    return members == 0 ? ABSENT : mix(sum ^ OBJECT_SEED);
  }

  private static long object(JsonParser p) {
    return object(p, null);
  }

  private static long array(JsonParser p) {
    long h = ARRAY_SEED;
    int n = 0;
    while (p.nextToken() != JsonToken.END_ARRAY) {
      h = h * 1_000_003L + value(p);
      n++;
    }
    return n == 0 ? ABSENT : mix(h);
  }

  static long string(String s) {
    long h = 0xCBF29CE484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001B3L;
    }
    return h;
  }

  private static long chars(char[] buf, int off, int len) {
    long h = 0xCBF29CE484222325L;
    for (int i = off, end = off + len; i < end; i++) {
      h ^= buf[i];
      h *= 0x100000001B3L;
    }
    return h;
  }

  /** SplitMix64's finalizer: spreads every input bit over the output. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
