package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.fhirwall.auth.StepUp;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.quota.ChargeRequest;
import org.fhirwall.quota.PatientWindow;
import org.jspecify.annotations.Nullable;

/**
 * The policy's answer for one request: a plain value, without HTTP. The {@code respond} stage is
 * the one place that turns a {@link Deny} into a status and an OperationOutcome.
 */
public sealed interface Decision {

  /**
   * Forward {@code request} (possibly rewritten by the policy, e.g. a lowered {@code _count}) and
   * charge the patients of the response to {@code account}.
   *
   * @param limits the windows whose maxima are the ceiling for this request: the role's, or under
   *     break-glass the break-glass windows (which replace them, never add to them)
   * @param breakGlass true when the request carries a break-glass reason (every such response is
   *     alerted on)
   * @param notes patient-free remarks for the audit record (rewrites, report-only findings)
   * @param countOnly the client asked for a count only, and fhirwall forwards the search for the
   *     matching resources instead: it charges their patients and answers with the count alone
   * @param pinned every resource the request can match belongs to a patient it names (so a count
   *     or a total discloses nothing about anyone else); else a search's total is released only
   *     with its last page
   */
  record Allow(RolePolicy role, FhirRequest request, String account, List<PatientWindow> limits, boolean breakGlass,
      List<String> notes, boolean countOnly, boolean pinned) implements Decision {
    public Allow {
      requireNonNull(role, "role");
      requireNonNull(request, "request");
      requireNonNull(account, "account");
      limits = List.copyOf(limits);
      notes = List.copyOf(notes);
    }

    public boolean reportOnly() {
      return role.mode() == Mode.REPORT_ONLY;
    }

    /**
     * The unexplained budget of this request for {@code unexplained} (the patients no care
     * relationship explains): the role's {@code unexplained-limits}, enforced unless the role or the
     * budget is report-only, and never under break-glass (recorded, not refused: break-glass exists
     * for patients outside one's relationships); {@code NONE} when the role has no such budget.
     */
    public ChargeRequest.Unexplained unexplained(Set<String> unexplained) {
      if (!role.chargesUnexplained()) {
        return ChargeRequest.Unexplained.NONE;
      }
      Set<Duration> lengths = new TreeSet<>();
      role.unexplainedLimits().forEach(w -> lengths.add(w.length()));
      return new ChargeRequest.Unexplained(role.unexplainedLimits(), lengths, unexplained,
          role.enforcesUnexplained() && !breakGlass);
    }

    /**
     * The window lengths this account's disclosures are recorded under: every window of the role
     * and of its break-glass allowance, so that a later request with either ceiling sees every
     * patient disclosed before, whichever ceiling applied then.
     */
    public Set<Duration> tracked() {
      Set<Duration> lengths = new TreeSet<>();
      role.patientLimits().forEach(w -> lengths.add(w.length()));
      role.breakGlass().patientLimits().forEach(w -> lengths.add(w.length()));
      return lengths;
    }
  }

  /**
   * Refuse. {@code rule} names the policy rule (for audit), {@code reason} explains it to the
   * caller (patient-free), {@code kind} says what sort of refusal it is. A {@link Kind#STEP_UP}
   * refusal carries the {@code shortfall} its challenge is built from.
   */
  record Deny(Kind kind, String rule, String reason, StepUp.@Nullable Shortfall shortfall,
      org.fhirwall.fhir.@Nullable Refusal challenge) implements Decision {
    public Deny {
      requireNonNull(kind, "kind");
      requireNonNull(rule, "rule");
      requireNonNull(reason, "reason");
      if ((kind == Kind.STEP_UP) != (shortfall != null)) {
        throw new IllegalArgumentException("shortfall: " + shortfall + " (expected: exactly with kind STEP_UP)");
      }
      if ((kind == Kind.UNBOUND_TOKEN) != (challenge != null)) {
        throw new IllegalArgumentException("challenge: " + challenge + " (expected: exactly with kind UNBOUND_TOKEN)");
      }
    }

    public Deny(Kind kind, String rule, String reason, StepUp.@Nullable Shortfall shortfall) {
      this(kind, rule, reason, shortfall, null);
    }

    public Deny(Kind kind, String rule, String reason) {
      this(kind, rule, reason, null, null);
    }

    /** A bearer token where the role needs a sender-constrained one: the 401 and challenge to send. */
    static Deny unbound(String rule, org.fhirwall.fhir.Refusal challenge) {
      return new Deny(Kind.UNBOUND_TOKEN, rule, challenge.diagnostics(), null, challenge);
    }

    static Deny stepUp(String rule, StepUp.Shortfall shortfall) {
      return new Deny(Kind.STEP_UP, rule, shortfall.diagnostics(), shortfall);
    }
  }

  /** What sort of refusal a {@link Deny} is. */
  enum Kind {
    /** The role may not do this. */
    FORBIDDEN,
    /** The request is allowed in kind but too costly as asked (too many entries, values, pages). */
    TOO_COSTLY,
    /** The request lacks something it needs (a break-glass reason). */
    INVALID,
    /** The principal must authenticate more strongly or more recently first. */
    STEP_UP,
    /** The role needs a token bound to a key (DPoP, certificate); this one is a bearer token. */
    UNBOUND_TOKEN
  }
}
