package org.fhirwall.policy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.RequestPatients;
import org.jspecify.annotations.Nullable;

/**
 * SMART on FHIR scopes (App Launch 2.x, and the v1 forms), enforced <em>in addition to</em> the
 * role policy: they narrow what an app may do with the user's role, never widen it.
 *
 * <p>Grammar: {@code (patient|user|system)/(Type|*).(c?r?u?d?s?)[?param=value&...]}, and v1
 * {@code .read} (= {@code rs}), {@code .write} (= {@code cud}), {@code .*} (= {@code cruds}).
 * Other scopes ({@code openid}, {@code launch/patient}, {@code fhirUser}, ...) are not resource
 * scopes and grant nothing here.
 *
 * <p>When they apply: to a token that carries at least one resource scope (even a malformed one,
 * which then grants nothing), or a {@code patient} launch context. A token with neither (an EPR client that is not a SMART app) is governed by its
 * role alone. A token whose scopes include a {@code patient/} scope, but that has no
 * {@code patient} context, gets nothing through those scopes (there is no patient to confine
 * them to).
 *
 * <p>What each interaction needs: read, vread, history of an instance and instance operations
 * {@code r}; searches, paging, type history and type operations {@code s}; create {@code c};
 * update and patch {@code u}; delete {@code d}; a batch or transaction what each entry needs;
 * capabilities nothing; each conditional reference in a written resource
 * ({@code "subject": {"reference": "Patient?identifier=..."}}, which the EPR resolves by searching)
 * {@code s} on the type it searches, like a search with its criteria; and so do a conditional create's
 * {@code If-None-Exist} and a conditional update's, patch's or delete's criteria, on the type written. Each type a
 * chain or reverse chain of a search or such criteria searches ({@link ChainTypes}) needs {@code s} too. Under a {@code patient} launch context a write
 * is confined to that patient's record before it is forwarded ({@link #writes}). A scope with search parameters ({@code patient/Observation.rs?category=laboratory})
 * grants only searches carrying every one of those parameters with that value; never a read
 * (fhirwall could not tell, before the EPR answers, whether the record fits). System-level
 * interactions (a search over every type, {@code history-system}, system operations) need a
 * {@code *} scope. Pure and thread-safe.
 */
public final class SmartScopes {

  enum Context {
    PATIENT,
    USER,
    SYSTEM
  }

  /** One resource scope. {@code type} is {@code *} for every type. */
  record Scope(Context context, String type, Set<Character> permissions, List<QueryParam> constraints) {}

  private SmartScopes() {}

  /** The resource scopes among {@code scopes}; others are ignored. */
  static List<Scope> parse(Set<String> scopes) {
    List<Scope> out = new ArrayList<>();
    for (String s : scopes) {
      Scope parsed = parseOne(s);
      if (parsed != null) {
        out.add(parsed);
      }
    }
    return out;
  }

