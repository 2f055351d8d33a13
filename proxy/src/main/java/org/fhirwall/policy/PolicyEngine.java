package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Optional;
import org.fhirwall.auth.AuthenticationStrength;
import org.fhirwall.auth.Principal;
import org.fhirwall.auth.StepUp;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.RequestPatients;
import org.fhirwall.quota.PatientWindow;
import org.jspecify.annotations.Nullable;

/**
 * The decision for one request: which role governs the principal, whether it authenticated
 * strongly enough, whether the role may do this, and which windows the response is charged to.
 *
 * <p>Pure and thread-safe: no I/O, no clock of its own ({@code now} is an argument). It decides on
 * the principal and the request alone, never on the EPR's data, so a forbidden request for a
 * record that exists and one for a record that does not get the same refusal. Everything it does
 * not explicitly allow is refused. A batch or transaction is refused whole when one entry would be
 * refused sent alone, and the refusal names the entry. Report-only roles get an
 * {@link Decision.Allow} noting the refusal an enforcing role would have sent; authentication
 * strength and the channels closed to interactive users ({@link ClosedChannels}) are never
 * report-only (a password alone never opens data).
 *
 * <p>Authentication requirements only add up: the role's, an operation's and break-glass's are
 * combined with {@link AuthenticationStrength#and}; a combination nothing can satisfy refuses.
 * Break-glass raises the ceiling, it does not open a second pool: the request is charged to the
 * principal's one account, with the break-glass windows as its limits.
 *
 * <p>A count-only search ({@code _summary=count}, {@code _count=0} however written) discloses something about every
 * patient it matches. When every match belongs to a patient the request names, it is forwarded
 * as it is and those patients are charged; otherwise fhirwall asks the EPR for the matching
 * resources instead ({@link Decision.Allow#countOnly()}), charges their patients and answers with
 * the count alone ({@link #countBeyondAPage} refuses, once they are charged, when they fill one page).
 */
public final class PolicyEngine {

  private final PolicySet policies;
  private final SearchCheck search;
  private final RequestPatients patients;
  private final WriteChecks writes;

  public PolicyEngine(PolicySet policies) {
    this.policies = requireNonNull(policies, "policies");
    this.patients = RequestPatients.R4;
    this.search = new SearchCheck(patients, new Selectivity(FhirContext.forR4Cached()));
    this.writes = new WriteChecks(search, patients);
  }

  public PolicySet policies() {
    return policies;
  }

