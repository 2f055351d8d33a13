package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.ReverseChain;
import org.fhirwall.fhir.RequestPatients;
import org.fhirwall.fhir.ResourceId;
import org.jspecify.annotations.Nullable;

/**
 * The {@link SearchRules} of a role applied to one type, compartment or system search. Decides on
 * the request alone (names, modifiers and the count of values; never the EPR's data). Diagnostics
 * name parameters, never their values (which may be patient data). Immutable and thread-safe.
 */
final class SearchCheck {

  /**
   * Result and control parameters: they shape or page an answer but never select which resources
   * match, so they neither count as a criterion nor need to be listed in {@code search.parameters}.
   */
  static final Set<String> CONTROL_PARAMETERS = Set.of("_count", "_sort", "_elements", "_summary", "_total",
      "_include", "_revinclude", "_contained", "_containedType", "_type", "_format", "_pretty", "_since", "_at");

  /**
   * Parameters whose one value fhirwall cannot hold to the other search rules ({@code _filter=name co "a"} is
   * {@code name:contains=a}, a named {@code _query} is whatever the EPR makes of it, {@code _list}, {@code _text} and
   * {@code _content} select by what a list or a narrative holds): the built-in lists never allow them, and they must be
   * listed in {@code search.parameters} even in the criteria of a conditional write or reference, which other
   * parameters need not be (adversarial sweep 9).
   */
  private static final Set<String> UNJUDGED = Set.of("_filter", "_query", "_list", "_text", "_content");

  /** Sorting by these is always allowed: they exist on every type and reveal nothing clinical. */
  private static final Set<String> ALWAYS_SORTABLE = Set.of("_id", "_lastUpdated");

  private final RequestPatients criteria;
  private final Selectivity selectivity;

  SearchCheck(RequestPatients criteria, Selectivity selectivity) {
    this.criteria = requireNonNull(criteria, "criteria");
    this.selectivity = requireNonNull(selectivity, "selectivity");
  }

  /** Checks a request whose interaction is a type, compartment or system search. */
  Optional<Violation> check(RolePolicy role, FhirRequest r) {
    SearchRules rules = role.search();
    boolean system = r.interaction() == Interaction.SEARCH_SYSTEM;
    List<String> types;
    if (system) {
      types = typesOfSystemSearch(r);
      if (types.isEmpty() && !role.resourceTypes().contains(RolePolicy.ANY_TYPE)) {
        return forbid("resource-types", "A system-level search without _type returns every resource type; role "
            + role.name() + " may access only some (name them with _type)");
      }
      for (String t : types) {
        if (!role.allowsType(t)) {
          return forbid("resource-types", "Role " + role.name() + " may not access " + t + " resources");
        }
      }
    } else {
      types = List.of(requireNonNull(r.resourceType(), "resourceType"));
    }

    Optional<Violation> v = includes(role, r);
    if (v.isPresent()) {
      return v;
    }
    for (QueryParam p : r.params()) {
      v = parameter(role, types, p, true);
      if (v.isPresent()) {
        return v;
      }
    }
    v = compartment(role, r, types);
    if (v.isPresent()) {
      return v;
    }

    if (rules.requirePatientCriterion()) {
      ResourceId compartment = r.compartment();
      boolean patientCompartment = compartment != null && compartment.type().equals("Patient");
      if (system && types.isEmpty()) {
        return forbid("search-patient-criterion", "A system-level search must name its types with _type for role "
            + role.name() + ", and name the patient for types in the Patient compartment");
      }
      for (String t : types) {
        if (!patientCompartment && criteria.needsCriterion(t) && !hasPatientCriterion(t, r.params())) {
          return forbid("search-patient-criterion", "Searching " + t + " needs a patient criterion for role " + role.name()
              + " (e.g. " + t + "?subject=Patient/123, " + t + "?patient=123 or Patient/123/" + t + ")");
        }
      }
    }
    if (!selectivity.isSelective(r, types) && rules.unselective() == SearchRules.Unselective.REFUSE) {
      return forbid("search-unselective", "A search with no selective criterion (only result parameters such as _count, "
          + "empty values, short name prefixes, date ranges or low-cardinality codes such as gender) is not allowed for "
          + "role " + role.name() + "; search by a criterion such as identifier, full birth date, name or patient");
    }

    return Optional.empty();
  }

