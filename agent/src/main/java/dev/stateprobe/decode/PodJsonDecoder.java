package dev.stateprobe.decode;

import dev.stateprobe.view.ContainerState;
import dev.stateprobe.view.ContainerStatusRecord;
import dev.stateprobe.view.PodRecord;
import dev.stateprobe.view.RuntimePod;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.core.json.JsonFactory;

/**
 * Decodes pod JSON into {@link PodRecord}s in one streaming pass: no tree, no fabric8 object, no
 * copy of the fields it does not keep. Used for the kubelet's {@code /pods}, for the API server's
 * objects (re-serialized by the informer) and for test captures alike, so both views are made by
 * the same code.
 *
 * <p>Thread-safe and stateless apart from the (thread-safe) parser factory.
 */
public final class PodJsonDecoder {
  static final String CONFIG_SOURCE = "kubernetes.io/config.source";
  static final String CONFIG_SEEN = "kubernetes.io/config.seen";
  static final String CONFIG_HASH = "kubernetes.io/config.hash";
  static final String CONFIG_MIRROR = "kubernetes.io/config.mirror";

  /**
   * Duplicate keys are malformed JSON here, as in the catalog loader: "the later one wins" would
   * let one pod carry two UIDs, one for each reader of the object. Cost, measured on a 1000-pod
   * (4.2 MB) reply with the DaemonSet's C1-only JIT on this shared 2-core machine: a bare token
   * pass went from ~100 to ~165 ms, the whole decode stayed within the noise (53 to 105 ms with, 70
   * to 96 ms with a hand-written check of only the objects read key by key); and an unchanged reply
   * is not decoded again at all ({@code ReplyMemo}).
   */
  private final JsonFactory factory =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  /** A v1 {@code PodList} (kubelet {@code /pods}, or an API server list). */
  public List<PodRecord> decodePodList(byte[] json, int offset, int length) throws DecodeException {
    return decodePodList(json, offset, length, Integer.MAX_VALUE);
  }

  /**
   * Same, refusing a list of more than {@code maxItems} items with a {@link
   * DecodeException#tooLarge} before their records are kept: records of tiny items can take several
   * times the heap of their bytes.
   */
  public List<PodRecord> decodePodList(byte[] json, int offset, int length, int maxItems)
      throws DecodeException {
    List<PodRecord> out = new ArrayList<>();
    list(json, offset, length, p -> out.add(pod(p, counted(out.size(), maxItems))));
    return out;
  }

  /**
   * Same, handing out the records of the items whose bytes are those of an item of the last list
   * decoded with {@code memo} (see {@link ItemMemo}). A list it refuses is refused exactly as
   * without a memo, with the same message, and leaves the memo as it was.
   */
  public List<PodRecord> decodePodList(
      byte[] json, int offset, int length, int maxItems, ItemMemo<PodRecord> memo)
      throws DecodeException {
    return memoized(json, offset, length, maxItems, memo, this::pod);
  }

  public List<PodRecord> decodePodList(byte[] json) throws DecodeException {
    return decodePodList(json, 0, json.length);
  }

  /** One v1 {@code Pod} object. */
  public PodRecord decodePod(byte[] json, int offset, int length) throws DecodeException {
    try (JsonParser p = factory.createParser(ObjectReadContext.empty(), json, offset, length)) {
      expect(p, p.nextToken(), JsonToken.START_OBJECT, "a Pod object");
      PodRecord pod = pod(p, -1);
      if (p.nextToken() != null) {
        throw new DecodeException("trailing content after the Pod object at " + where(p));
      }
      return pod;
    } catch (JacksonException e) {
      throw malformed(e);
    }
  }

  public PodRecord decodePod(byte[] json) throws DecodeException {
    return decodePod(json, 0, json.length);
  }

  /**
   * The kubelet's {@code /runningpods/} reply: a PodList whose items carry only name, namespace,
   * uid and {@code spec.containers[].name} of the containers that run.
   */
  public List<RuntimePod> decodeRunningPods(byte[] json, int offset, int length)
      throws DecodeException {
    return decodeRunningPods(json, offset, length, Integer.MAX_VALUE);
  }

  /** Same, refusing more than {@code maxItems} items as in {@link #decodePodList}. */
  public List<RuntimePod> decodeRunningPods(byte[] json, int offset, int length, int maxItems)
      throws DecodeException {
    List<RuntimePod> out = new ArrayList<>();
    list(json, offset, length, p -> out.add(runningPod(p, counted(out.size(), maxItems))));
    return out;
  }

