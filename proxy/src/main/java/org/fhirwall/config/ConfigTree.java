package org.fhirwall.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A view of a validated configuration tree (defaults filled in) for binding it into records. The
 * schema has checked every value's type and form, so accessors only convert; what is left to code
 * is what a schema cannot say (cross-field rules, known resource types, files that must exist),
 * reported through {@link #problem} at the key's place. {@link #isSet} tells a value written in the
 * file (or given by an override) from a default. Not thread-safe; used while loading.
 */
final class ConfigTree {
  private final JsonNode node;
  private final JsonNode written;
  private final String pointer;
  private final String display;
  private final Locations where;
  private final Problems problems;

  ConfigTree(JsonNode node, JsonNode written, Locations where, Problems problems) {
    this(node, written, "", "", where, problems);
  }

  private ConfigTree(JsonNode node, JsonNode written, String pointer, String display, Locations where, Problems problems) {
    this.node = node;
    this.written = written;
    this.pointer = pointer;
    this.display = display;
    this.where = where;
    this.problems = problems;
  }

  /** The section {@code key} (an empty one when absent). */
  ConfigTree at(String key) {
    return new ConfigTree(node.path(key), written.path(key), Locations.child(pointer, key),
        Locations.displayChild(display, key), where, problems);
  }

  /** The section {@code key}, or null when absent after defaults. */
  @Nullable ConfigTree optional(String key) {
    return node.has(key) ? at(key) : null;
  }

  /** Whether {@code key} was written (in the file, or by an override), not filled in by a default. */
  boolean isSet(String key) {
    return written.has(key);
  }

  boolean has(String key) {
    return node.has(key) && !node.get(key).isNull();
  }

  String text(String key) {
    return node.path(key).asText();
  }

  @Nullable String optionalText(String key) {
    return has(key) ? node.get(key).asText() : null;
  }

  int integer(String key) {
    return node.path(key).intValue();
  }

  double number(String key) {
    return node.path(key).doubleValue();
  }

  boolean bool(String key) {
    return node.path(key).booleanValue();
  }

  Duration duration(String key) {
    return Units.duration(text(key));
  }

  @Nullable Duration optionalDuration(String key) {
    return has(key) ? duration(key) : null;
  }

  long bytes(String key) {
    return Units.bytes(node.path(key));
  }

  List<String> strings(String key) {
    List<String> out = new ArrayList<>();
    node.path(key).forEach(v -> out.add(v.asText()));
    return out;
  }

  /** The items of a list of sections ({@code patient-limits}). */
  List<ConfigTree> sections(String key) {
    List<ConfigTree> out = new ArrayList<>();
    JsonNode list = node.path(key);
    JsonNode writtenList = written.path(key);
    for (int i = 0; i < list.size(); i++) {
      out.add(new ConfigTree(list.get(i), writtenList.path(i), Locations.child(Locations.child(pointer, key), i),
          Locations.displayChild(display, key) + "[" + i + "]", where, problems));
    }
    return out;
  }

  /** The keys of this section, in file order (for free-form mappings such as {@code search.parameters}). */
  List<String> keys() {
    List<String> out = new ArrayList<>();
    node.fieldNames().forEachRemaining(out::add);
    return out;
  }

  /** A path value: relative to the file's directory when written in the file, else to the working directory. */
  @Nullable Path path(String key, Path fileDirectory) {
    String v = optionalText(key);
    if (v == null) {
      return null;
    }
    Location l = where.ofValue(Locations.child(pointer, key));
    Path base = isSet(key) && !l.inFile() ? Path.of("").toAbsolutePath() : fileDirectory;
    return base.resolve(v).normalize();
  }

  String keyPath(String key) {
    return Locations.displayChild(display, key);
  }

  /** Where {@code key}'s value stands (its section's place when it is absent). */
  Location whereIs(String key) {
    return where.ofValue(Locations.child(pointer, key));
  }

  void problem(String key, String message) {
    problems.add(whereIs(key), keyPath(key), message);
  }

  /** A problem about item {@code index} of the list {@code key}. */
  void problemAt(String key, int index, String message) {
    problems.add(where.ofValue(Locations.child(Locations.child(pointer, key), index)), keyPath(key) + "[" + index + "]", message);
  }
}
