package dev.stateprobe.repair.catalog;

import dev.stateprobe.drift.DriftKind;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Parse;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * Reads and validates a catalog file. Every problem is collected before anything is thrown, so one
 * edit can fix them all; each names the file, the entry (index and name) and the field.
 *
 * <p>Blocking (reads the file and checks that each script exists): call at start-up or on a worker
 * thread.
 */
public final class CatalogLoader {
  /** The fields of an entry, in the order the README documents them. */
  public static final List<String> FIELDS =
      List.of(
          "name",
          "path",
          "drifts",
          "mode",
          "timeoutSeconds",
          "maxAttempts",
          "cooldownSeconds",
          "namespaces");

  private static final String KNOWN_KINDS =
      Arrays.stream(DriftKind.values()).map(DriftKind::wireName).collect(Collectors.joining(", "));
  private static final String KNOWN_MODES =
      Arrays.stream(CatalogEntry.Mode.values())
          .map(CatalogEntry.Mode::wireName)
          .collect(Collectors.joining(", "));

  /**
   * File names of shells and other interpreters: run as a script, each would read the drift JSON on
   * its stdin as a program.
   */
  static final Pattern INTERPRETERS =
      Pattern.compile(
          "(?:sh|bash|rbash|ash|dash|ksh|ksh93|mksh|pdksh|oksh|yash|posh|zsh|csh|tcsh|fish|nu"
              + "|busybox|toybox|env|su|sudo|doas|nsenter|chroot|setsid|xargs|find"
              + "|python[0-9.]*|pypy[0-9.]*|perl[0-9.]*|ruby[0-9.]*|irb|node|nodejs|deno|bun"
              + "|php[0-9.]*|lua[0-9.]*|luajit|tclsh[0-9.]*|wish[0-9.]*|expect|[gmn]?awk"
              + "|sed|jq|java|jshell|osascript|pwsh|powershell|R|Rscript|guile|racket|sbcl|ghci)");

  /**
   * Bytes a catalog file may have: 256 KiB. A catalog of a few hundred entries is a few dozen KiB;
   * a ConfigMap holds up to 1 MiB, enough for a list whose parsed nodes fill the agent's heap.
   */
  public static final int MAX_BYTES = 256 * 1024;

  /** Levels of nesting: an entry needs 4 (mapping, scripts list, entry, drifts list). */
  public static final int MAX_DEPTH = 16;

  /** Script entries in one catalog. */
  public static final int MAX_ENTRIES = 1000;

  /** YAML nodes (scalars, aliases, collections) in one catalog: 20 per entry at the most. */
  public static final int MAX_NODES = 20 * MAX_ENTRIES;

  /** Aliases to collections (YAML's "billion laughs"); a catalog needs none. */
  private static final int MAX_ALIASES = 50;

  private CatalogLoader() {}

  /**
   * @throws CatalogException listing every problem, when the file cannot be read or any entry is
   *     invalid
   */
  public static Catalog load(Path file) throws CatalogException {
    byte[] content;
    try {
      content = read(file);
    } catch (NoSuchFileException e) {
      throw new CatalogException(List.of(file + ": cannot read: no such file"));
    } catch (IOException e) {
      throw new CatalogException(List.of(file + ": cannot read: " + e));
    }
    return parse(file, content);
  }