  static @Nullable Scope parseOne(String s) {
    int slash = s.indexOf('/');
    if (slash < 0) {
      return null;
    }
    Context context = switch (s.substring(0, slash)) {
      case "patient" -> Context.PATIENT;
      case "user" -> Context.USER;
      case "system" -> Context.SYSTEM;
      default -> null;
    };
    if (context == null) {
      return null;
    }
    String rest = s.substring(slash + 1);
    String query = null;
    int q = rest.indexOf('?');
    if (q >= 0) {
      query = rest.substring(q + 1);
      rest = rest.substring(0, q);
    }
    int dot = rest.lastIndexOf('.');
    if (dot <= 0) {
      return null;
    }
    String type = rest.substring(0, dot);
    String perms = rest.substring(dot + 1);
    Set<Character> granted = new LinkedHashSet<>();
    switch (perms) {
      case "read" -> {
        granted.add('r');
        granted.add('s');
      }
      case "write" -> {
        granted.add('c');
        granted.add('u');
        granted.add('d');
      }
      case "*" -> "cruds".chars().forEach(c -> granted.add((char) c));
      default -> {
        // v2: a subset of c, r, u, d, s in that order
        String order = "cruds";
        int at = 0;
        for (char c : perms.toCharArray()) {
          int i = order.indexOf(c, at);
          if (i < 0) {
            return null;
          }
          granted.add(c);
          at = i + 1;
        }
        if (granted.isEmpty()) {
          return null;
        }
      }
    }
    List<QueryParam> constraints = new ArrayList<>();
    if (query != null) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
          return null;
        }
        constraints.add(new QueryParam(java.net.URLDecoder.decode(pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8),
            java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8)));
      }
    }
    return new Scope(context, type, granted, constraints);
  }

  /**
   * Why a response must not reach an app launched for one patient: it names another patient (or
   * one fhirwall cannot identify). Empty without a launch context, or when every patient is the
   * context's. The response has been charged by then: what the EPR disclosed counts.
   */
  static Optional<String> outsideContext(Principal p, Set<String> patientsInResponse) {
    String context = p.patientContext();
    if (context == null) {
      return Optional.empty();
    }
    for (String key : patientsInResponse) {
      if (!key.equals("Patient/" + context)) {
        return Optional.of("The EPR's answer names a patient other than the app's launch context; it is withheld");
      }
    }
    return Optional.empty();
  }

  /**
   * The resource types the principal's scopes let the app see (a read or search permission, patient
   * scopes only with a launch context; {@code *} for every type), or null when no SMART scope governs
   * the principal. What an answer brings along besides what was asked ({@code _include},
   * {@code _revinclude}) is shown only when it is of one of these types.
   */
  public static @Nullable Set<String> readableTypes(Principal p) {
    if (!apply(p)) {
      return null;
    }
    Set<String> types = new HashSet<>();
    for (Scope s : parse(p.scopes())) {
      if (s.context() == Context.PATIENT && p.patientContext() == null) {
        continue;
      }
      if (s.permissions().contains('r') || s.permissions().contains('s')) {
        types.add(s.type());
      }
    }
    return Set.copyOf(types);
  }

  /** Whether SMART scopes govern this principal's requests at all (see the class comment). */
  static boolean apply(Principal p) {
    if (p.patientContext() != null) {
      return true;
    }
    for (String s : p.scopes()) {
      // a malformed resource scope still says "this is a SMART app": it governs, and grants nothing
      if (s.startsWith("patient/") || s.startsWith("user/") || s.startsWith("system/")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why the principal's scopes do not allow {@code request}, or empty when they do (or when no
   * SMART scope governs the principal). A request naming a patient other than the launch
   * context's is refused here too, before the EPR is asked.
   */
  static Optional<Violation> check(Principal p, FhirRequest request, RequestPatients patients) {
    if (!apply(p)) {
      return Optional.empty();
    }
    List<Scope> scopes = parse(p.scopes());
    String context = p.patientContext();
    if (context != null) {
      for (String named : patients.named(request)) {
        if (!named.equals("Patient/" + context)) {
          return Optional.of(Violation.alwaysForbidden("smart-patient-context", "The app's launch context is one patient; "
              + "this request names another"));
        }
      }
      Optional<Violation> write = writes(request, "Patient/" + context, patients);
      if (write.isPresent()) {
        return write;
      }
    }
    return need(request, scopes, context != null);
  }

  /**
   * Why a write (and each write of a batch or transaction) would reach the EPR for a patient other than the launch
   * context's {@code key}: the record a create or update writes must be the context patient's (its compartment owners
   * exactly that patient, for a type in the Patient compartment), no patient but that one may be referenced in a written
   * body, and each search the write makes the EPR run (a conditional reference, a conditional write's criteria) must
   * pin that patient. Whatever fhirwall cannot tell is refused: the EPR would have written before its answer could be.
   * An update or delete by id is checked further once fhirwall has read the record it replaces
   * ({@link LaunchContextRecords}); in a batch or transaction, where no such read is made, it is refused.
   */
  private static Optional<Violation> writes(FhirRequest r, String key, RequestPatients patients) {
    for (FhirRequest.BundleEntry e : r.entries()) {
      Optional<Violation> v = LaunchContextRecords.replacesById(e.request(), patients)
          ? writeOutsideContext("what an update or delete by id replaces must be read first, which fhirwall does for "
              + "such a request sent alone, not in a batch or transaction")
          : writes(e.request(), key, patients);
      if (v.isPresent()) {
        return Optional.of(v.get().inEntry(e.index(), e.request().describe()));
      }
    }
    FhirRequest.Written written = r.body().written();
    if (!written.known()) {
      return writeOutsideContext("fhirwall cannot tell whose record this body writes (an owner reference that is no "
          + "Type/id, a new or contained Patient)");
    }
    for (String named : written.named()) {
      if (!named.equals(key)) {
        return writeOutsideContext("the written body references another patient");
      }
    }
    String type = r.resourceType();
    boolean owned = type != null && (type.equals("Patient") || patients.needsCriterion(type));
    if ((r.interaction() == Interaction.CREATE || r.interaction() == Interaction.UPDATE) && owned
        && !written.owners().equals(Set.of(key))) {
      return writeOutsideContext("a " + type + " written for it must reference it as its owner (e.g. subject or patient)");
    }
    for (FhirRequest.ConditionalReference ref : r.body().conditionalReferences()) {
      if (!pins(ref.type(), ref.criteria(), key, patients)) {
        return writeOutsideContext("a conditional reference (" + ref.type() + "?...) must pin it in its criteria (e.g. "
            + (ref.type().equals("Patient") ? "Patient?_id=" : ref.type() + "?patient=Patient/") + key.substring(8) + ")");
      }
    }
    if (r.conditional() && type != null) {
      List<QueryParam> criteria = r.interaction() == Interaction.CREATE ? r.ifNoneExist() : r.params();
      if (!pins(type, criteria, key, patients)) {
        return writeOutsideContext("a conditional " + r.interaction().code() + "'s criteria must pin it");
      }
    }
    return Optional.empty();
  }

  /**
   * Whether every record a search of {@code type} by {@code criteria} can match is the context patient {@code key}'s: a
   * Patient search by {@code _id} of that patient alone, or a compartment type's by a patient criterion naming it alone
   * (a type outside the compartment holds no patient's record). The criteria's other patients are refused by
   * {@link RequestPatients#named}.
   */
  private static boolean pins(String type, List<QueryParam> criteria, String key, RequestPatients patients) {
    String id = key.substring("Patient/".length());
    if (type.equals("Patient")) {
      return criteria.stream().anyMatch(p -> p.name().equals("_id") && p.orValues().equals(List.of(id)));
    }
    if (!patients.needsCriterion(type)) {
      return true;
    }
    for (QueryParam p : criteria) {
      if (patients.isCriterion(type, p) && p.orValues().stream().allMatch(v -> v.equals(id) || v.equals(key))) {
        return true;
      }
    }
    return false;
  }

  private static Optional<Violation> writeOutsideContext(String why) {
    return Optional.of(Violation.alwaysForbidden("smart-patient-context:write", "The app's launch context is one patient; "
        + why + ": refused before the EPR writes"));
  }

  private static Optional<Violation> need(FhirRequest r, List<Scope> scopes, boolean hasPatient) {
    if (r.interaction() == Interaction.BATCH || r.interaction() == Interaction.TRANSACTION) {
      for (FhirRequest.BundleEntry e : r.entries()) {
        Optional<Violation> v = need(e.request(), scopes, hasPatient);
        if (v.isPresent()) {
          return v;
        }
      }
      return Optional.empty();
    }
    char perm;
    boolean systemLevel = false;
    switch (r.interaction()) {
      case CAPABILITIES -> {
        return Optional.empty();
      }
      case READ, VREAD, HISTORY_INSTANCE, OPERATION_INSTANCE -> perm = 'r';
      case SEARCH_TYPE, SEARCH_COMPARTMENT, PAGE, HISTORY_TYPE, OPERATION_TYPE -> perm = 's';
      case SEARCH_SYSTEM, HISTORY_SYSTEM, OPERATION_SYSTEM -> {
        perm = 's';
        systemLevel = true;
      }
      case CREATE -> perm = 'c';
      case UPDATE, PATCH -> perm = 'u';
      case DELETE -> perm = 'd';
      case BATCH, TRANSACTION -> throw new IllegalStateException("handled above");
      default -> {
        return Optional.of(Violation.alwaysForbidden("smart-scope", "The app's scopes do not cover " + r.interaction().code()));
      }
    }
    String type = systemLevel ? "*" : r.resourceType();
    if (!grants(scopes, hasPatient, perm, type, systemLevel, r.interaction() == Interaction.PAGE, r.params())) {
      return Optional.of(Violation.alwaysForbidden("smart-scope", "The app's SMART scopes do not allow " + r.interaction().code()
          + (type == null ? "" : " on " + type) + " (needs a scope granting '" + perm + "' on it)"));
    }
    // a chain or reverse chain searches other types: each needs a scope granting 's' (the search's constraints are not its)
    if (perm == 's' && r.interaction() != Interaction.PAGE) {
      Optional<Violation> v = linked(scopes, hasPatient, r.resourceType(), r.params(), "search");
      if (v.isPresent()) {
        return v;
      }
    }
    // a conditional write's criteria are a search of its type the EPR runs before it writes: the scopes must allow it
    if (r.conditional() && type != null && (perm == 'c' || perm == 'u' || perm == 'd')) {
      List<QueryParam> criteria = r.interaction() == Interaction.CREATE ? r.ifNoneExist() : r.params();
      if (!grants(scopes, hasPatient, 's', type, false, false, criteria)) {
        return Optional.of(Violation.alwaysForbidden("smart-scope", "The app's SMART scopes do not allow the conditional "
            + r.interaction().code() + ": the EPR resolves its criteria by a search on " + type
            + " (needs a scope granting 's' on it, with its constraints among the criteria)"));
      }
      Optional<Violation> v = linked(scopes, hasPatient, type, criteria, "conditional " + r.interaction().code());
      if (v.isPresent()) {
        return v;
      }
    }
    // a conditional reference in a written resource is a search the EPR runs when it writes: the scopes must allow it
    for (FhirRequest.ConditionalReference ref : r.body().conditionalReferences()) {
      if (!grants(scopes, hasPatient, 's', ref.type(), false, false, ref.criteria())) {
        return Optional.of(Violation.alwaysForbidden("smart-scope", "The app's SMART scopes do not allow the conditional "
            + "reference in the body (" + ref.type() + "?...): the EPR resolves it by a search on " + ref.type()
            + " (needs a scope granting 's' on it)"));
      }
      Optional<Violation> v = linked(scopes, hasPatient, ref.type(), ref.criteria(), "conditional reference");
      if (v.isPresent()) {
        return v;
      }
    }
    return Optional.empty();
  }

  /**
   * Why the scopes do not allow the other types {@code params} search through chains and reverse chains
   * ({@link ChainTypes}): each needs a scope granting {@code s} on it without constraints (a link's criteria are not
   * the scope's parameters), one whose type cannot be told a {@code *} scope.
   */
  private static Optional<Violation> linked(List<Scope> scopes, boolean hasPatient, @Nullable String type,
      List<QueryParam> params, String what) {
    for (String linked : ChainTypes.R4.searchedBy(type, params)) {
      if (!grants(scopes, hasPatient, 's', linked, false, false, List.of())) {
        return Optional.of(Violation.alwaysForbidden("smart-scope", "The app's SMART scopes do not allow the " + what
            + "'s chain or reverse chain (_has) through " + (linked.equals(ChainTypes.ANY) ? "a reference of any type"
            : linked) + ": the EPR searches it (needs a scope granting 's' on " + (linked.equals(ChainTypes.ANY)
            ? "every type, *" : "it") + ", without search parameters)"));
      }
    }
    return Optional.empty();
  }

  /**
   * Whether a scope grants {@code perm} on {@code type} ({@code *} for a system-level request) for a
   * request with {@code params} (a scope's constraints must all be among them, for a search).
   */
  private static boolean grants(List<Scope> scopes, boolean hasPatient, char perm, @Nullable String type, boolean systemLevel,
      boolean page, List<QueryParam> params) {
    for (Scope s : scopes) {
      if (s.context() == Context.PATIENT && !hasPatient) {
        continue;
      }
      if (!s.permissions().contains(perm)) {
        continue;
      }
      if (!s.type().equals("*") && (systemLevel || !s.type().equals(type))) {
        continue;
      }
      // A paging link opens only for the token's scopes as they were when its search passed them
      // (Principal#pagingBinding): the next page of that search needs no constraint check of its own.
      if (!s.constraints().isEmpty() && (perm != 's' || !page && !params.containsAll(s.constraints()))) {
        continue;
      }
      return true;
    }
    return false;
  }
}