  /**
   * @param breakGlassReason the value of the break-glass reason header, null when absent
   * @param pageNumber for {@link Interaction#PAGE} requests, the page number the opened link
   *     carries (1 for the first page); ignored otherwise
   */
  public Decision decide(Principal principal, FhirRequest request, @Nullable String breakGlassReason,
      int pageNumber, Instant now) {
    Optional<RolePolicy> selected = policies.select(principal);
    if (selected.isEmpty()) {
      return new Decision.Deny(Decision.Kind.FORBIDDEN, "no-role-policy", "No fhirwall role policy accepts this "
          + kindName(principal) + " (roles: " + String.join(", ", principal.roles().stream().sorted().toList()) + ")");
    }
    RolePolicy role = selected.get();
    boolean breakGlass = breakGlassReason != null;
    if (breakGlass && !role.breakGlass().enabled()) {
      return new Decision.Deny(Decision.Kind.FORBIDDEN, "break-glass-not-allowed",
          "Break-glass access is not allowed for role " + role.name());
    }
    if (breakGlass && breakGlassReason.isBlank()) {
      return new Decision.Deny(Decision.Kind.INVALID, "break-glass-no-reason",
          "Break-glass access needs a reason (expected: a non-empty reason header)");
    }

    AuthenticationStrength strength = breakGlass
        ? role.authentication().and(role.breakGlass().authentication())
        : role.authentication();
    Optional<Decision.Deny> weak = authenticate(principal, strength, now,
        (breakGlass ? "Break-glass access" : "Role " + role.name()) + " requires a stronger or more recent authentication",
        "authentication-strength");
    if (weak.isPresent()) {
      return weak.get();
    }
    for (String op : operations(request, new LinkedHashSet<>())) {
      AuthenticationStrength sensitive = role.operationAuthentication().get(op);
      if (sensitive != null) {
        weak = authenticate(principal, strength.and(sensitive), now,
            "$" + op + " requires a stronger or more recent authentication for role " + role.name(),
            "authentication-strength:" + op);
        if (weak.isPresent()) {
          return weak.get();
        }
      }
    }

    List<String> notes = new ArrayList<>();
    Optional<Violation> violation = check(role, principal.kind(), request, pageNumber);
    if (violation.isEmpty()) {
      violation = SmartScopes.check(principal, request, patients);
    }
    boolean countOnly = violation.isEmpty() && CountOnly.isCountOnly(request) && !patients.pinsEveryMatch(request);
    FhirRequest forwarded = countOnly ? CountOnly.resolve(role, request, notes) : rewrite(role, request, notes, "");
    List<PatientWindow> limits = breakGlass ? role.breakGlass().patientLimits() : role.patientLimits();
    if (violation.isPresent()) {
      Violation v = violation.get();
      if (role.mode() == Mode.ENFORCE || v.always()) {
        return v.deny();
      }
      notes.add("report-only: would refuse (" + v.rule() + ")");
    }
    return new Decision.Allow(role, forwarded, principal.accountKey(), limits, breakGlass, notes, countOnly,
        patients.pinsEveryMatch(request));
  }

  /**
   * What the response of an allowed request may still not do, judged on what the inspector read
   * in it: a resource of a type the role may not read as the whole answer. Entries of such types
   * inside a Bundle are removed by the respond stage instead.
   */
  public static Optional<Decision.Deny> afterInspection(Decision.Allow allow, @Nullable String topLevelType) {
    RolePolicy role = allow.role();
    if (topLevelType != null && !topLevelType.equals("Bundle") && !topLevelType.equals("OperationOutcome")
        && !answersCapabilities(allow, topLevelType) && !role.allowsType(topLevelType) && allow.role().mode() == Mode.ENFORCE) {
      return Optional.of(new Decision.Deny(Decision.Kind.FORBIDDEN, "resource-types",
          "Role " + role.name() + " may not access " + topLevelType + " resources (returned by the EPR)"));
    }
    return Optional.empty();
  }

  /**
   * A count fhirwall resolved whose page of the role's {@code max-count} matches was full (or linked
   * to more): its patients beyond the page cannot be known, so the count is refused — after the
   * page's patients were charged. The refusal says "at least a page matched", and the page it was
   * made of is what shows that: a count refused only when more matched than a page (as before)
   * told, with as many charged decoys as a page holds and one target, whether the target exists,
   * and charged nobody new. So a count is answered only when fewer than a page match.
   *
   * @param fillsAPage whether the EPR's answer (2xx) was a full page, linked to more or could not be read to tell
   */
  public static Optional<Decision.Deny> countBeyondAPage(Decision.Allow allow, boolean fillsAPage) {
    if (!allow.countOnly() || !fillsAPage) {
      return Optional.empty();
    }
    RolePolicy role = allow.role();
    return Optional.of(new Decision.Deny(Decision.Kind.TOO_COSTLY, "search-count-unknowable", "A count is answered "
        + "only when fhirwall can see every patient it covers; this one matches at least one page ("
        + role.search().maxCount() + " resources) for role " + role.name() + ": narrow the search"));
  }

  /** The server's description asked for by {@code GET /metadata}, which the role's {@code capabilities} allows. */
  private static boolean answersCapabilities(Decision.Allow allow, String topLevelType) {
    return allow.request().interaction() == Interaction.CAPABILITIES
        && (topLevelType.equals("CapabilityStatement") || topLevelType.equals("TerminologyCapabilities"));
  }

