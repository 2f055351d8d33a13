package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Request-side search rules of a role (the {@code search} section of a role policy). They apply to
 * type, compartment and system searches, also as entries of a batch or transaction. Every key,
 * its default and its meaning are in {@code policies/schema.json}. Immutable.
 *
 * @param maxCount a larger {@code _count} is lowered to this (not refused), and a search without
 *     {@code _count} gets it, so no single page can carry more
 * @param maxPages the most pages of one search a principal may follow through paging links
 * @param unselective what happens to a search with no selective criterion at all
 * @param include which {@code _include}/{@code _revinclude} targets are allowed
 * @param parameters allowed search parameters per resource type (base names, no modifiers);
 *     the key {@link #ANY} holds the list for types not listed, and a list holding {@link #ANY}
 *     allows every parameter of its type
 * @param modifiers allowed search modifiers ({@code exact}, {@code missing}, ...); a resource-type
 *     modifier on a reference ({@code subject:Patient}) is always allowed
 * @param maxOrValues the most comma-separated values one parameter may carry
 * @param chains whether chained parameters ({@code subject.name}, {@code subject:Patient.name}) are allowed
 * @param has whether reverse chains ({@code _has:Observation:subject:code}) are allowed
 * @param requirePatientCriterion whether a search of a type in the Patient compartment (other than
 *     {@code Patient}) must name its patient(s)
 */
public record SearchRules(
    int maxCount,
    int maxPages,
    Unselective unselective,
    IncludeRules include,
    Map<String, Set<String>> parameters,
    Set<String> modifiers,
    int maxOrValues,
    boolean chains,
    boolean has,
    boolean requirePatientCriterion) {

  public static final String ANY = "*";
  /** What happens to a search without any selective criterion ({@code GET /Patient?_count=50}). */
  public enum Unselective {
    /** Refused with 403. */
    REFUSE("refuse"),
    /** Allowed under the role's {@code max-count} and {@code max-pages} (and, always, its patient limits). */
    CAP("cap");

    private final String code;

    Unselective(String code) {
      this.code = code;
    }

    public String code() {
      return code;
    }
  }

  /**
   * Allowed {@code _include}/{@code _revinclude} values.
   *
   * @param targets allowed values {@code SourceType:param} (any target type) or
   *     {@code SourceType:param:TargetType}; one list for {@code _include} and {@code _revinclude}
   * @param wildcard whether {@code *} is allowed in a value (a wildcard includes every target, so
   *     it allows every include)
   * @param iterate whether the {@code :iterate} (or {@code :recurse}) modifier is allowed
   */
  public record IncludeRules(Set<String> targets, boolean wildcard, boolean iterate) {
    public static final IncludeRules NONE = new IncludeRules(Set.of(), false, false);

    public IncludeRules {
      targets = Set.copyOf(targets);
    }

    /** Whether {@code value} ({@code Observation:subject} or {@code Observation:subject:Patient}) is allowed. */
    public boolean allows(String value) {
      if (wildcard) {
        return true;
      }
      if (value.contains(ANY)) {
        return false;
      }
      if (targets.contains(value)) {
        return true;
      }
      String[] parts = value.split(":", -1);
      return parts.length == 3 && targets.contains(parts[0] + ":" + parts[1]);
    }
  }

  public SearchRules {
    if (maxCount < 1) {
      throw new IllegalArgumentException("maxCount: " + maxCount + " (expected: >= 1)");
    }
    if (maxPages < 1) {
      throw new IllegalArgumentException("maxPages: " + maxPages + " (expected: >= 1)");
    }
    requireNonNull(unselective, "unselective");
    requireNonNull(include, "include");
    Map<String, Set<String>> copy = new LinkedHashMap<>();
    parameters.forEach((type, names) -> copy.put(requireNonNull(type, "type"), Set.copyOf(names)));
    parameters = Map.copyOf(copy);
    modifiers = Set.copyOf(modifiers);
    if (maxOrValues < 1) {
      throw new IllegalArgumentException("maxOrValues: " + maxOrValues + " (expected: >= 1)");
    }
  }

  /**
   * Whether {@code name} is a result or control parameter ({@code _count}, {@code _sort}, ...) rather
   * than a search criterion; such a parameter is never listed in {@link #parameters}.
   */
  public static boolean isControlParameter(String name) {
    return SearchCheck.CONTROL_PARAMETERS.contains(name);
  }

  /** Whether parameter {@code baseName} may be used to search {@code type}. */
  public boolean allowsParameter(String type, String baseName) {
    Set<String> names = parameters.get(type);
    if (names == null) {
      names = parameters.get(ANY);
    }
    return names != null && (names.contains(ANY) || names.contains(baseName));
  }

  /**
   * Whether parameter {@code baseName} may be used in a system-level search over every type: it
   * must be allowed for the types not listed and for every listed type.
   */
  public boolean allowsParameterForEveryType(String baseName) {
    if (!allowsParameter(ANY, baseName)) {
      return false;
    }
    for (String type : parameters.keySet()) {
      if (!allowsParameter(type, baseName)) {
        return false;
      }
    }
    return true;
  }
}
