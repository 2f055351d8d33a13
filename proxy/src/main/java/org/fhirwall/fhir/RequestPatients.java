package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The one model of which patients a request names, read from HAPI FHIR's Patient-compartment
 * knowledge.
 *
 * <ul>
 *   <li>{@link #named}: the patients a request names in its criteria. An answer about a named
 *       patient discloses that patient even when it carries no resource (a count, an empty search,
 *       a 404, a conditional create that matched), so fhirwall charges them like the patients a
 *       response shows. When in doubt a value is taken as a patient (over-counting is safe). The criteria of a
 *       conditional reference in a written body ({@code Patient?_id=7}) name patients too.
 *   <li>{@link #needsCriterion} / {@link #isCriterion}: whether a search of a type must pin its
 *       patients, and whether a parameter does: {@code subject}, {@code patient} or another
 *       parameter that gives Patient-compartment membership ({@code Group.member},
 *       {@code Appointment.actor}, ...), without chain, every OR-value a {@code Patient/<id>}
 *       reference (or a bare id where the parameter can only mean a patient: {@code patient=<id>},
 *       {@code subject:Patient=<id>}).
 * </ul>
 *
 * <p>Immutable and thread-safe.
 */
public final class RequestPatients {
  /** The parameters that name the patient a record is about (the one element of it {@code patient} and {@code subject} search). */
  private static final Set<String> OWNER_PARAMETERS = Set.of("patient", "subject");

  /**
   * Parameters beginning with {@code _} that only filter, sort, page or shape the records a search matches by their own
   * elements (HAPI FHIR's model also lists {@code _text}, {@code _content}, {@code _query}, {@code _list}: not these).
   */
  private static final Set<String> OWN_RESULT_PARAMETERS = Set.of("_id", "_lastUpdated", "_tag", "_profile", "_security",
      "_source", "_count", "_offset", "_sort", "_elements", "_summary", "_total", "_since", "_at", "_format", "_pretty");

  /** The R4 model, read once (walks HAPI FHIR's resource definitions). */
  public static final RequestPatients R4 = new RequestPatients(FhirContext.forR4Cached());

  private static final String PATIENT = "Patient";
  private static final Pattern PATIENT_REF = Pattern.compile("(?:^|/)Patient/([A-Za-z0-9\\-.]{1,64})(?:/|$)");
  private static final Pattern REFERENCE = Pattern.compile(
      "(?:[A-Za-z][A-Za-z0-9+.-]*://[^?#\\s,]*/)?Patient/[A-Za-z0-9\\-.]{1,64}(?:/_history/[A-Za-z0-9\\-.]{1,64})?");
  private static final Pattern BARE_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
  private static final int MAX_ENTRY_DEPTH = 4;

  private final PatientCompartment compartment;
  private final Map<String, Set<String>> memberParameters;
  /** Compartment type, then resource type: the search parameters that put it in that compartment. */
  private final Map<String, Map<String, Set<String>>> compartmentParameters;
  /** Resource type: the one search parameter that pins its records to a patient ({@link #pinParameter}). */
  private final Map<String, String> pinParameters;
  /** Resource type: the names of its search parameters (HAPI FHIR's model). */
  private final Map<String, Set<String>> searchParameters;
  /** Resource type: the names of its reference search parameters (HAPI FHIR's model). */
  private final Map<String, Set<String>> referenceParameters;
  /**
   * Resource type: those of {@code patient} and {@code subject} that search an element a record has at most one of (a
   * reference to the one patient the record is about; not {@code Appointment.participant.actor}, {@code Account.subject}).
   */
  private final Map<String, Set<String>> ownerParameters;

  public RequestPatients(FhirContext context) {
    requireNonNull(context, "context");
    this.compartment = PatientCompartment.from(context);
    Map<String, Set<String>> params = new HashMap<>();
    Map<String, Set<String>> searchable = new HashMap<>();
    Map<String, Set<String>> references = new HashMap<>();
    Map<String, Map<String, Set<String>>> byCompartment = new HashMap<>();
    for (String type : context.getResourceTypes()) {
      searchable.put(type, context.getResourceDefinition(type).getSearchParams().stream().map(RuntimeSearchParam::getName)
          .collect(java.util.stream.Collectors.toUnmodifiableSet()));
      references.put(type, context.getResourceDefinition(type).getSearchParams().stream()
          .filter(sp -> sp.getParamType() == ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum.REFERENCE)
          .map(RuntimeSearchParam::getName).collect(java.util.stream.Collectors.toUnmodifiableSet()));
      Set<String> names = new LinkedHashSet<>();
      names.add("patient");
      names.add("subject");
      for (RuntimeSearchParam p : context.getResourceDefinition(type).getSearchParams()) {
        Set<String> in = p.getProvidesMembershipInCompartments();
        if (in != null && in.contains(PATIENT)) {
          names.add(p.getName());
        }
        for (String c : in == null ? Set.<String>of() : in) {
          byCompartment.computeIfAbsent(c, k -> new HashMap<>()).computeIfAbsent(type, k -> new TreeSet<>()).add(p.getName());
        }
      }
      params.put(type, Set.copyOf(names));
    }
    this.memberParameters = Map.copyOf(params);
    this.searchParameters = Map.copyOf(searchable);
    this.referenceParameters = Map.copyOf(references);
    Map<String, Map<String, Set<String>>> frozen = new HashMap<>();
    byCompartment.forEach((c, types) -> {
      Map<String, Set<String>> copy = new HashMap<>();
      types.forEach((t, names) -> copy.put(t, Collections.unmodifiableSet(new TreeSet<>(names))));
      frozen.put(c, Map.copyOf(copy));
    });
    this.compartmentParameters = Map.copyOf(frozen);
    Map<String, String> pins = new HashMap<>();
    for (String type : context.getResourceTypes()) {
      String pin = pinOf(context, type, compartmentParameters(PATIENT, type));
      if (pin != null) {
        pins.put(type, pin);
      }
    }
    this.pinParameters = Map.copyOf(pins);
    Map<String, Set<String>> owners = new HashMap<>();
    for (String type : pins.keySet()) {
      Set<String> names = new TreeSet<>();
      for (String name : OWNER_PARAMETERS) {
        RuntimeSearchParam p = context.getResourceDefinition(type).getSearchParam(name);
        if (p != null && (p.getTargets().isEmpty() || p.getTargets().contains(PATIENT)) && singleValued(context, type, p)) {
          names.add(name);
        }
      }
      if (!names.isEmpty()) {
        owners.put(type, Collections.unmodifiableSet(names));
      }
    }
    this.ownerParameters = Map.copyOf(owners);
  }

  /**
   * Whether every path of {@code p} in {@code type} ({@code Observation.subject.where(resolve() is Patient)}) goes through
   * elements of at most one value each; false for a path fhirwall cannot walk.
   */
  private static boolean singleValued(FhirContext context, String type, RuntimeSearchParam p) {
    boolean any = false;
    for (String part : p.getPath().split("\\|")) {
      String path = part.strip();
      if (!path.startsWith(type + ".")) {
        continue;
      }
      int where = path.indexOf(".where(");
      path = where < 0 ? path : path.substring(0, where);
      if (path.contains("(") || path.contains(" ")) {
        return false;
      }
      String[] names = path.split("\\.");
      ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition<?> at = context.getResourceDefinition(type);
      for (int i = 1; i < names.length; i++) {
        ca.uhn.fhir.context.BaseRuntimeChildDefinition child = at.getChildByName(names[i]);
        if (child == null || child.getMax() != 1) {
          return false;
        }
        if (i + 1 < names.length) {
          if (!(child.getChildByName(names[i]) instanceof ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition<?> next)) {
            return false;
          }
          at = next;
        }
      }
      any = true;
    }
    return any;
  }

  private static @Nullable String pinOf(FhirContext context, String type, Set<String> membership) {
    if (PATIENT.equals(type) || membership.isEmpty()) {
      return null;
    }
    for (String name : List.of("patient", "subject")) {
      RuntimeSearchParam p = context.getResourceDefinition(type).getSearchParam(name);
      if (p != null && (p.getTargets().isEmpty() || p.getTargets().contains(PATIENT))) {
        return name;
      }
    }
    return membership.size() == 1 ? membership.iterator().next() : null;
  }

  /**
   * The search parameter by which a search (a conditional delete, say) of {@code type} is held to one patient's records:
   * {@code patient} where the type has it, else {@code subject} where it may point at a Patient, else the one parameter
   * that puts the type in the Patient compartment; null for Patient, a type outside the compartment, or one several
   * parameters put there and none of these names (a record may then be the patient's through any of them).
   */
  public @Nullable String pinParameter(String type) {
    return pinParameters.get(type);
  }

  /** Keys ({@code Patient/{id}}) of the patients named by this request and its bundle entries. */
  public Set<String> named(FhirRequest request) {
    Set<String> out = new LinkedHashSet<>();
    collect(request, out, 0);
    return out;
  }

  /**
   * The patients this request names ({@link #named}) when its answer can hold only their own records, chosen by those
   * records' own elements: it, or each entry of its bundle, reads a Patient by id ({@code Patient/7}, a version, its
   * history) or searches Patients by {@code _id}, or searches a type of the Patient compartment by the parameter that makes
   * a record the patient's ({@code patient} or {@code subject}, where a record has one such reference; a compartment
   * search only where these are the type's only ways into the compartment); and every other parameter filters, sorts or shapes those records by
   * their own elements ({@link #filtersOwnRecords}): no chain, reverse chain ({@code _has}), include, {@code _contained},
   * {@code _text}, {@code _content}, {@code _filter}, {@code _list}, {@code _query}, operation ({@code $everything}), write
   * or page. Else its answer could hold, or be chosen by, another patient (a Group of the named patient's, an
   * Observation of someone else's that they performed, a patient whose record links to theirs), and at the limit 429
   * against 200 would tell of that patient uncounted (adversarial probe 11). Empty otherwise.
   */
  public Set<String> namedAlone(FhirRequest request) {
    List<FhirRequest> asked = request.entries().isEmpty() ? List.of(request)
        : request.entries().stream().map(FhirRequest.BundleEntry::request).toList();
    for (FhirRequest r : asked) {
      if (!r.entries().isEmpty() || !readsOwnRecords(r)) {
        return Set.of();
      }
    }
    return named(request);
  }

  /** Whether {@code r} reads only records of the patients it names, chosen by their own elements ({@link #namedAlone}). */
  private boolean readsOwnRecords(FhirRequest r) {
    String type = r.resourceType();
    if (type == null || r.operation() != null || !r.ifNoneExist().isEmpty() || !r.body().conditionalReferences().isEmpty()) {
      return false;
    }
    return switch (r.interaction()) {
      case READ, VREAD, HISTORY_INSTANCE -> PATIENT.equals(type) && r.id() != null && r.compartment() == null
          && filtersOwnRecords(type, r.params(), null);
      case SEARCH_TYPE -> {
        QueryParam pin = ownerPin(type, r.params());
        yield pin != null && filtersOwnRecords(type, r.params(), pin);
      }
      case SEARCH_COMPARTMENT -> {
        ResourceId owner = r.compartment();
        Set<String> ways = compartmentParameters(PATIENT, type);
        yield owner != null && PATIENT.equals(owner.type()) && !ways.isEmpty()
            && ownerParameters.getOrDefault(type, Set.of()).containsAll(ways) && filtersOwnRecords(type, r.params(), null);
      }
      case UPDATE, PATCH, DELETE, CREATE, HISTORY_TYPE, HISTORY_SYSTEM, SEARCH_SYSTEM, PAGE, CAPABILITIES, BATCH,
          TRANSACTION, OPERATION_SYSTEM, OPERATION_TYPE, OPERATION_INSTANCE -> false;
    };
  }

  /**
   * The parameter of a search of {@code type} that makes every match a named patient's own record: {@code _id} of
   * Patient by bare ids, or the type's {@code patient} or {@code subject} ({@link #ownerParameters}) as a patient
   * criterion ({@link #isCriterion}); null when there is none (a Group's {@code member}: a group holds many patients).
   */
  private @Nullable QueryParam ownerPin(String type, List<QueryParam> params) {
    Set<String> owners = ownerParameters.getOrDefault(type, Set.of());
    for (QueryParam p : params) {
      boolean pins = PATIENT.equals(type) ? p.name().equals("_id") && p.orValues().stream().allMatch(v -> BARE_ID.matcher(v).matches())
          : owners.contains(p.baseName()) && isCriterion(type, p);
      if (pins) {
        return p;
      }
    }
    return null;
  }

  /**
   * Whether each of {@code params} but {@code pin} filters, sorts or shapes the records of {@code type} by their own
   * elements: a search parameter of the type (HAPI FHIR's model) or one of {@link #OWN_RESULT_PARAMETERS}, without a
   * chain, and no reverse chain; a sort by no chain; a reference as {@code Type/id}, not a bare id. A patient one of them
   * names is named ({@link #named}), so counted.
   */
  private boolean filtersOwnRecords(String type, List<QueryParam> params, @Nullable QueryParam pin) {
    for (QueryParam p : params) {
      if (p == pin) {
        continue;
      }
      if (p.chain() != null || p.name().startsWith("_has") || ReverseChain.of(p) != null) {
        return false;
      }
      String base = p.baseName();
      boolean own = base.startsWith("_") ? OWN_RESULT_PARAMETERS.contains(base)
          : searchParameters.getOrDefault(type, Set.of()).contains(base);
      if (!own || base.equals("_sort") && p.value().contains(".")) {
        return false;
      }
      if (p.modifier() == null && referenceParameters.getOrDefault(type, Set.of()).contains(base)
          && p.orValues().stream().anyMatch(v -> !v.contains("/"))) {
        return false; // a bare id: HAPI FHIR's whatever holds that id, a patient perhaps, whom it does not name
      }
    }
    return true;
  }

  /**
   * The search parameters of {@code type} that put a resource in a {@code compartmentType}'s compartment, in name
   * order (HAPI FHIR's model): a compartment search ({@code Practitioner/9/Patient}) is a search of the type by these
   * ({@code Patient?general-practitioner=Practitioner/9}). Empty when the type is no member of that compartment.
   */
  public Set<String> compartmentParameters(String compartmentType, String type) {
    return compartmentParameters.getOrDefault(compartmentType, Map.of()).getOrDefault(type, Set.of());
  }

  /** Whether a search of {@code type} must carry a patient criterion. */
  public boolean needsCriterion(String type) {
    return !PATIENT.equals(type) && compartment.inCompartment(type);
  }

  /**
   * Whether {@code reference} of {@code type} is the reference that makes a record of it one patient's own: its
   * {@code patient} or {@code subject}, where a record holds one such ({@code Observation.subject}; not
   * {@code Observation.performer}, {@code Patient.link}, {@code Group.member}).
   */
  public boolean isOwnReference(String type, String reference) {
    return ownerParameters.getOrDefault(type, Set.of()).contains(reference);
  }

  /** Whether records of {@code type} are patients or patients' records: Patient, or a type in the Patient compartment. */
  public boolean holdsPatients(String type) {
    return PATIENT.equals(type) || compartment.inCompartment(type);
  }

  /**
   * Whether every record of {@code type} that {@code p} can select is, or belongs to, a patient {@code p} names:
   * {@code _id} of Patient by bare ids, or a patient criterion of a type in the compartment ({@link #isCriterion}).
   */
  public boolean pinsPatients(String type, QueryParam p) {
    if (PATIENT.equals(type)) {
      return p.name().equals("_id") && p.orValues().stream().allMatch(v -> BARE_ID.matcher(v).matches());
    }
    return needsCriterion(type) && isCriterion(type, p);
  }

  /** Whether {@code p}, in a search of {@code type}, names only patients. */
  public boolean isCriterion(String type, QueryParam p) {
    if (p.chain() != null || p.name().startsWith("_has:")) {
      return false;
    }
    String base = p.baseName();
    if (!memberParameters.getOrDefault(type, Set.of("patient", "subject")).contains(base)) {
      return false;
    }
    String modifier = p.modifier();
    boolean bareIdIsPatient;
    if (modifier == null) {
      bareIdIsPatient = base.equals("patient");
    } else if (modifier.equals(PATIENT)) {
      bareIdIsPatient = true;
    } else {
      return false;
    }
    for (String v : p.orValues()) {
      if (!REFERENCE.matcher(v).matches() && !(bareIdIsPatient && BARE_ID.matcher(v).matches())) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether every resource this request can match belongs to a patient it names: a Patient
   * compartment, a Patient read or a {@code Patient} search by {@code _id}, an instance history of a
   * Patient, or a search of a compartment type with a patient criterion. An answer about such a
   * request (a count, an empty page, a total) discloses nothing beyond the named patients.
   */
  public boolean pinsEveryMatch(FhirRequest r) {
    ResourceId owner = r.compartment();
    if (owner != null && owner.type().equals(PATIENT)) {
      return true;
    }
    String type = r.resourceType();
    if (type == null) {
      return false;
    }
    if (PATIENT.equals(type)) {
      if (r.id() != null) {
        return true;
      }
      for (QueryParam p : r.params()) {
        if (p.name().equals("_id") && p.orValues().stream().allMatch(v -> BARE_ID.matcher(v).matches())) {
          return true;
        }
      }
      return false;
    }
    return pinsEveryMatch(type, r.params());
  }

  /**
   * Whether every record a search of {@code type} by {@code criteria} can match (a conditional reference's, say)
   * belongs to a patient the criteria name: a parameter that is a patient criterion ({@link #isCriterion}). False for
   * Patient and for a type that holds no patient's records: see {@link #needsCriterion} first.
   */
  public boolean pinsEveryMatch(String type, List<QueryParam> criteria) {
    if (!needsCriterion(type)) {
      return false;
    }
    for (QueryParam p : criteria) {
      if (isCriterion(type, p)) {
        return true;
      }
    }
    return false;
  }

  private void collect(FhirRequest r, Set<String> out, int depth) {
    ResourceId owner = r.compartment();
    if (owner != null && owner.type().equals(PATIENT)) {
      out.add("Patient/" + owner.id());
    }
    if (PATIENT.equals(r.resourceType()) && r.id() != null) {
      out.add("Patient/" + r.id());
    }
    params(r.params(), r.resourceType(), out);
    params(r.ifNoneExist(), r.resourceType(), out);
    for (FhirRequest.ConditionalReference c : r.body().conditionalReferences()) {
      params(c.criteria(), c.type(), out);
    }
    if (depth < MAX_ENTRY_DEPTH) {
      for (FhirRequest.BundleEntry e : r.entries()) {
        collect(e.request(), out, depth + 1);
      }
    }
  }

  /**
   * A bare id names a patient on {@code patient}, {@code _id} of Patient, a {@code :Patient} modifier, and on any other
   * parameter that puts a resource of {@code type} in a patient's compartment ({@code Observation?subject=7}: HAPI FHIR
   * resolves a bare id on a reference that may point at several types to whichever holds it, Patient/7 among them).
   */
  private void params(List<QueryParam> params, @Nullable String type, Set<String> out) {
    boolean onPatient = PATIENT.equals(type);
    Set<String> members = type == null ? Set.of() : memberParameters.getOrDefault(type, Set.of());
    for (QueryParam p : params) {
      ReverseChain chain = ReverseChain.of(p);
      if (chain != null) {
        // the parameter a reverse chain ends in names patients as one of its last type's own would
        params(List.of(chain.end()), chain.type(), out);
        continue;
      }
      String base = p.baseName();
      boolean patientParam = base.equals("patient") || PATIENT.equals(p.modifier()) || onPatient && base.equals("_id")
          || p.modifier() == null && members.contains(base);
      boolean bareIdNames = p.chain() == null ? patientParam : chainsToPatientId(p, members);
      for (String value : p.orValues()) {
        Matcher m = PATIENT_REF.matcher(value);
        boolean any = false;
        while (m.find()) {
          out.add("Patient/" + m.group(1));
          any = true;
        }
        if (!any && bareIdNames && BARE_ID.matcher(value).matches()) {
          out.add("Patient/" + value);
        }
      }
    }
  }

  /**
   * Whether chained {@code p} ends in the {@code _id} of what a parameter that may point at a patient points at:
   * {@code subject._id=7}, {@code subject:Patient._id=7}, {@code encounter.patient._id=7} are HAPI FHIR's
   * {@code subject=7}, and name Patient/7 as that does (adversarial sweep 10). {@code members}: the parameters that put
   * the searched type in a patient's compartment (they may point at a patient under any name).
   */
  private static boolean chainsToPatientId(QueryParam p, Set<String> members) {
    String name = p.name();
    if (!name.endsWith("._id")) {
      return false;
    }
    String[] links = name.substring(0, name.length() - "._id".length()).split("\\.");
    String last = links[links.length - 1];
    int colon = last.indexOf(':');
    String lastBase = colon < 0 ? last : last.substring(0, colon);
    String lastModifier = colon < 0 ? null : last.substring(colon + 1);
    if (lastModifier != null) {
      return lastModifier.equals(PATIENT);
    }
    return lastBase.equals("patient") || lastBase.equals("subject") || links.length == 1 && members.contains(lastBase);
  }
}
