package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.fhirwall.auth.AuthenticationStrength;
import org.fhirwall.auth.Principal;
import org.fhirwall.auth.StepUp;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.QueryParam;
import org.fhirwall.fhir.Refusal;
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
 * {@link Decision.Allow} carrying the refusal an enforcing role would have sent; authentication
 * strength and the channels closed to interactive users ({@link ClosedChannels}) are never
 * report-only (a password alone never opens data).
 */
public final class PolicyEngine {

  private final PolicySet policies;
  private final SearchCheck search;

  public PolicyEngine(PolicySet policies) {
    this.policies = requireNonNull(policies, "policies");
    this.search = new SearchCheck(PatientCriteria.R4);
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
      return new Decision.Deny(Refusal.of(403, IssueType.FORBIDDEN,
          "No fhirwall role policy accepts this " + kindName(principal) + " (roles: "
              + String.join(", ", principal.roles().stream().sorted().toList()) + ")"), "no-role-policy");
    }
    RolePolicy role = selected.get();
    boolean breakGlass = breakGlassReason != null;
    if (breakGlass && !role.breakGlass().enabled()) {
      return new Decision.Deny(Refusal.of(403, IssueType.FORBIDDEN,
          "Break-glass access is not allowed for role " + role.name()), "break-glass-not-allowed");
    }
    if (breakGlass && breakGlassReason.isBlank()) {
      return new Decision.Deny(Refusal.of(400, IssueType.REQUIRED,
          "Break-glass access needs a reason (expected: a non-empty reason header)"), "break-glass-no-reason");
    }

    AuthenticationStrength strength = breakGlass
        ? role.authentication().and(role.breakGlass().authentication())
        : role.authentication();
    if (principal.kind() == Principal.Kind.USER) {
      Optional<Refusal> stepUp = StepUp.check(principal, strength, now,
          (breakGlass ? "Break-glass access" : "Role " + role.name()) + " requires a stronger or more recent authentication");
      if (stepUp.isPresent()) {
        return new Decision.Deny(stepUp.get(), "authentication-strength");
      }
    }

    if (principal.kind() == Principal.Kind.USER && !role.operationAuthentication().isEmpty()) {
      for (String op : operations(request, new java.util.LinkedHashSet<>())) {
        AuthenticationStrength sensitive = role.operationAuthentication().get(op);
        if (sensitive != null) {
          Optional<Refusal> stepUp = StepUp.check(principal, strength.and(sensitive), now,
              "$" + op + " requires a stronger or more recent authentication for role " + role.name());
          if (stepUp.isPresent()) {
            return new Decision.Deny(stepUp.get(), "authentication-strength:" + op);
          }
        }
      }
    }

    List<String> notes = new ArrayList<>();
    Optional<Violation> violation = check(role, principal.kind(), request, pageNumber);
    FhirRequest forwarded = rewrite(role, request, notes, "");
    List<PatientWindow> windows = breakGlass ? role.breakGlass().patientLimits() : role.patientLimits();
    String account = breakGlass ? principal.accountKey() + "#break-glass" : principal.accountKey();
    if (violation.isPresent()) {
      Violation v = violation.get();
      if (role.mode() == Mode.ENFORCE || v.always()) {
        return new Decision.Deny(v.refusal(), v.rule());
      }
      notes.add("report-only: would refuse (" + v.rule() + ")");
      return new Decision.Allow(role, forwarded, account, windows, breakGlass, notes, v.refusal());
    }
    return new Decision.Allow(role, forwarded, account, windows, breakGlass, notes, null);
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
      case READ, VREAD, UPDATE, PATCH, DELETE, CREATE, HISTORY_INSTANCE, HISTORY_TYPE, CAPABILITIES -> {
        return checkPlain(role, request);
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
        return checkOperation(role, request);
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
  private static FhirRequest rewrite(RolePolicy role, FhirRequest request, List<String> notes, String prefix) {
    Interaction i = request.interaction();
    if (i == Interaction.BATCH || i == Interaction.TRANSACTION) {
      List<FhirRequest.BundleEntry> entries = new ArrayList<>(request.entries().size());
      boolean changed = false;
      for (FhirRequest.BundleEntry e : request.entries()) {
        FhirRequest r = rewrite(role, e.request(), notes, prefix + "entry " + e.index() + ": ");
        changed |= r != e.request();
        entries.add(new FhirRequest.BundleEntry(e.index(), e.fullUrl(), r, e.resourceJson()));
      }
      return changed ? request.withEntries(entries) : request;
    }
    if (!(i.isSearch() || i.isHistory()) || i == Interaction.PAGE) {
      return request;
    }
    if (i.isSearch() && !SearchCheck.isSelective(request) && role.search().unselective() == SearchRules.Unselective.CAP) {
      notes.add(prefix + "unselective search allowed under the caps (search.unselective: cap)");
    }
    int cap = role.search().maxCount();
    List<QueryParam> params = new ArrayList<>(request.params().size() + 1);
    boolean seen = false;
    boolean changed = false;
    for (QueryParam p : request.params()) {
      if (p.name().equals("_count")) {
        seen = true;
        int asked = parseCount(p.value());
        if (asked < 0 || asked > cap) {
          notes.add(prefix + "_count " + p.value() + " lowered to " + cap);
          params.add(new QueryParam("_count", Integer.toString(cap)));
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

  private static int parseCount(String v) {
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