  /**
   * A response for an app launched for one patient ({@code patient} in the token) that names
   * another: refused after it was charged (see {@link SmartScopes#outsideContext}).
   */
  public static Optional<Decision.Deny> outsideLaunchContext(Principal principal, java.util.Set<String> patients) {
    return SmartScopes.outsideContext(principal, patients)
        .map(why -> new Decision.Deny(Decision.Kind.FORBIDDEN, "smart-patient-context", why));
  }

  private static Optional<Decision.Deny> authenticate(Principal principal, AuthenticationStrength required, Instant now,
      String description, String rule) {
    Optional<String> conflict = required.conflict();
    if (conflict.isPresent()) {
      return Optional.of(new Decision.Deny(Decision.Kind.FORBIDDEN, rule, "The authentication this request needs cannot be "
          + "satisfied: " + conflict.get() + "; the role policy must be fixed"));
    }
    Optional<StepUp.Shortfall> weak = StepUp.check(principal, required, now, description);
    if (weak.isPresent()) {
      return Optional.of(Decision.Deny.stepUp(rule, weak.get()));
    }
    // after the MFA evidence: a token that falls short of both is told to log in again first
    return required.senderConstrained().check(principal,
            description.replace("a stronger or more recent authentication", "a sender-constrained token"))
        .map(r -> Decision.Deny.unbound("sender-constrained", r));
  }

  /** The operations a request (and each of its bundle entries) invokes. */
  private static java.util.Set<String> operations(FhirRequest request, java.util.Set<String> into) {
    if (request.operation() != null) {
      into.add(request.operation());
    }
    for (FhirRequest.BundleEntry e : request.entries()) {
      operations(e.request(), into);
    }
    return into;
  }

  private static String kindName(Principal p) {
    return p.kind() == Principal.Kind.USER ? "user" : "service account";
  }

  private static Optional<Violation> forbid(String rule, String message) {
    return Optional.of(Violation.forbidden(rule, message));
  }

  /**
   * The first rule {@code request} breaks, preferring one that is always enforced. A bundle entry
   * is checked exactly as if it were sent alone.
   */
  private Optional<Violation> check(RolePolicy role, Principal.Kind kind, FhirRequest request, int pageNumber) {
    if (kind == Principal.Kind.USER) {
      Optional<Violation> closed = ClosedChannels.forUser(request);
      if (closed.isPresent()) {
        return closed;
      }
    }
    Interaction interaction = request.interaction();
    if (request.respondAsync() && !role.operations().contains("export")) {
      return forbid("respond-async", "Asynchronous requests (Prefer: respond-async) are not allowed for role " + role.name());
    }
    switch (interaction) {
      case PAGE -> {
        // The link was signed for this principal after its search was allowed; only the page count is new.
        if (pageNumber > role.search().maxPages()) {
          return forbid("max-pages", "Search paging stops at page " + role.search().maxPages()
              + " for role " + role.name() + " (requested page " + pageNumber + "); refine the search");
        }
        return Optional.empty();
      }
      case READ, VREAD, HISTORY_INSTANCE, HISTORY_TYPE, CAPABILITIES -> {
        return checkPlain(role, request);
      }
      case UPDATE, PATCH, DELETE, CREATE -> {
        Optional<Violation> plain = checkPlain(role, request);
        return plain.isPresent() ? plain : writes.check(role, request);
      }
      case HISTORY_SYSTEM -> {
        Optional<Violation> plain = checkPlain(role, request);
        if (plain.isPresent()) {
          return plain;
        }
        return everyType(role, "history-system");
      }
      case SEARCH_TYPE, SEARCH_SYSTEM -> {
        Optional<Violation> plain = checkPlain(role, request);
        return plain.isPresent() ? plain : search.check(role, request);
      }
      case SEARCH_COMPARTMENT -> {
        if (request.compartment() != null && !role.allowsType(request.compartment().type())) {
          return forbid("resource-types", "Role " + role.name() + " may not access " + request.compartment().type() + " resources");
        }
        Optional<Violation> plain = checkPlain(role, request);
        return plain.isPresent() ? plain : search.check(role, request);
      }
      case OPERATION_SYSTEM, OPERATION_TYPE, OPERATION_INSTANCE -> {
        Optional<Violation> v = checkOperation(role, request);
        v = v.isPresent() ? v : writes.checkConditionalReferences(role, request);
        return v.isPresent() ? v : writes.checkReferencePins(role, request);
      }
      case BATCH, TRANSACTION -> {
        return checkBundle(role, kind, request);
      }
    }
    throw new AssertionError("unreachable: " + interaction);
  }

