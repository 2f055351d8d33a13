package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A YAML mapping read with its location, so every problem names file, line and key.
 *
 * <p>Files are composed into SnakeYAML's node tree only (no object construction, no tags, aliases
 * limited, duplicate keys refused). Each accessor marks its key as read; {@link #finish()} reports
 * every key that no accessor asked for as unknown, so the list of accepted keys is the code itself.
 * Not thread-safe; used only while loading.
 */
final class YamlSection {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
  private static final Pattern SIZE = Pattern.compile("(\\d{1,12})(B|KiB|MiB|GiB)");

  private final String file;
  private final String path;
  private final MappingNode node;
  private final Problems problems;
  private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
  private final Set<String> read = new LinkedHashSet<>();

  private YamlSection(String file, String path, MappingNode node, Problems problems) {
    this.file = file;
    this.path = path;
    this.node = node;
    this.problems = problems;
    for (NodeTuple t : node.getValue()) {
      if (t.getKeyNode() instanceof ScalarNode k) {
        entries.put(k.getValue(), t);
      } else {
        problems.add(file, line(t.getKeyNode()), path, "keys must be plain strings");
      }
    }
  }

  /** Parses a whole document; returns null (with a problem recorded) when it is not a mapping. */
  static @Nullable YamlSection parse(String file, String text, Problems problems) {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    options.setMaxAliasesForCollections(10);
    options.setAllowRecursiveKeys(false);
    options.setCodePointLimit(1024 * 1024);
    options.setNestingDepthLimit(30);
    Node root;
    try {
      root = new Yaml(options).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 0;
      problems.add(file, line, "", "not valid YAML: " + firstLine(e.getProblem()));
      return null;
    } catch (YAMLException e) {
      problems.add(file, 0, "", "not valid YAML: " + firstLine(e.getMessage()));
      return null;
    }
    if (root == null) {
      problems.add(file, 0, "", "empty file (expected: a YAML mapping)");
      return null;
    }
    if (!(root instanceof MappingNode mapping)) {
      problems.add(file, line(root), "", "expected a YAML mapping of keys to values");
      return null;
    }
    return new YamlSection(file, "", mapping, problems);
  }

  private static String firstLine(@Nullable String s) {
    if (s == null) {
      return "syntax error";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  String file() {
    return file;
  }

  int line() {
    return line(node);
  }

  private static int line(Node n) {
    return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
  }

  private String keyPath(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** The keys present, in file order (for free-form mappings such as header lists). */
  List<String> keys() {
    return List.copyOf(entries.keySet());
  }

  boolean has(String key) {
    return entries.containsKey(key);
  }

  /** Records a problem about {@code key} at its line (or this section's line when absent). */
  void problem(String key, String message) {
    NodeTuple t = entries.get(key);
    problems.add(file, t != null ? line(t.getValueNode()) : line(), keyPath(key), message);
  }

  private @Nullable ScalarNode scalar(String key) {
    read.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return null;
    }
    if (t.getValueNode() instanceof ScalarNode s) {
      return s;
    }
    problem(key, "expected a single value");
    return null;
  }

  @Nullable String string(String key) {
    ScalarNode s = scalar(key);
    if (s == null) {
      return null;
    }
    String v = s.getValue().trim();
    if (v.isEmpty()) {
      problem(key, "empty value");
      return null;
    }
    return v;
  }

  @Nullable String requiredString(String key) {
    String v = string(key);
    if (v == null && !entries.containsKey(key)) {
      problem(key, "missing (required)");
    }
    return v;
  }

  String string(String key, String defaultValue) {
    String v = string(key);
    return v == null ? defaultValue : v;
  }

  /** One of {@code allowed} (case-sensitive), or the default when absent. */
  String oneOf(String key, String defaultValue, String... allowed) {
    String v = string(key);
    if (v == null) {
      return defaultValue;
    }
    for (String a : allowed) {
      if (a.equals(v)) {
        return v;
      }
    }
    problem(key, v + " (expected one of: " + String.join(", ", allowed) + ")");
    return defaultValue;
  }

  boolean bool(String key, boolean defaultValue) {
    String v = string(key);
    if (v == null) {
      return defaultValue;
    }
    return switch (v) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> {
        problem(key, v + " (expected: true or false)");
        yield defaultValue;
      }
    };
  }

  int integer(String key, int defaultValue, int min, int max) {
    String v = string(key);
    if (v == null) {
      return defaultValue;
    }
    try {
      int i = Integer.parseInt(v);
      if (i < min || i > max) {
        problem(key, i + " (expected: " + min + ".." + max + ")");
        return defaultValue;
      }
      return i;
    } catch (NumberFormatException e) {
      problem(key, v + " (expected: a whole number " + min + ".." + max + ")");
      return defaultValue;
    }
  }

  /** A decimal number in {@code (min, max]} when {@code exclusiveMin}, else {@code [min, max]}. */
  double decimal(String key, double defaultValue, double min, boolean exclusiveMin, double max) {
    String v = string(key);
    if (v == null) {
      return defaultValue;
    }
    String expected = (exclusiveMin ? "> " + plain(min) + " and <= " : plain(min) + "..") + plain(max);
    double d;
    try {
      d = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      problem(key, v + " (expected: a number " + expected + ")");
      return defaultValue;
    }
    if (!Double.isFinite(d) || (exclusiveMin ? d <= min : d < min) || d > max) {
      problem(key, v + " (expected: " + expected + ")");
      return defaultValue;
    }
    return d;
  }

  private static String plain(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  @Nullable Duration duration(String key, @Nullable Duration defaultValue) {
    String v = string(key);
    if (v == null) {
      return defaultValue;
    }
    Duration d = parseDuration(v);
    if (d == null || d.isZero()) {
      problem(key, v + " (expected: a positive duration such as 500ms, 30s, 15m, 1h, 7d)");
      return defaultValue;
    }
    return d;
  }

  static @Nullable Duration parseDuration(String v) {
    Matcher m = DURATION.matcher(v.trim());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> null;
    };
  }

  long size(String key, long defaultValue, long min, long max) {
    String v = string(key);
    if (v == null) {
      return defaultValue;
    }
    Matcher m = SIZE.matcher(v);
    if (!m.matches()) {
      problem(key, v + " (expected: a size such as 512KiB, 1MiB, 64MiB)");
      return defaultValue;
    }
    long n = Long.parseLong(m.group(1));
    long bytes = switch (m.group(2)) {
      case "KiB" -> n << 10;
      case "MiB" -> n << 20;
      case "GiB" -> n << 30;
      default -> n;
    };
    if (bytes < min || bytes > max) {
      problem(key, v + " (expected: between " + min + " and " + max + " bytes)");
      return defaultValue;
    }
    return bytes;
  }

  /** A list of strings; a single scalar is accepted as a list of one. Absent: empty. */
  List<String> strings(String key) {
    List<Item> items = items(key);
    List<String> out = new ArrayList<>(items.size());
    for (Item i : items) {
      out.add(i.value());
    }
    return out;
  }

  /** One value of a list, with the line it stands on (for problems about one item). */
  record Item(String value, int line) {}

  /** Like {@link #strings(String)}, keeping each item's line. */
  List<Item> items(String key) {
    read.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return List.of();
    }
    Node v = t.getValueNode();
    if (v instanceof ScalarNode s) {
      return s.getValue().isBlank() ? List.of() : List.of(new Item(s.getValue().trim(), line(s)));
    }
    if (!(v instanceof SequenceNode seq)) {
      problem(key, "expected a list of values");
      return List.of();
    }
    List<Item> out = new ArrayList<>();
    for (Node item : seq.getValue()) {
      if (item instanceof ScalarNode s && !s.getValue().isBlank()) {
        out.add(new Item(s.getValue().trim(), line(s)));
      } else {
        problems.add(file, line(item), keyPath(key), "expected a plain value in the list");
      }
    }
    return out;
  }

  /** Records a problem about {@code key} at a given line (e.g. one item of its list). */
  void problemAt(int line, String key, String message) {
    problems.add(file, line, keyPath(key), message);
  }

  @Nullable YamlSection section(String key) {
    read.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return null;
    }
    if (t.getValueNode() instanceof MappingNode m) {
      return new YamlSection(file, keyPath(key), m, problems);
    }
    problem(key, "expected a mapping of keys to values");
    return null;
  }

  /** A list of mappings ({@code - window: 1h\n  max: 20}). Absent: empty. */
  List<YamlSection> sections(String key) {
    read.add(key);
    NodeTuple t = entries.get(key);
    if (t == null) {
      return List.of();
    }
    if (!(t.getValueNode() instanceof SequenceNode seq)) {
      problem(key, "expected a list");
      return List.of();
    }
    List<YamlSection> out = new ArrayList<>();
    int i = 0;
    for (Node item : seq.getValue()) {
      if (item instanceof MappingNode m) {
        out.add(new YamlSection(file, keyPath(key) + "[" + i + "]", m, problems));
      } else {
        problems.add(file, line(item), keyPath(key) + "[" + i + "]", "expected a mapping of keys to values");
      }
      i++;
    }
    return out;
  }

  /** Reports every key present but never asked for. Call once all accessors have run. */
  void finish() {
    for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
      if (!read.contains(e.getKey())) {
        problems.add(file, line(e.getValue().getKeyNode()), keyPath(e.getKey()),
            "unknown key (expected one of: " + String.join(", ", read) + ")");
      }
    }
  }

  static String lower(String s) {
    return requireNonNull(s, "s").toLowerCase(Locale.ROOT);
  }
}
