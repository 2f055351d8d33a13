package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.quota.PatientWindow;

/**
 * The policy's answer for one request. The decision is kept apart from its effect: exactly one
 * place in {@code server} turns it into an HTTP response.
 */
public sealed interface Decision {

  /**
   * Forward {@code request} (possibly rewritten by the policy, e.g. a lowered {@code _count}) and
   * charge the patients of the response to {@code account} under {@code windows}.
   *
   * @param notes patient-free remarks for the audit record (rewrites, report-only findings)
   * @param wouldRefuse in report-only mode, the refusal an enforcing policy would have sent
   */
  record Allow(
      RolePolicy role,
      FhirRequest request,
      String account,
      List<PatientWindow> windows,
      boolean breakGlass,
      List<String> notes,
      @org.jspecify.annotations.Nullable Refusal wouldRefuse) implements Decision {
    public Allow {
      requireNonNull(role, "role");
      requireNonNull(request, "request");
      requireNonNull(account, "account");
      windows = List.copyOf(windows);
      notes = List.copyOf(notes);
    }

    public boolean reportOnly() {
      return role.mode() == Mode.REPORT_ONLY;
    }
  }

  /** Refuse; {@code rule} names the policy rule that refused (for audit). */
  record Deny(Refusal refusal, String rule) implements Decision {
    public Deny {
      requireNonNull(refusal, "refusal");
      requireNonNull(rule, "rule");
    }
  }

  /** Refuse for now: the account is locked or over a rate; it may come back after {@code retryAfter}. */
  record Throttle(Duration retryAfter, String reason) implements Decision {
    public Throttle {
      requireNonNull(retryAfter, "retryAfter");
      requireNonNull(reason, "reason");
    }
  }
}
