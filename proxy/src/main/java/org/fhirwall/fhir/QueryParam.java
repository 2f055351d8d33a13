package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * One decoded query parameter in canonical form: {@code name} is the whole parameter name as the
 * EPR sees it, modifiers and chains included ({@code subject:Patient.name}, {@code _has:Observation:subject:code}),
 * {@code value} is the decoded value (percent-decoding done exactly once).
 */
public record QueryParam(String name, String value) {

  public QueryParam {
    requireNonNull(name, "name");
    requireNonNull(value, "value");
  }

  /** The parameter name without modifier or chain: {@code subject} for {@code subject:Patient.name}. */
  public String baseName() {
    if (name.startsWith("_has:")) {
      return "_has";
    }
    int end = name.length();
    int colon = name.indexOf(':');
    int dot = name.indexOf('.');
    if (colon >= 0) {
      end = colon;
    }
    if (dot >= 0 && dot < end) {
      end = dot;
    }
    return name.substring(0, end);
  }

  /** The modifier after {@code :} (e.g. {@code exact}, {@code Patient}, {@code iterate}), or null. */
  public @Nullable String modifier() {
    if (name.startsWith("_has:")) {
      return null;
    }
    int colon = name.indexOf(':');
    if (colon < 0) {
      return null;
    }
    int dot = name.indexOf('.', colon);
    return dot < 0 ? name.substring(colon + 1) : name.substring(colon + 1, dot);
  }

  /** The chained part after the first {@code .}, e.g. {@code name} for {@code subject.name}, or null. */
  public @Nullable String chain() {
    if (name.startsWith("_has:")) {
      return null;
    }
    int dot = name.indexOf('.');
    return dot < 0 ? null : name.substring(dot + 1);
  }

  /**
   * The OR-list of this value: split on commas not escaped by a backslash, the way HAPI FHIR
   * splits it. Escapes are kept in each part.
   */
  public List<String> orValues() {
    List<String> parts = new ArrayList<>(4);
    StringBuilder current = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\' && i + 1 < value.length()) {
        current.append(c).append(value.charAt(++i));
      } else if (c == ',') {
        parts.add(current.toString());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    parts.add(current.toString());
    return parts;
  }
}