  /** Same as {@link #decodeRunningPods(byte[], int, int, int)}, with an {@link ItemMemo}. */
  public List<RuntimePod> decodeRunningPods(
      byte[] json, int offset, int length, int maxItems, ItemMemo<RuntimePod> memo)
      throws DecodeException {
    return memoized(json, offset, length, maxItems, memo, this::runningPod);
  }

  @FunctionalInterface
  private interface ItemDecoder<V> {
    V read(JsonParser p, int index) throws DecodeException;
  }

  /**
   * A list, each item first skipped over to find its bytes, then looked up in {@code memo}, and
   * decoded from those bytes by a parser of its own only when it is not there. Any refusal decodes
   * the list again without the memo: the error is then the one {@link #list} gives, word for word.
   */
  private <V> List<V> memoized(
      byte[] json, int offset, int length, int maxItems, ItemMemo<V> memo, ItemDecoder<V> decode)
      throws DecodeException {
    ItemMemo<V>.Session session = memo.session();
    List<V> out = new ArrayList<>();
    try {
      list(
          json,
          offset,
          length,
          p -> {
            int index = counted(out.size(), maxItems);
            int start = offset + (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
            int end = offset + (int) p.currentLocation().getByteOffset();
            V value = session.lookup(json, start, end - start);
            if (value == null) {
              try (JsonParser item =
                  factory.createParser(ObjectReadContext.empty(), json, start, end - start)) {
                item.nextToken();
                value = decode.read(item, index);
              }
              session.remember(value);
            }
            out.add(value);
          });
    } catch (DecodeException | JacksonException e) {
      List<V> again = new ArrayList<>();
      list(json, offset, length, p -> again.add(decode.read(p, counted(again.size(), maxItems))));
      return again; // refused here too, as a rule; if not, these records are the answer
    }
    session.commit();
    return out;
  }

  private static int counted(int index, int maxItems) throws DecodeException {
    if (index >= maxItems) {
      throw DecodeException.tooLarge(
          "the list has more than " + maxItems + " items, more than this agent's heap can keep");
    }
    return index;
  }

  public List<RuntimePod> decodeRunningPods(byte[] json) throws DecodeException {
    return decodeRunningPods(json, 0, json.length);
  }

  @FunctionalInterface
  private interface ItemReader {
    void read(JsonParser p) throws DecodeException;
  }

  private void list(byte[] json, int offset, int length, ItemReader items) throws DecodeException {
    try (JsonParser p = factory.createParser(ObjectReadContext.empty(), json, offset, length)) {
      expect(p, p.nextToken(), JsonToken.START_OBJECT, "a PodList object");
      boolean sawItems = false;
      String name;
      while ((name = p.nextName()) != null) {
        JsonToken t = p.nextToken();
        switch (name) {
          case "kind" -> {
            // kubectl writes "List"; the kubelet and the API server write "PodList".
            if (t != JsonToken.VALUE_STRING
                || !("PodList".equals(p.getString()) || "List".equals(p.getString()))) {
              throw new DecodeException("kind is " + p.getText() + ", expected PodList");
            }
          }
          case "items" -> {
            sawItems = true;
            if (t == JsonToken.VALUE_NULL) {
              continue;
            }
            expect(p, t, JsonToken.START_ARRAY, "items to be an array");
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
              expect(p, t, JsonToken.START_OBJECT, "each item to be a Pod object");
              items.read(p);
            }
          }
          default -> p.skipChildren();
        }
      }
      if (!sawItems) {
        throw new DecodeException("not a PodList: no items field");
      }
      if (p.nextToken() != null) {
        throw new DecodeException("trailing content after the PodList at " + where(p));
      }
    } catch (JacksonException e) {
      throw malformed(e);
    }
  }

  /** Mutable scratch for one pod; only the record leaves this class. */
  private static final class PodFields {
    String uid;
    String namespace = "default";
    String name;
    String nodeName;
    String phase;
    String resourceVersion;
    Instant creationTimestamp;
    Instant deletionTimestamp;
    Long deletionGracePeriodSeconds;
    String configSource;
    String configHash;
    String configMirror;
    String controllerKind;
    long labelsHash;
    long annotationsHash;
    long specHash;
    long statusHash;
    List<ContainerStatusRecord> containers = List.of();
    Map<String, String> labels = Map.of();
  }