  /**
   * Reads {@code file}, or refuses it without reading more than {@link #MAX_BYTES} + 1 bytes: a
   * file that grows while it is read is still cut at the bound.
   *
   * @throws CatalogException when the file is larger than {@link #MAX_BYTES}
   */
  public static byte[] read(Path file) throws IOException, CatalogException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] content = in.readNBytes(MAX_BYTES + 1);
      if (content.length > MAX_BYTES) {
        throw new CatalogException(List.of(tooLarge(file)));
      }
      return content;
    }
  }

  private static String tooLarge(Path file) {
    return file
        + ": larger than "
        + MAX_BYTES
        + " bytes, the most a catalog may have (a catalog of a few hundred entries needs a few"
        + " dozen KiB); refused unread";
  }

  /**
   * Streams the YAML's events, without building anything, and refuses a document deeper than {@link
   * #MAX_DEPTH} or with more than {@link #MAX_NODES} nodes or {@link #MAX_ENTRIES} script entries,
   * before the composer (which recurses once per level and holds every node) sees it.
   */
  private static void checkShape(Path file, String text, LoadSettings settings)
      throws CatalogException {
    int depth = 0;
    int nodes = 0;
    int entries = 0;
    for (Event event : new Parse(settings).parseString(text)) {
      Event.ID id = event.getEventId();
      switch (id) {
        case MappingStart, SequenceStart -> {
          depth++;
          nodes++;
          if (depth > MAX_DEPTH) {
            throw new CatalogException(
                List.of(
                    file
                        + ": "
                        + where(event)
                        + "nested deeper than "
                        + MAX_DEPTH
                        + " levels, the most a catalog may have (an entry needs 4); refused"
                        + " unparsed"));
          }
        }
        case MappingEnd, SequenceEnd -> depth--;
        case Scalar, Alias -> nodes++;
        default -> {}
      }
      // Depth 1 is the top mapping, 2 a value of it (the scripts list): what starts right inside
      // that is one entry.
      boolean entry =
          depth == 3 && (id == Event.ID.MappingStart || id == Event.ID.SequenceStart)
              || depth == 2 && (id == Event.ID.Scalar || id == Event.ID.Alias);
      if (entry) {
        entries++;
        if (entries > MAX_ENTRIES) {
          throw new CatalogException(
              List.of(
                  file
                      + ": "
                      + where(event)
                      + "more than "
                      + MAX_ENTRIES
                      + " script entries, the most a catalog may have; refused unparsed"));
        }
      }
      if (nodes > MAX_NODES) {
        throw new CatalogException(
            List.of(
                file
                    + ": "
                    + where(event)
                    + "more than "
                    + MAX_NODES
                    + " YAML nodes, the most a catalog may have; refused unparsed"));
      }
    }
  }

  private static String where(Event event) {
    return event
        .getStartMark()
        .map(m -> "line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1) + ": ")
        .orElse("");
  }

  /**
   * Validates {@code content} as the text of {@code file}; script paths are resolved against the
   * folder of {@code file} and must exist there.
   */
  public static Catalog parse(Path file, byte[] content) throws CatalogException {
    if (content.length > MAX_BYTES) {
      throw new CatalogException(List.of(tooLarge(file)));
    }
    List<String> problems = new ArrayList<>();
    Object root;
    try {
      LoadSettings settings =
          LoadSettings.builder()
              .setLabel(file.toString())
              .setAllowDuplicateKeys(false)
              .setUseMarks(true)
              .setCodePointLimit(MAX_BYTES)
              .setMaxAliasesForCollections(MAX_ALIASES)
              .build();
      String text = new String(content, StandardCharsets.UTF_8);
      checkShape(file, text, settings);
      root = new Load(settings).loadFromString(text);
    } catch (StackOverflowError e) {
      // checkShape bounds the depth the composer recurses into; this is the last line of defence
      // on a thread with a very small stack: refuse the file, keep the agent.
      throw new CatalogException(
          List.of(file + ": nested too deeply for this thread's stack; refused"));
    } catch (MarkedYamlEngineException e) {
      String where =
          e.getProblemMark()
              .map(m -> "line " + (m.getLine() + 1) + ", column " + (m.getColumn() + 1) + ": ")
              .orElse("");
      throw new CatalogException(List.of(file + ": not valid YAML: " + where + e.getProblem()));
    } catch (YamlEngineException e) {
      throw new CatalogException(List.of(file + ": not valid YAML: " + oneLine(e.getMessage())));
    }

    if (!(root instanceof Map<?, ?> top)) {
      String got = root == null ? "an empty document" : describe(root);
      throw new CatalogException(
          List.of(file + ": expected a mapping with the key 'scripts', got " + got));
    }
    for (Object key : top.keySet()) {
      if (!"scripts".equals(key)) {
        problems.add(file + ": unknown top-level field '" + key + "' (only 'scripts' is allowed)");
      }
    }
    Object scripts = top.get("scripts");
    List<CatalogEntry> entries = new ArrayList<>();
    if (scripts == null) {
      problems.add(file + ": scripts: required (a list of script entries; [] for none)");
    } else if (!(scripts instanceof List<?> list)) {
      problems.add(file + ": scripts: must be a list of script entries, got " + describe(scripts));
    } else {
      Path folder = file.toAbsolutePath().getParent();
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < list.size(); i++) {
        new EntryParser(file, folder, i, list.get(i), seen, problems)
            .parse()
            .ifPresent(entries::add);
      }
    }
    if (!problems.isEmpty()) {
      throw new CatalogException(problems);
    }
    return new Catalog(file, entries);
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*\\n\\s*", " ").strip();
  }

  private static String describe(Object value) {
    return switch (value) {
      case Map<?, ?> m -> "a mapping";
      case List<?> l -> "a list";
      case String s -> "the string '" + s + "'";
      default -> "'" + value + "'";
    };
  }

  /** Validates one entry; collects its problems instead of stopping at the first. */
  private static final class EntryParser {
    private final Path file;
    private final Path folder;
    private final int index;
    private final Object raw;
    private final Set<String> seenNames;
    private final List<String> problems;
    private String prefix;

    EntryParser(
        Path file,
        Path folder,
        int index,
        Object raw,
        Set<String> seenNames,
        List<String> problems) {
      this.file = file;
      this.folder = folder;
      this.index = index;
      this.raw = raw;
      this.seenNames = seenNames;
      this.problems = problems;
      this.prefix = file + ": scripts[" + index + "]";
    }

    Optional<CatalogEntry> parse() {
      if (!(raw instanceof Map<?, ?> map)) {
        problems.add(
            prefix + ": must be a mapping with name, path, drifts, ..., got " + describe(raw));
        return Optional.empty();
      }
      int before = problems.size();
      Object rawName = map.get("name");
      String name = null;
      if (rawName instanceof String s && !s.isEmpty()) {
        prefix = file + ": scripts[" + index + "] (name '" + s + "')";
        name = s;
      }
      for (Object key : map.keySet()) {
        if (!(key instanceof String k) || !FIELDS.contains(k)) {
          problems.add(
              prefix + ": unknown field '" + key + "' (known: " + String.join(", ", FIELDS) + ")");
        }
      }
      if (rawName == null || "".equals(rawName)) {
        problems.add(prefix + ": name: required");
      } else if (name == null) {
        problems.add(prefix + ": name: must be a string, got " + describe(rawName));
      } else if (!Names.isDns1123Label(name)) {
        problems.add(
            prefix
                + ": name: '"
                + name
                + "' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63,"
                + " starting and ending with a letter or digit)");
      } else if (!seenNames.add(name)) {
        problems.add(
            prefix + ": name: '" + name + "' is used by an earlier entry; names must be unique");
      }

      Path script = script(map.get("path"));
      Set<DriftKind> drifts = drifts(map.get("drifts"));
      CatalogEntry.Mode mode = mode(map);
      Long timeout =
          wholeNumber(map, "timeoutSeconds", CatalogEntry.DEFAULT_TIMEOUT.toSeconds(), 1, 3600);
      Long attempts =
          wholeNumber(
              map,
              "maxAttempts",
              CatalogEntry.DEFAULT_MAX_ATTEMPTS,
              1,
              CatalogEntry.MAX_MAX_ATTEMPTS);
      Long cooldown =
          wholeNumber(
              map, "cooldownSeconds", CatalogEntry.DEFAULT_COOLDOWN.toSeconds(), 0, Long.MAX_VALUE);
      List<String> namespaces = namespaces(map.get("namespaces"));

      if (problems.size() != before) {
        return Optional.empty();
      }
      return Optional.of(
          new CatalogEntry(
              name,
              script,
              drifts,
              mode,
              Duration.ofSeconds(timeout),
              Math.toIntExact(attempts),
              Duration.ofSeconds(cooldown),
              namespaces));
    }

    private Path script(Object value) {
      if (value == null || "".equals(value)) {
        problems.add(prefix + ": path: required (the script, relative to " + folder + ")");
        return null;
      }
      if (!(value instanceof String s)) {
        problems.add(prefix + ": path: must be a string, got " + describe(value));
        return null;
      }
      Path relative;
      try {
        relative = Path.of(s);
      } catch (InvalidPathException e) {
        problems.add(prefix + ": path: '" + s + "' is not a valid path: " + e.getReason());
        return null;
      }
      if (relative.isAbsolute()) {
        problems.add(
            prefix + ": path: '" + s + "' must be relative to the catalog's folder " + folder);
        return null;
      }
      for (Path part : relative) {
        if (part.toString().equals("..")) {
          problems.add(prefix + ": path: '" + s + "' must not contain '..'");
          return null;
        }
      }
      Path resolved = folder.resolve(relative).normalize();
      if (!Files.exists(resolved)) {
        problems.add(prefix + ": path: " + resolved + " does not exist");
      } else if (!confined(resolved)) {
        return null;
      } else if (!Files.isRegularFile(resolved)) {
        problems.add(prefix + ": path: " + resolved + " is not a regular file");
      } else if (!Files.isExecutable(resolved)) {
        problems.add(
            prefix
                + ": path: "
                + resolved
                + " is not executable (chmod +x; a ConfigMap volume needs defaultMode: 0755)");
      }
      return resolved;
    }

    /**
     * Whether {@code resolved}'s real path (every symlink followed) stays inside the catalog's real
     * folder and is not a shell or another interpreter. Kubernetes' ConfigMap volumes make every
     * file a symlink into {@code ..data/} inside the same folder, which passes; a symlink to {@code
     * /bin/sh} would run the drift JSON the script gets on stdin as shell commands.
     */
    private boolean confined(Path resolved) {
      Path real;
      Path realFolder;
      try {
        real = resolved.toRealPath();
        realFolder = folder.toRealPath();
      } catch (IOException e) {
        problems.add(prefix + ": path: " + resolved + " cannot be resolved: " + e);
        return false;
      }
      if (!real.startsWith(realFolder) || real.equals(realFolder)) {
        problems.add(
            prefix
                + ": path: "
                + resolved
                + " resolves to "
                + real
                + ", outside the catalog's folder "
                + realFolder
                + " (a script must be a file of the catalog's folder, not a link out of it)");
        return false;
      }
      String named = resolved.getFileName().toString();
      String realName = real.getFileName().toString();
      for (String name : List.of(named, realName)) {
        if (INTERPRETERS.matcher(name).matches()) {
          problems.add(
              prefix
                  + ": path: "
                  + resolved
                  + (name.equals(named) ? "" : " resolves to " + real + ", which")
                  + " is named like the interpreter '"
                  + name
                  + "': it would run the drift JSON on its stdin as a program; name the script"
                  + " itself, with its own shebang");
          return false;
        }
      }
      return true;
    }

    private Set<DriftKind> drifts(Object value) {
      if (value == null) {
        problems.add(prefix + ": drifts: required (one or more of " + KNOWN_KINDS + ")");
        return null;
      }
      if (!(value instanceof List<?> list)) {
        problems.add(prefix + ": drifts: must be a list, got " + describe(value));
        return null;
      }
      if (list.isEmpty()) {
        problems.add(prefix + ": drifts: must not be empty (one or more of " + KNOWN_KINDS + ")");
        return null;
      }
      Set<DriftKind> kinds = EnumSet.noneOf(DriftKind.class);
      for (Object item : list) {
        Optional<DriftKind> kind =
            item instanceof String s ? DriftKind.fromWireName(s) : Optional.empty();
        if (kind.isEmpty()) {
          problems.add(
              prefix + ": drifts: unknown drift kind '" + item + "' (known: " + KNOWN_KINDS + ")");
        } else if (!kinds.add(kind.get())) {
          problems.add(prefix + ": drifts: '" + item + "' is listed twice");
        }
      }
      return kinds;
    }

    private CatalogEntry.Mode mode(Map<?, ?> map) {
      Object value = map.get("mode");
      if (value == null && !map.containsKey("mode")) {
        return CatalogEntry.Mode.AUTO;
      }
      Optional<CatalogEntry.Mode> mode =
          value instanceof String s ? CatalogEntry.Mode.fromWireName(s) : Optional.empty();
      if (mode.isEmpty()) {
        problems.add(prefix + ": mode: '" + value + "' is not one of " + KNOWN_MODES);
        return null;
      }
      return mode.get();
    }

    private Long wholeNumber(Map<?, ?> map, String field, long dflt, long min, long max) {
      Object value = map.get(field);
      if (value == null) {
        if (map.containsKey(field)) {
          return invalidNumber(field, "null", min, max);
        }
        return dflt;
      }
      Long n =
          switch (value) {
            case Integer i -> (long) i;
            case Long l -> l;
            case BigInteger b -> b.bitLength() < 64 ? b.longValue() : null;
            default -> null;
          };
      if (n == null || n < min || n > max) {
        return invalidNumber(
            field, value instanceof String s ? "'" + s + "'" : String.valueOf(value), min, max);
      }
      return n;
    }

    private Long invalidNumber(String field, String got, long min, long max) {
      String range =
          max == Long.MAX_VALUE
              ? "a whole number >= " + min
              : "a whole number from " + min + " to " + max;
      problems.add(prefix + ": " + field + ": must be " + range + ", got " + got);
      return null;
    }

    private List<String> namespaces(Object value) {
      if (value == null) {
        return List.of(CatalogEntry.ALL_NAMESPACES);
      }
      if (!(value instanceof List<?> list)) {
        problems.add(prefix + ": namespaces: must be a list, got " + describe(value));
        return null;
      }
      if (list.isEmpty()) {
        problems.add(prefix + ": namespaces: must not be empty (omit it, or use [\"*\"], for all)");
        return null;
      }
      Set<String> out = new LinkedHashSet<>();
      for (Object item : list) {
        if (!(item instanceof String s)
            || !(s.equals(CatalogEntry.ALL_NAMESPACES) || Names.isDns1123Label(s))) {
          problems.add(
              prefix
                  + ": namespaces: '"
                  + item
                  + "' is neither \"*\" nor a namespace name (DNS-1123 label)");
        } else if (!out.add(s)) {
          problems.add(prefix + ": namespaces: '" + s + "' is listed twice");
        }
      }
      return List.copyOf(out);
    }
  }
}
