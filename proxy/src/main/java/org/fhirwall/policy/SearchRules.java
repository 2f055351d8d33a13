package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.fhirwall.auth.Principal;

/**
 * Request-side search rules of a role (the {@code search} section of a role policy). They apply to
 * type, compartment and system searches, also as entries of a batch or transaction; the defaults
 * are documented in {@code docs/policy-rules.md}. Immutable.
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
  public static final int DEFAULT_MAX_COUNT = 100;
  public static final int DEFAULT_MAX_PAGES = 50;
  public static final int DEFAULT_MAX_OR_VALUES = 10;

  /**
   * The modifiers allowed when {@code search.modifiers} is absent: the ones that narrow a search or
   * test presence. {@code contains}, {@code not}, {@code above}, {@code below}, {@code in} and
   * {@code not-in} widen a search or turn a parameter into a value oracle and must be listed.
   */
  public static final Set<String> DEFAULT_MODIFIERS = Set.of("exact", "missing", "text", "of-type", "identifier");

  /** Every search modifier fhirwall knows (FHIR R4 and R5); a policy may list only these. */
  public static final Set<String> KNOWN_MODIFIERS = Set.of("missing", "exact", "contains", "text", "not", "above",
      "below", "in", "not-in", "of-type", "identifier", "code-text", "text-advanced", "type");

  /**
   * The parameters allowed when {@code search.parameters} is absent: the usual clinical look-ups
   * of the common types, and for every other type only {@code _id} and the patient references.
   * Free-text and expression parameters ({@code _filter}, {@code _query}, {@code _text},
   * {@code _content}, {@code _list}) are never allowed by default.
   */
  public static final Map<String, Set<String>> DEFAULT_PARAMETERS = defaultParameters();

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
   * The rules a role of this principal kind gets for every key it leaves out: user roles refuse
   * unselective searches and need a patient criterion; service roles cap unselective searches and
   * need none. Everything else is the same for both.
   */
  public static SearchRules defaults(Principal.Kind kind) {
    boolean user = kind == Principal.Kind.USER;
    return new SearchRules(DEFAULT_MAX_COUNT, DEFAULT_MAX_PAGES, user ? Unselective.REFUSE : Unselective.CAP,
        IncludeRules.NONE, DEFAULT_PARAMETERS, DEFAULT_MODIFIERS, DEFAULT_MAX_OR_VALUES, false, false, user);
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

  private static Map<String, Set<String>> defaultParameters() {
    Map<String, Set<String>> m = new LinkedHashMap<>();
    m.put("Patient", Set.of("_id", "identifier", "name", "family", "given", "birthdate", "gender"));
    m.put("Observation", Set.of("_id", "subject", "patient", "encounter", "code", "category", "date", "status"));
    m.put("Condition", Set.of("_id", "subject", "patient", "encounter", "code", "category", "clinical-status", "onset-date"));
    m.put("Encounter", Set.of("_id", "subject", "patient", "date", "status", "class", "type"));
    m.put("MedicationRequest", Set.of("_id", "subject", "patient", "encounter", "code", "status", "intent", "authoredon"));
    m.put("MedicationStatement", Set.of("_id", "subject", "patient", "code", "status", "effective"));
    m.put("MedicationAdministration", Set.of("_id", "subject", "patient", "code", "status", "effective-time"));
    m.put("MedicationDispense", Set.of("_id", "subject", "patient", "code", "status"));
    m.put("AllergyIntolerance", Set.of("_id", "patient", "code", "category", "clinical-status"));
    m.put("Procedure", Set.of("_id", "subject", "patient", "encounter", "code", "date", "status"));
    m.put("DiagnosticReport", Set.of("_id", "subject", "patient", "encounter", "code", "category", "date", "status"));
    m.put("DocumentReference", Set.of("_id", "subject", "patient", "encounter", "type", "category", "date", "status"));
    m.put("Immunization", Set.of("_id", "patient", "date", "vaccine-code", "status"));
    m.put("CarePlan", Set.of("_id", "subject", "patient", "encounter", "category", "date", "status"));
    m.put("ServiceRequest", Set.of("_id", "subject", "patient", "encounter", "code", "category", "authored", "status"));
    m.put("Specimen", Set.of("_id", "subject", "patient", "type", "collected"));
    m.put("Practitioner", Set.of("_id", "identifier", "name", "family", "given"));
    m.put("Organization", Set.of("_id", "identifier", "name"));
    m.put("Location", Set.of("_id", "identifier", "name"));
    m.put(ANY, Set.of("_id", "patient", "subject"));
    return Map.copyOf(m);
  }
}
