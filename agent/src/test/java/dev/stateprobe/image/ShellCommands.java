package dev.stateprobe.image;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The programs a bash script runs, found by a conservative word scan (no bash parser runs on the
 * JVM, and shellcheck has no "list commands" output): the first word of every simple command, in
 * the script and in its {@code $(...)} substitutions, including those inside double quotes.
 *
 * <p>What it understands: comments; single quotes (skipped whole, over lines); double quotes
 * (skipped but for their {@code $(...)}); {@code ${...}}, {@code $((...))} and {@code ((...))}
 * (skipped); {@code [[ ... ]]} (skipped); separators {@code ; | & && || ( ) { }} and newlines;
 * keywords after which a command follows ({@code if then else elif do while until !}); variable
 * assignments before a command; {@code case} patterns; array literals ({@code a=(prog args)} counts
 * {@code prog}: the scripts run arrays as commands). Words that are not plain names (they start
 * with {@code $ " - /} etc.) are ignored: a command run from a variable cannot be named by a scan.
 * Bash builtins and keywords ({@link #BUILTINS}) and the script's own functions are not programs.
 *
 * <p>Over-reporting is safe (the test then names a word to look at); under-reporting is what the
 * exact per-script expectations in {@code ImageCommandsTest} guard against.
 */
public final class ShellCommands {
  /** Bash keywords and builtins (bash 5, {@code compgen -k -b}): never a program. */
  public static final Set<String> BUILTINS =
      Set.of(
          "if",
          "then",
          "else",
          "elif",
          "fi",
          "case",
          "esac",
          "for",
          "select",
          "while",
          "until",
          "do",
          "done",
          "in",
          "function",
          "time",
          "coproc",
          "{",
          "}",
          "!",
          "[[",
          "]]",
          ".",
          ":",
          "[",
          "alias",
          "bg",
          "bind",
          "break",
          "builtin",
          "caller",
          "cd",
          "command",
          "compgen",
          "complete",
          "compopt",
          "continue",
          "declare",
          "dirs",
          "disown",
          "echo",
          "enable",
          "eval",
          "exec",
          "exit",
          "export",
          "false",
          "fc",
          "fg",
          "getopts",
          "hash",
          "help",
          "history",
          "jobs",
          "kill",
          "let",
          "local",
          "logout",
          "mapfile",
          "popd",
          "printf",
          "pushd",
          "pwd",
          "read",
          "readarray",
          "readonly",
          "return",
          "set",
          "shift",
          "shopt",
          "source",
          "suspend",
          "test",
          "times",
          "trap",
          "true",
          "type",
          "typeset",
          "ulimit",
          "umask",
          "unalias",
          "unset",
          "wait");

  /** Words after which the next word is a command again. */
  private static final Set<String> COMMAND_FOLLOWS =
      Set.of(
          "if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec", "command",
          "{");

  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.+-]*");
  private static final Pattern ASSIGNMENT =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\[[^]]*])?\\+?=.*");
  private static final Pattern FUNCTION =
      Pattern.compile("(?m)^\\s*(?:function\\s+)?([A-Za-z_][A-Za-z0-9_-]*)\\s*\\(\\)");
  private static final Pattern GUARD =
      Pattern.compile("command\\s+-v\\s+([A-Za-z_][A-Za-z0-9_.+-]*)");

  private final Set<String> commands = new TreeSet<>();
  private final Set<String> functions = new TreeSet<>();
  private final Set<String> guarded = new TreeSet<>();

  private ShellCommands() {}

  /** Scans {@code script} (the text of a bash script). */
  public static ShellCommands scan(String script) {
    return scan(script, List.of());
  }

  /**
   * Scans {@code script}, which sources {@code sourced} (their texts): their functions are the
   * script's too.
   */
  public static ShellCommands scan(String script, List<String> sourced) {
    ShellCommands s = new ShellCommands();
    for (String lib : sourced) {
      Matcher f = FUNCTION.matcher(lib);
      while (f.find()) {
        s.functions.add(f.group(1));
      }
    }
    Matcher f = FUNCTION.matcher(script);
    while (f.find()) {
      s.functions.add(f.group(1));
    }
    Matcher g = GUARD.matcher(script);
    while (g.find()) {
      s.guarded.add(g.group(1));
    }
    s.words(script);
    return s;
  }

  /** Programs the script runs: first words that are neither builtins nor its own functions. */
  public Set<String> programs() {
    Set<String> out = new TreeSet<>(commands);
    out.removeAll(BUILTINS);
    out.removeAll(functions);
    return out;
  }

  /** Programs the script looks for with {@code command -v NAME} before it needs them. */
  public Set<String> guarded() {
    return guarded;
  }

  // ---- the scan ----

  private String text;
  private int pos;

  /** Scans {@code code} as a command list; nested substitutions recurse. */
  private void words(String code) {
    String savedText = text;
    int savedPos = pos;
    text = code;
    pos = 0;
    boolean commandStart = true;
    boolean inCase = false; // between `case ... in` and `esac`, a word before `)` is a pattern
    String skipUntil = null; // after `case` ("in") or `for`/`select` ("do"): not commands
    String pending = null; // the command word of the current simple command, until `)` proves
    // it a case pattern
    int parens = 0;
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (c == '\n' || c == ';' || c == '|' || c == '&') {
        flush(pending);
        pending = null;
        commandStart = true;
        pos++;
      } else if (c == ' '
          || c == '\t'
          || c == '\\' && pos + 1 < text.length() && text.charAt(pos + 1) == '\n') {
        pos += c == '\\' ? 2 : 1;
      } else if (c == '#' && (pos == 0 || Character.isWhitespace(text.charAt(pos - 1)))) {
        while (pos < text.length() && text.charAt(pos) != '\n') {
          pos++;
        }
      } else if (c == '(') {
        if (text.startsWith("((", pos)) {
          pos = closing(pos + 2, "))");
          commandStart = false;
        } else {
          parens++;
          commandStart = true;
          pos++;
        }
      } else if (c == ')') {
        if (parens == 0 && inCase) {
          pending = null; // `pattern)`: not a command
        } else {
          parens = Math.max(0, parens - 1);
          flush(pending);
          pending = null;
        }
        commandStart = true;
        pos++;
      } else if (c == '<' || c == '>') {
        // a redirection: its target word is a file, not a command
        pos++;
        while (pos < text.length()
            && (text.charAt(pos) == '<' || text.charAt(pos) == '>' || text.charAt(pos) == '&')) {
          pos++;
        }
        skipSpaces();
        readWord();
      } else {
        int start = pos;
        String word = readWord();
        if (word.isEmpty()) {
          pos = Math.max(pos, start + 1);
          continue;
        }
        if (word.equals("[[")) {
          pos = closing(pos, "]]");
          commandStart = false;
          continue;
        }
        if (word.equals("esac")) {
          inCase = false;
        }
        if (skipUntil != null) {
          if (word.equals(skipUntil)) {
            inCase = skipUntil.equals("in");
            skipUntil = null;
            commandStart = true;
          }
          continue;
        }
        if (!commandStart) {
          continue;
        }
        if (ASSIGNMENT.matcher(word).matches()) {
          if (word.endsWith("=") && pos < text.length() && text.charAt(pos) == '(') {
            pos++; // an array literal: its first element is what the scripts run
            parens++;
          }
          continue; // the command follows the assignments
        }
        if (word.equals("case")) {
          skipUntil = "in";
          commandStart = false;
          continue;
        }
        if (word.equals("for") || word.equals("select")) {
          skipUntil = "do";
          commandStart = false;
          continue;
        }
        if (word.equals("command") && text.startsWith(" -v", pos)) {
          commandStart = false; // `command -v x` looks for x: see guarded()
          continue;
        }
        flush(pending);
        pending = NAME.matcher(word).matches() ? word : null;
        commandStart = COMMAND_FOLLOWS.contains(word);
        if (commandStart) {
          flush(pending);
          pending = null;
        }
      }
    }
    flush(pending);
    text = savedText;
    pos = savedPos;
  }

  private void flush(String word) {
    if (word != null) {
      commands.add(word);
    }
  }

  private void skipSpaces() {
    while (pos < text.length() && (text.charAt(pos) == ' ' || text.charAt(pos) == '\t')) {
      pos++;
    }
  }

  /**
   * Reads one word from {@code pos}: quotes and expansions are consumed whole (their command
   * substitutions scanned), and only a word of plain characters comes back as itself; anything else
   * comes back as {@code "$"}, which is never a name.
   */
  private String readWord() {
    StringBuilder plain = new StringBuilder();
    boolean onlyPlain = true;
    while (pos < text.length()) {
      char c = text.charAt(pos);
      if (Character.isWhitespace(c) || ";|&()<>".indexOf(c) >= 0) {
        if (c == '(' && plain.length() > 0 && plain.charAt(plain.length() - 1) == '=') {
          break; // `a=(`: the caller handles the array literal
        }
        break;
      }
      if (c == '\'') {
        onlyPlain = false;
        int end = text.indexOf('\'', pos + 1);
        pos = end < 0 ? text.length() : end + 1;
      } else if (c == '"') {
        onlyPlain = false;
        pos = doubleQuoted(pos + 1);
      } else if (c == '$') {
        onlyPlain = false;
        pos = dollar(pos);
      } else if (c == '`') {
        onlyPlain = false;
        int end = text.indexOf('`', pos + 1);
        String inner = text.substring(pos + 1, end < 0 ? text.length() : end);
        pos = end < 0 ? text.length() : end + 1;
        words(inner);
      } else if (c == '\\') {
        onlyPlain = false;
        pos = Math.min(text.length(), pos + 2);
      } else {
        plain.append(c);
        pos++;
      }
    }
    return onlyPlain ? plain.toString() : (plain.toString().endsWith("=") ? plain + "$" : "$");
  }

  /** From just after an opening {@code "}: returns the position after the closing one. */
  private int doubleQuoted(int from) {
    int p = from;
    while (p < text.length()) {
      char c = text.charAt(p);
      if (c == '\\') {
        p += 2;
      } else if (c == '"') {
        return p + 1;
      } else if (c == '$') {
        int saved = pos;
        pos = p;
        p = dollar(p);
        pos = saved;
      } else if (c == '`') {
        int end = text.indexOf('`', p + 1);
        words(text.substring(p + 1, end < 0 ? text.length() : end));
        p = end < 0 ? text.length() : end + 1;
      } else {
        p++;
      }
    }
    return p;
  }

  /** At a {@code $}: returns the position after the expansion; scans {@code $(...)}. */
  private int dollar(int at) {
    if (text.startsWith("$((", at)) {
      return closing(at + 3, "))");
    }
    if (text.startsWith("$(", at)) {
      int end = matchingParen(at + 2);
      words(text.substring(at + 2, end));
      return Math.min(text.length(), end + 1);
    }
    if (text.startsWith("${", at)) {
      int depth = 0;
      for (int p = at + 1; p < text.length(); p++) {
        char c = text.charAt(p);
        if (c == '{') {
          depth++;
        } else if (c == '}' && --depth == 0) {
          return p + 1;
        }
      }
      return text.length();
    }
    int p = at + 1;
    while (p < text.length()
        && (Character.isLetterOrDigit(text.charAt(p)) || "_?@*#!-$".indexOf(text.charAt(p)) >= 0)) {
      p++;
      if (!Character.isLetterOrDigit(text.charAt(p - 1)) && text.charAt(p - 1) != '_') {
        break; // special parameters are one character
      }
    }
    return p;
  }

  /** The index of the {@code )} that closes a {@code $(} whose body starts at {@code from}. */
  private int matchingParen(int from) {
    int depth = 1;
    int p = from;
    while (p < text.length()) {
      char c = text.charAt(p);
      if (c == '\'') {
        int end = text.indexOf('\'', p + 1);
        p = end < 0 ? text.length() : end + 1;
        continue;
      }
      if (c == '"') {
        p++;
        while (p < text.length() && text.charAt(p) != '"') {
          p += text.charAt(p) == '\\' ? 2 : 1;
        }
        p++;
        continue;
      }
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return p;
      }
      p++;
    }
    return text.length();
  }

  /** The position after the next {@code close} at or after {@code from}, skipping quotes. */
  private int closing(int from, String close) {
    int p = from;
    while (p < text.length()) {
      char c = text.charAt(p);
      if (c == '\'' || c == '"') {
        int end = text.indexOf(c, p + 1);
        p = end < 0 ? text.length() : end + 1;
        continue;
      }
      if (text.startsWith(close, p)) {
        return p + close.length();
      }
      p++;
    }
    return text.length();
  }

  /** For messages: the words found, in order of the set. */
  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    parts.add("programs=" + programs());
    parts.add("guarded=" + guarded);
    return String.join(" ", parts);
  }
}