  /**
   * A search in another compartment than a patient's ({@code Practitioner/9/Patient}) is a search of its type by the
   * parameters that make that compartment ({@code Patient?general-practitioner=Practitioner/9}): each must be allowed
   * by {@code search.parameters}, or the compartment form would pass what the parameter form does not.
   */
  private Optional<Violation> compartment(RolePolicy role, FhirRequest r, List<String> types) {
    ResourceId compartment = r.compartment();
    if (compartment == null || compartment.type().equals("Patient")) {
      return Optional.empty();
    }
    String owner = compartment.type();
    for (String t : types) {
      Set<String> by = criteria.compartmentParameters(owner, t);
      if (by.isEmpty()) {
        return forbid("search-parameters", "Searching " + t + " in a " + owner + "'s compartment is not allowed for role "
            + role.name() + " (no search parameter of " + t + " makes that compartment)");
      }
      for (String name : by) {
        if (typeDenying(role.search(), List.of(t), name) != null) {
          return forbid("search-parameters", "Searching " + t + " in a " + owner + "'s compartment is searching it by "
              + String.join(" or ", by) + ", which is not allowed for role " + role.name() + allowedList(role.search(), t));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The criteria of a conditional create ({@code If-None-Exist}), update, patch or delete of {@code type}, or of a
   * conditional reference to {@code type} in a written resource: a search the EPR runs, whose answer tells whether they
   * matched none, one or several records. They are held to the role's search rules like a search of that type
   * (modifiers, chains, {@code _has}, OR-values, selectivity), except two:
   * their parameters need not be listed in {@code search.parameters} (an identifier is the usual key of a conditional
   * create, and no built-in list has it for clinical types), nor need they name a patient.
   */
  Optional<Violation> checkCriteria(RolePolicy role, String type, List<QueryParam> criteria) {
    List<String> types = List.of(type);
    for (QueryParam p : criteria) {
      Optional<Violation> v = parameter(role, types, p, false);
      if (v.isPresent()) {
        return v;
      }
    }
    if (!selectivity.isSelective(criteria, types) && role.search().unselective() == SearchRules.Unselective.REFUSE) {
      return forbid("search-unselective", "The criteria of a conditional write or reference have no selective criterion "
          + "(only empty values, short name prefixes, date ranges or low-cardinality codes such as gender), which is not "
          + "allowed for role " + role.name() + "; match by a criterion such as identifier");
    }
    return Optional.empty();
  }

  /** Whether the search has at least one criterion that can select (see {@link Selectivity}). */
  boolean isSelective(FhirRequest r) {
    return selectivity.isSelective(r, r.interaction() == Interaction.SEARCH_SYSTEM ? typesOfSystemSearch(r)
        : r.resourceType() == null ? List.of() : List.of(r.resourceType()));
  }

  private static List<String> typesOfSystemSearch(FhirRequest r) {
    List<String> types = new ArrayList<>();
    for (QueryParam p : r.paramsNamed("_type")) {
      for (String t : p.orValues()) {
        if (!t.isBlank()) {
          types.add(t.trim());
        }
      }
    }
    return types;
  }

  private Optional<Violation> includes(RolePolicy role, FhirRequest r) {
    SearchRules.IncludeRules include = role.search().include();
    for (QueryParam p : r.params()) {
      String base = p.baseName();
      if (!base.equals("_include") && !base.equals("_revinclude")) {
        continue;
      }
      String modifier = p.modifier();
      if (modifier != null) {
        if (!modifier.equals("iterate") && !modifier.equals("recurse")) {
          return forbid("search-include", "Modifier :" + modifier + " is not accepted on " + base);
        }
        if (!include.iterate()) {
          return forbid("search-include", base + ":" + modifier + " is not allowed for role " + role.name());
        }
      }
      String value = p.value();
      if (value.contains(SearchRules.ANY) && !include.wildcard()) {
        return forbid("search-include", "Wildcard " + base + " is not allowed for role " + role.name());
      }
      if (!include.allows(value)) {
        return forbid("search-include", base + "=" + value + " is not allowed for role " + role.name()
            + " (allowed: " + (include.targets().isEmpty() ? "none" : String.join(", ", new TreeSet<>(include.targets())))
            + ")");
      }
      String[] parts = value.split(":", -1);
      String returned = base.equals("_revinclude") ? parts[0] : parts.length == 3 ? parts[2] : null;
      if (returned != null && !returned.equals(SearchRules.ANY) && !role.allowsType(returned)) {
        return forbid("resource-types", "Role " + role.name() + " may not access " + returned + " resources (" + base + ")");
      }
    }
    return Optional.empty();
  }

  /** @param listed whether the parameter must be allowed by {@code search.parameters} (and a {@code _sort} field too) */
  private Optional<Violation> parameter(RolePolicy role, List<String> types, QueryParam p, boolean listed) {
    SearchRules rules = role.search();
    String base = p.baseName();
    if (base.equals("_sort")) {
      return listed ? sort(role, types, p) : Optional.empty();
    }
    if (CONTROL_PARAMETERS.contains(base)) {
      return Optional.empty();
    }
    if (base.equals("_has")) {
      if (!rules.has()) {
        return forbid("search-has", "Reverse chaining (_has) is not allowed for role " + role.name());
      }
      ReverseChain chain = ReverseChain.of(p);
      if (chain == null) {
        return forbid("search-has", "A reverse chain is written _has:Type:reference:parameter");
      }
      Optional<Violation> behind = patientsBehind(role, types, chain).or(() -> othersBehind(role, types, chain, p));
      if (behind.isPresent()) {
        return behind;
      }
      // the parameter it ends in selects records of its type: held to the rules as one of that type's own
      return parameter(role, List.of(chain.type()), chain.end(), false);
    }
    if (p.chain() != null && !rules.chains()) {
      return forbid("search-chains", "Chained parameters (" + base + ".…) are not allowed for role " + role.name());
    }
    if (p.chain() != null) {
      Optional<Violation> behind = patientsBehind(role, types, p);
      if (behind.isPresent()) {
        return behind;
      }
    }
    String denied = listed || UNJUDGED.contains(base) ? typeDenying(rules, types, base) : null;
    if (denied != null) {
      return forbid("search-parameters", "Searching " + denied + " by " + base + " is not allowed for role " + role.name()
          + allowedList(rules, denied));
    }
    String modifier = p.modifier();
    if (modifier != null && !isTypeModifier(modifier) && !rules.modifiers().contains(modifier)) {
      return forbid("search-modifiers", "Modifier :" + modifier + " (on " + base + ") is not allowed for role " + role.name()
          + " (allowed: " + (rules.modifiers().isEmpty() ? "none" : String.join(", ", new TreeSet<>(rules.modifiers())))
          + ")");
    }
    return orValues(role, p);
  }

  /**
   * A reverse chain through patients or their records, in a search of types that hold none
   * ({@code Practitioner?_has:Patient:general-practitioner:identifier=<MRN>}), answers about patients the answer does not
   * show, so nobody was charged (adversarial sweep 10): it must be one link that names its patients
   * ({@code _has:Encounter:participant:patient=Patient/7}, {@code _has:Patient:organization:_id=7}), who are charged. In
   * a search of patients or their records the answer shows, and charges, whom it matched.
   */
  private Optional<Violation> patientsBehind(RolePolicy role, List<String> types, ReverseChain chain) {
    if (!types.isEmpty() && types.stream().allMatch(criteria::holdsPatients)) {
      return Optional.empty();
    }
    String through = null;
    for (String t : chain.types()) {
      if (criteria.holdsPatients(t)) {
        through = t;
        break;
      }
    }
    if (through == null || chain.types().size() == 1 && criteria.pinsPatients(through, chain.end())) {
      return Optional.empty();
    }
    String searched = types.isEmpty() ? "every type" : String.join(", ", types);
    return forbid("search-has", "A reverse chain from " + searched + " through " + through + " records tells about "
        + "patients the answer does not show: for role " + role.name() + " it must be one link that names them (_has:"
        + through + ":<reference>:" + (through.equals("Patient") ? "_id=<id>" : "patient=Patient/<id>") + ")");
  }

  /**
   * In a search of patients, a reverse chain whose first link goes through patients or their records by another
   * reference than the one that makes a record the matched patient's own ({@code _has:Patient:link:birthdate=<guess>},
   * {@code _has:Observation:performer:...}, {@code _has:Group:member:...}) finds other patients' records and tells about
   * them, uncharged (adversarial probe 11): it must join by the record's own patient ({@code _has:Observation:patient:...})
   * or be one link that names them, who are charged.
   */
  private Optional<Violation> othersBehind(RolePolicy role, List<String> types, ReverseChain chain, QueryParam p) {
    if (!types.equals(List.of("Patient"))) {
      return Optional.empty();
    }
    String through = chain.types().get(0);
    String reference = p.name().split(":", 4)[2];
    if (!criteria.holdsPatients(through) || criteria.isOwnReference(through, reference)
        || chain.types().size() == 1 && criteria.pinsPatients(through, chain.end())) {
      return Optional.empty();
    }
    return forbid("search-has", "A reverse chain from Patient through " + through + "." + reference + " finds other "
        + "patients' records and tells about them: for role " + role.name() + " it must join by the record's own patient ("
        + "_has:" + through + ":patient:...) or be one link that names them");
  }

  /**
   * A chain through patients or their records, in a search of types that hold none
   * ({@code Slot?schedule.actor:Patient.identifier=<MRN>}), answers about patients the answer does not show, so nobody was
   * charged (adversarial sweep 10): refused, as is a chain whose types fhirwall cannot tell. In a search of patients or
   * their records the answer shows, and charges, whom it matched.
   */
  private Optional<Violation> patientsBehind(RolePolicy role, List<String> types, QueryParam p) {
    if (!types.isEmpty() && types.stream().allMatch(criteria::holdsPatients)) {
      return Optional.empty();
    }
    for (String searched : types.isEmpty() ? java.util.Collections.<String>singletonList(null) : types) {
      for (String t : ChainTypes.R4.searchedBy(searched, p)) {
        if (t.equals(ChainTypes.ANY) || criteria.holdsPatients(t)) {
          return forbid("search-chains", "A chain from " + (searched == null ? "every type" : searched) + " through "
              + (t.equals(ChainTypes.ANY) ? "any type" : t) + " records tells about patients the answer does not show: "
              + "not allowed for role " + role.name() + " (search the patients' records themselves)");
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<Violation> orValues(RolePolicy role, QueryParam p) {
    int n = p.orValues().size();
    int max = role.search().maxOrValues();
    if (n > max) {
      return Optional.of(Violation.tooCostly("search-or-values", "Parameter " + p.baseName() + " carries " + n
          + " comma-separated values; role " + role.name() + " allows at most " + max));
    }
    return Optional.empty();
  }

  private static Optional<Violation> sort(RolePolicy role, List<String> types, QueryParam p) {
    for (String field : p.value().split(",", -1)) {
      String name = field.trim();
      if (name.startsWith("-")) {
        name = name.substring(1);
      }
      if (ALWAYS_SORTABLE.contains(name)) {
        continue;
      }
      String denied = typeDenying(role.search(), types, name);
      if (denied != null) {
        return forbid("search-parameters", "Sorting " + denied + " by " + name + " is not allowed for role " + role.name()
            + allowedList(role.search(), denied));
      }
    }
    return Optional.empty();
  }

  /** The first searched type that does not allow {@code base}, or null when all do. */
  private static @Nullable String typeDenying(SearchRules rules, List<String> types, String base) {
    if (types.isEmpty()) {
      return rules.allowsParameterForEveryType(base) ? null : "every type";
    }
    for (String t : types) {
      if (!rules.allowsParameter(t, base)) {
        return t;
      }
    }
    return null;
  }

  private static String allowedList(SearchRules rules, String type) {
    Set<String> names = rules.parameters().get(type);
    if (names == null) {
      names = rules.parameters().get(SearchRules.ANY);
    }
    if (names == null || names.isEmpty()) {
      return " (no search parameters are allowed for it)";
    }
    return " (allowed: " + String.join(", ", new TreeSet<>(names)) + ")";
  }

  /** {@code subject:Patient}: the modifier names the target type of a reference; it only narrows. */
  private static boolean isTypeModifier(String modifier) {
    return !modifier.isEmpty() && Character.isUpperCase(modifier.charAt(0));
  }

  private boolean hasPatientCriterion(String type, List<QueryParam> params) {
    for (QueryParam p : params) {
      if (criteria.isCriterion(type, p)) {
        return true;
      }
    }
    return false;
  }

  private static Optional<Violation> forbid(String rule, String message) {
    return Optional.of(Violation.forbidden(rule, message));
  }
}