  private PodRecord pod(JsonParser p, int index) throws DecodeException {
    PodFields f = new PodFields();
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (name) {
        case "metadata" -> {
          expect(p, t, JsonToken.START_OBJECT, "metadata to be an object" + item(index));
          metadata(p, f, index);
        }
        case "spec" -> {
          if (t == JsonToken.START_OBJECT) {
            spec(p, f);
          } else {
            p.skipChildren();
          }
        }
        case "status" -> {
          if (t == JsonToken.START_OBJECT) {
            status(p, f, index);
          } else {
            p.skipChildren();
          }
        }
        default -> p.skipChildren();
      }
    }
    if (f.uid == null || f.uid.isEmpty()) {
      throw new DecodeException("pod" + item(index) + " has no metadata.uid");
    }
    if (f.name == null || f.name.isEmpty()) {
      throw new DecodeException("pod" + item(index) + " has no metadata.name");
    }
    return new PodRecord(
        f.uid,
        f.namespace,
        f.name,
        f.nodeName,
        f.phase,
        f.resourceVersion,
        f.creationTimestamp,
        f.deletionTimestamp,
        f.deletionGracePeriodSeconds,
        f.configSource,
        f.configHash,
        f.configMirror,
        f.controllerKind,
        f.labelsHash,
        f.annotationsHash,
        f.specHash,
        f.statusHash,
        f.containers,
        f.labels);
  }

  private void metadata(JsonParser p, PodFields f, int index) throws DecodeException {
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (name) {
        case "uid" -> f.uid = text(p, t);
        case "name" -> f.name = text(p, t);
        case "namespace" -> {
          String ns = text(p, t);
          if (ns != null && !ns.isEmpty()) {
            f.namespace = ns;
          }
        }
        case "resourceVersion" -> f.resourceVersion = text(p, t);
        case "creationTimestamp" -> f.creationTimestamp = instant(p, t, name, index);
        case "deletionTimestamp" -> f.deletionTimestamp = instant(p, t, name, index);
        case "deletionGracePeriodSeconds" ->
            f.deletionGracePeriodSeconds = t == JsonToken.VALUE_NULL ? null : p.getLongValue();
        case "labels" -> {
          if (t == JsonToken.START_OBJECT) {
            labels(p, f);
          } else {
            f.labelsHash = skip(p);
          }
        }
        case "annotations" -> {
          if (t == JsonToken.START_OBJECT) {
            annotations(p, f);
          } else {
            p.skipChildren();
          }
        }
        case "ownerReferences" -> {
          if (t == JsonToken.START_ARRAY) {
            owners(p, f);
          } else {
            p.skipChildren();
          }
        }
        default -> p.skipChildren();
      }
    }
  }

  /**
   * Hashes the labels as {@link CanonicalHash#object} does, and keeps their string values for a
   * ConsistencyPolicy's pod selector.
   */
  private static void labels(JsonParser p, PodFields f) {
    long sum = 0;
    int members = 0;
    Map<String, String> kept = null;
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      if (t == JsonToken.VALUE_STRING) {
        if (kept == null) {
          kept = new HashMap<>();
        }
        kept.put(name, p.getString());
      }
      long v = CanonicalHash.value(p);
      if (v != CanonicalHash.ABSENT) {
        sum += CanonicalHash.member(name, v);
        members++;
      }
    }
    f.labelsHash = CanonicalHash.finishObject(sum, members);
    f.labels = kept == null ? Map.of() : kept;
  }

  /** Hashes the annotations that are the pod's own, and keeps the kubelet's config keys. */
  private static void annotations(JsonParser p, PodFields f) {
    long sum = 0;
    int members = 0;
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (name) {
        case CONFIG_SOURCE -> {
          f.configSource = text(p, t);
          continue; // the kubelet adds it to its copy: not a difference
        }
        case CONFIG_SEEN -> {
          p.skipChildren();
          continue; // likewise
        }
        case CONFIG_HASH -> f.configHash = text(p, t);
        case CONFIG_MIRROR -> f.configMirror = text(p, t);
        default -> {}
      }
      long v = CanonicalHash.value(p);
      if (v != CanonicalHash.ABSENT) {
        sum += CanonicalHash.member(name, v);
        members++;
      }
    }
    f.annotationsHash = CanonicalHash.finishObject(sum, members);
  }

  private static void owners(JsonParser p, PodFields f) {
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      String kind = null;
      boolean controller = false;
      String name;
      while ((name = p.nextName()) != null) {
        JsonToken v = p.nextToken();
        switch (name) {
          case "kind" -> kind = text(p, v);
          case "controller" -> controller = v == JsonToken.VALUE_TRUE;
          default -> p.skipChildren();
        }
      }
      if (controller && kind != null) {
        f.controllerKind = kind;
      }
    }
  }

  /** Digests the whole spec, picking up nodeName on the way. */
  private static void spec(JsonParser p, PodFields f) {
    long sum = 0;
    int members = 0;
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      if ("nodeName".equals(name)) {
        f.nodeName = text(p, t);
      }
      long v = CanonicalHash.value(p);
      if (v != CanonicalHash.ABSENT) {
        sum += CanonicalHash.member(name, v);
        members++;
      }
    }
    f.specHash = CanonicalHash.finishObject(sum, members);
  }

  /**
   * Keeps phase and container states, and digests only the status that matters (phase, conditions'
   * type and status, each container's name, state, ready, restartCount): IPs, timestamps and
   * messages change without the kubelet having missed anything.
   */
  private static void status(JsonParser p, PodFields f, int index) throws DecodeException {
    long sum = 0;
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      switch (name) {
        case "phase" -> {
          f.phase = text(p, t);
          if (f.phase != null) {
            sum += CanonicalHash.member(name, CanonicalHash.string(f.phase));
          }
        }
        case "conditions" -> {
          if (t == JsonToken.START_ARRAY) {
            sum += CanonicalHash.member(name, conditions(p));
          } else {
            p.skipChildren();
          }
        }
        case "containerStatuses", "initContainerStatuses" -> {
          if (t == JsonToken.START_ARRAY) {
            List<ContainerStatusRecord> list = containerStatuses(p, index);
            long h = 17;
            for (ContainerStatusRecord c : list) {
              h = h * 1_000_003L + containerHash(c);
            }
            sum += CanonicalHash.member(name, CanonicalHash.mix(h));
            if (name.equals("containerStatuses")) {
              f.containers = list;
            }
          } else {
            p.skipChildren();
          }
        }
        default -> p.skipChildren();
      }
    }
    f.statusHash = CanonicalHash.mix(sum);
  }

  private static long conditions(JsonParser p) {
    long sum = 0;
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      String type = null;
      String status = null;
      String name;
      while ((name = p.nextName()) != null) {
        JsonToken v = p.nextToken();
        switch (name) {
          case "type" -> type = text(p, v);
          case "status" -> status = text(p, v);
          default -> p.skipChildren();
        }
      }
      sum +=
          CanonicalHash.mix(
              CanonicalHash.string(String.valueOf(type)) * 31
                  + CanonicalHash.string(String.valueOf(status)));
    }
    return CanonicalHash.mix(sum);
  }

  private static List<ContainerStatusRecord> containerStatuses(JsonParser p, int index)
      throws DecodeException {
    List<ContainerStatusRecord> out = new ArrayList<>();
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t != JsonToken.START_OBJECT) {
        p.skipChildren();
        continue;
      }
      String cname = null;
      boolean ready = false;
      int restarts = 0;
      ContainerState state = ContainerState.UNKNOWN;
      String name;
      while ((name = p.nextName()) != null) {
        JsonToken v = p.nextToken();
        switch (name) {
          case "name" -> cname = text(p, v);
          case "ready" -> ready = v == JsonToken.VALUE_TRUE;
          case "restartCount" -> restarts = v == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : 0;
          case "state" -> state = v == JsonToken.START_OBJECT ? state(p) : skipState(p);
          default -> p.skipChildren();
        }
      }
      if (cname == null) {
        throw new DecodeException("a container status" + item(index) + " has no name");
      }
      out.add(new ContainerStatusRecord(cname, state, ready, restarts));
    }
    return out;
  }

  private static ContainerState state(JsonParser p) {
    ContainerState s = ContainerState.UNKNOWN;
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken v = p.nextToken();
      if (v == JsonToken.START_OBJECT && s == ContainerState.UNKNOWN) {
        s =
            switch (name) {
              case "running" -> ContainerState.RUNNING;
              case "waiting" -> ContainerState.WAITING;
              case "terminated" -> ContainerState.TERMINATED;
              default -> ContainerState.UNKNOWN;
            };
      }
      p.skipChildren();
    }
    return s;
  }

  private static ContainerState skipState(JsonParser p) {
    p.skipChildren();
    return ContainerState.UNKNOWN;
  }

  private static long containerHash(ContainerStatusRecord c) {
    long h = CanonicalHash.string(c.name());
    h = h * 31 + c.state().ordinal();
    h = h * 31 + (c.ready() ? 1 : 0);
    h = h * 31 + c.restartCount();
    return CanonicalHash.mix(h);
  }

  private RuntimePod runningPod(JsonParser p, int index) throws DecodeException {
    String uid = null;
    String namespace = "default";
    String podName = null;
    // A list, not a HashSet: one immutable set is made of it at the end, and a HashSet per pod
    // (for one or two names) was about a third of this decoder's time (DecodeBench, runningpods:
    // 97 -> 67 us at 110 pods, decoder / token pass 2.4 -> 1.8).
    List<String> containers = new ArrayList<>(2);
    String name;
    while ((name = p.nextName()) != null) {
      JsonToken t = p.nextToken();
      if ("metadata".equals(name) && t == JsonToken.START_OBJECT) {
        String m;
        while ((m = p.nextName()) != null) {
          JsonToken v = p.nextToken();
          switch (m) {
            case "uid" -> uid = text(p, v);
            case "name" -> podName = text(p, v);
            case "namespace" -> {
              String ns = text(p, v);
              if (ns != null && !ns.isEmpty()) {
                namespace = ns;
              }
            }
            default -> p.skipChildren();
          }
        }
      } else if ("spec".equals(name) && t == JsonToken.START_OBJECT) {
        String s;
        while ((s = p.nextName()) != null) {
          JsonToken v = p.nextToken();
          if ("containers".equals(s) && v == JsonToken.START_ARRAY) {
            JsonToken c;
            while ((c = p.nextToken()) != JsonToken.END_ARRAY) {
              if (c != JsonToken.START_OBJECT) {
                p.skipChildren();
                continue;
              }
              String k;
              while ((k = p.nextName()) != null) {
                JsonToken cv = p.nextToken();
                if ("name".equals(k)) {
                  String cn = text(p, cv);
                  if (cn != null) {
                    containers.add(cn);
                  }
                } else {
                  p.skipChildren();
                }
              }
            }
          } else {
            p.skipChildren();
          }
        }
      } else {
        p.skipChildren();
      }
    }
    if (uid == null || uid.isEmpty() || podName == null) {
      throw new DecodeException(
          "running pod" + item(index) + " has no metadata.uid or metadata.name");
    }
    return new RuntimePod(uid, namespace, podName, Set.copyOf(containers));
  }

  // ---- helpers ----

  private static String text(JsonParser p, JsonToken t) {
    if (t == JsonToken.VALUE_STRING) {
      return p.getString();
    }
    p.skipChildren();
    return null;
  }

  private static long skip(JsonParser p) {
    p.skipChildren();
    return CanonicalHash.ABSENT;
  }

  private static Instant instant(JsonParser p, JsonToken t, String field, int index)
      throws DecodeException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_STRING) {
      p.skipChildren();
      throw new DecodeException("metadata." + field + item(index) + " is not a timestamp");
    }
    String s = p.getString();
    Instant fast = kubernetesTime(s);
    if (fast != null) {
      return fast;
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new DecodeException(
          "metadata." + field + item(index) + " '" + s + "' is not an RFC 3339 time");
    }
  }

  /**
   * The one form Kubernetes writes a {@code metav1.Time} in, {@code 2006-01-02T15:04:05Z}, read
   * without {@code Instant.parse}, whose general parser took a sixteenth of the decode. {@code
   * null} for anything else (fractions, offsets, a 60th second, an impossible date): the caller
   * falls back to {@code Instant.parse}, which decides.
   */
  static Instant kubernetesTime(String s) {
    if (s.length() != 20
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':'
        || s.charAt(19) != 'Z') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0
        || month < 1
        || month > 12
        || day < 1
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59
        || day > YearMonth.of(year, month).lengthOfMonth()) {
      return null;
    }
    long epochDay = LocalDate.of(year, month, day).toEpochDay();
    return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600 + minute * 60 + second);
  }

  /** The decimal number in {@code s[from, from + n)}, or -1 if it is not all ASCII digits. */
  private static int digits(String s, int from, int n) {
    int v = 0;
    for (int i = from; i < from + n; i++) {
      int d = s.charAt(i) - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      v = v * 10 + d;
    }
    return v;
  }

  private static void expect(JsonParser p, JsonToken actual, JsonToken wanted, String what)
      throws DecodeException {
    if (actual != wanted) {
      throw new DecodeException("expected " + what + ", found " + actual + " at " + where(p));
    }
  }

  private static String item(int index) {
    return index < 0 ? "" : " (item " + index + ")";
  }

  private static String where(JsonParser p) {
    var loc = p.currentLocation();
    return "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
  }

  private static DecodeException malformed(JacksonException e) {
    var loc = e.getLocation();
    String at = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    return new DecodeException("malformed JSON" + at + ": " + e.getOriginalMessage(), e);
  }
}