  private Optional<Violation> checkBundle(RolePolicy role, Principal.Kind kind, FhirRequest request) {
    Optional<Violation> first = Optional.empty();
    for (FhirRequest.BundleEntry entry : request.entries()) {
      Optional<Violation> v = check(role, kind, entry.request(), 1);
      if (v.isPresent()) {
        Violation inEntry = v.get().inEntry(entry.index(), entry.request().describe());
        if (inEntry.always()) {
          return Optional.of(inEntry);
        }
        if (first.isEmpty()) {
          first = Optional.of(inEntry);
        }
      }
    }
    Optional<Violation> plain = checkInteraction(role, request.interaction());
    if (plain.isPresent()) {
      return plain;
    }
    int searches = 0;
    for (FhirRequest.BundleEntry entry : request.entries()) {
      FhirRequest r = entry.request();
      if (CountOnly.isCountOnly(r) && !patients.pinsEveryMatch(r)) {
        return Optional.of(Violation.forbidden("search-count-in-bundle", "Bundle entry " + entry.index() + " ("
            + r.describe() + ") is a count over patients the request does not name; send it on its own"));
      }
      if (r.interaction().isSearch() || r.interaction().isHistory()) {
        searches++;
      }
    }
    if (searches > role.search().maxCount()) {
      return Optional.of(Violation.tooCostly("batch-max-count", "A " + request.interaction().code() + " of " + searches
          + " searches is more than role " + role.name() + " allows in one request (search.max-count "
          + role.search().maxCount() + ", shared by the searches of a bundle)"));
    }
    int max = role.batch().maxEntries();
    if (request.entries().size() > max) {
      return Optional.of(Violation.tooCostly("batch-max-entries", "A " + request.interaction().code() + " of "
          + request.entries().size() + " entries is more than role " + role.name() + " allows (" + max + ")"));
    }
    return first;
  }

  private static Optional<Violation> checkOperation(RolePolicy role, FhirRequest request) {
    Optional<Violation> plain = checkPlain(role, request);
    if (plain.isPresent()) {
      return plain;
    }
    String op = request.operation();
    if (op == null || !role.operations().contains(op)) {
      return forbid("operations", "Operation $" + op + " is not allowed for role " + role.name());
    }
    if (op.equals("export") && !role.resourceTypes().contains(RolePolicy.ANY_TYPE)) {
      List<String> types = new ArrayList<>();
      for (QueryParam p : request.paramsNamed("_type")) {
        for (String t : p.orValues()) {
          types.add(t.trim());
        }
      }
      if (types.isEmpty()) {
        return forbid("resource-types", "$export without _type exports every resource type; role " + role.name()
            + " may access only some (name them with _type)");
      }
      for (String t : types) {
        if (!role.allowsType(t)) {
          return forbid("resource-types", "Role " + role.name() + " may not access " + t + " resources ($export _type)");
        }
      }
    }
    return Optional.empty();
  }

