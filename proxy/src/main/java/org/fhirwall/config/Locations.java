package org.fhirwall.config;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Where each value and each key of a configuration tree came from, by JSON Pointer
 * ({@code /search/max-count}, {@code /patient-limits/1/max}). Filled while a file is read and
 * overrides are applied; read when a problem is reported. Not thread-safe; used while loading.
 */
final class Locations {
  private final Location document;
  private final Map<String, Location> values = new HashMap<>();
  private final Map<String, Location> keys = new HashMap<>();

  Locations(Location document) {
    this.document = document;
  }

  void value(String pointer, Location where) {
    values.put(pointer, where);
  }

  void key(String pointer, Location where) {
    keys.put(pointer, where);
  }

  /** Where the value at {@code pointer} stands; else its nearest ancestor's; else the document. */
  Location ofValue(String pointer) {
    for (String p = pointer; ; p = parent(p)) {
      Location l = values.get(p);
      if (l != null) {
        return l;
      }
      if (p.isEmpty()) {
        return document;
      }
    }
  }

  /** Where the key of {@code pointer} stands (for unknown and duplicated keys); else where its value does. */
  Location ofKey(String pointer) {
    Location l = keys.get(pointer);
    return l != null ? l : ofValue(pointer);
  }

  static String parent(String pointer) {
    int slash = pointer.lastIndexOf('/');
    return slash <= 0 ? "" : pointer.substring(0, slash);
  }

  static String child(String pointer, String name) {
    return pointer + "/" + name.replace("~", "~0").replace("/", "~1");
  }

  static String child(String pointer, int index) {
    return pointer + "/" + index;
  }

  /** {@code search.max-count}, {@code patient-limits[1].max} from path elements (strings and indexes). */
  static String display(List<?> elements) {
    StringBuilder sb = new StringBuilder();
    for (Object e : elements) {
      if (e instanceof Integer i) {
        sb.append('[').append(i).append(']');
      } else {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(e);
      }
    }
    return sb.toString();
  }

  static String pointer(List<?> elements) {
    String p = "";
    for (Object e : elements) {
      p = e instanceof Integer i ? child(p, i) : child(p, String.valueOf(e));
    }
    return p;
  }

  static String displayChild(String display, @Nullable String name) {
    if (name == null || name.isEmpty()) {
      return display;
    }
    return display.isEmpty() ? name : display + "." + name;
  }
}
