package dev.stateprobe.decode;

import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;

/**
 * An order-independent 64-bit digest of a JSON value, read from a parser positioned on the value's
 * first token; the parser ends on the value's last token.
 *
 * <p>Why order-independent: the kubelet writes Go struct order, {@code kubectl -o yaml} sorts keys,
 * and fabric8 writes its own order; the same object must digest the same. Why null, empty strings,
 * empty arrays and empty objects count as absent: Go's {@code omitempty} drops them and fabric8's
 * serializer does not always; neither difference is a difference of the pod.
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
  private static final long NAME_MULTIPLIER = 0xD6E8FEB86659FD93L;
  private static final long PRIME = 0x100000001B3L;
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private CanonicalHash() {}

  static long value(JsonParser p) {
    JsonToken t = p.currentToken();
    return switch (t) {
      case START_OBJECT -> object(p);
      case START_ARRAY -> array(p);
      case VALUE_STRING -> {
        int len = p.getStringLength();
        yield len == 0
            ? ABSENT
            : mix(chars(p.getStringCharacters(), p.getStringOffset(), len) ^ STRING_TAG);
      }
      case VALUE_NUMBER_INT ->
          p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
              ? mix(string(p.getString()) ^ NUMBER_TAG)
              : mix(mix(p.getLongValue()) ^ NUMBER_TAG);
      case VALUE_NUMBER_FLOAT -> mix(string(p.getString()) ^ NUMBER_TAG);
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

  /**
   * The contribution of one member; the sum of these over members is order-independent.
   *
   * <p>The name enters through {@link String#hashCode()}: the parser hands out one canonical
   * instance per name, which caches it, where hashing its characters again for every member took a
   * twentieth of the decode. The price: two members whose names share a 32-bit {@code hashCode} and
   * whose values are equal digest alike, so renaming a key into such a twin is not seen.
   */
  static long member(String name, long valueHash) {
    return mix(name.hashCode() * NAME_MULTIPLIER + valueHash);
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
      h *= PRIME;
    }
    return h;
  }

  /**
   * Four characters at a time (xor, multiply, fold): one multiply per four characters instead of
   * FNV's one per character, which was the decoder's largest single cost after the parser itself;
   * {@link #mix} finishes it. Differs from {@link #string} on the same text, so the two must never
   * digest the same field.
   */
  private static long chars(char[] buf, int off, int len) {
    long h = 0xCBF29CE484222325L ^ len;
    int i = off;
    for (int end = off + (len & ~3); i < end; i += 4) {
      h ^= buf[i] | (long) buf[i + 1] << 16 | (long) buf[i + 2] << 32 | (long) buf[i + 3] << 48;
      h *= GOLDEN;
      h ^= h >>> 32;
    }
    for (int end = off + len; i < end; i++) {
      h ^= buf[i];
      h *= PRIME;
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