  private static Optional<Violation> everyType(RolePolicy role, String what) {
    if (!role.resourceTypes().contains(RolePolicy.ANY_TYPE)) {
      return forbid("resource-types", "Interaction " + what + " returns every resource type; role " + role.name()
          + " may access only some");
    }
    return Optional.empty();
  }

  private static Optional<Violation> checkInteraction(RolePolicy role, Interaction interaction) {
    if (!role.interactions().contains(interaction)) {
      return forbid("interactions", "Interaction " + interaction.code() + " is not allowed for role " + role.name());
    }
    return Optional.empty();
  }

  private static Optional<Violation> checkPlain(RolePolicy role, FhirRequest request) {
    Optional<Violation> v = checkInteraction(role, request.interaction());
    if (v.isPresent()) {
      return v;
    }
    if (!role.allowsType(request.resourceType())) {
      return forbid("resource-types", "Role " + role.name() + " may not access " + request.resourceType() + " resources");
    }
    return Optional.empty();
  }

  /**
   * Rewrites an allowed request: lowers {@code _count} to the role's cap (and sets it when absent),
   * in every entry of a bundle too. Every rewrite is noted for the audit record ({@code prefix}
   * names the bundle entry).
   */
  private FhirRequest rewrite(RolePolicy role, FhirRequest request, List<String> notes, String prefix) {
    return rewrite(role, request, notes, prefix, role.search().maxCount());
  }

  private FhirRequest rewrite(RolePolicy role, FhirRequest request, List<String> notes, String prefix, int cap) {
    Interaction i = request.interaction();
    if (i == Interaction.BATCH || i == Interaction.TRANSACTION) {
      List<FhirRequest.BundleEntry> entries = new ArrayList<>(request.entries().size());
      boolean changed = false;
      long searches = request.entries().stream()
          .filter(e -> e.request().interaction().isSearch() || e.request().interaction().isHistory()).count();
      // The searches of one bundle share the role's max-count: one request never pages more than it.
      int share = (int) Math.max(1, cap / Math.max(1, searches));
      for (FhirRequest.BundleEntry e : request.entries()) {
        FhirRequest r = rewrite(role, e.request(), notes, prefix + "entry " + e.index() + ": ", share);
        changed |= r != e.request();
        entries.add(new FhirRequest.BundleEntry(e.index(), e.fullUrl(), r, e.resourceJson()));
      }
      return changed ? request.withEntries(entries) : request;
    }
    if (request.operation() != null && CountOnly.isCountOnly(request)) {
      return CountOnly.bySummary(request, notes, prefix);
    }
    if (!(i.isSearch() || i.isHistory()) || i == Interaction.PAGE) {
      return request;
    }
    if (i.isSearch() && !search.isSelective(request) && role.search().unselective() == SearchRules.Unselective.CAP) {
      notes.add(prefix + "unselective search allowed under the caps (search.unselective: cap)");
    }
    List<QueryParam> params = new ArrayList<>(request.params().size() + 1);
    boolean seen = false;
    boolean changed = false;
    for (QueryParam p : request.params()) {
      if (p.name().equals("_count")) {
        seen = true;
        int asked = CountOnly.parseCount(p.value());
        if (asked < 0 || asked > cap) {
          notes.add(prefix + "_count " + p.value() + " lowered to " + cap);
          params.add(new QueryParam("_count", Integer.toString(cap)));
          changed = true;
          continue;
        }
        if (!Integer.toString(asked).equals(p.value())) {
          // the EPR gets the number fhirwall judged, in one spelling (HAPI FHIR reads "00" as 0, refuses " 5")
          params.add(new QueryParam("_count", Integer.toString(asked)));
          changed = true;
          continue;
        }
      }
      params.add(p);
    }
    if (!seen) {
      notes.add(prefix + "_count set to " + cap);
      params.add(new QueryParam("_count", Integer.toString(cap)));
      changed = true;
    }
    return changed ? request.withParams(params) : request;
  }


}
