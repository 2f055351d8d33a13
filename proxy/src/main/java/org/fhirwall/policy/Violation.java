package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;

/**
 * A rule a request breaks: the refusal to send and the rule's name for the audit record.
 *
 * @param always whether the rule is enforced even by a report-only role (closed channels)
 */
record Violation(Refusal refusal, String rule, boolean always) {
  Violation {
    requireNonNull(refusal, "refusal");
    requireNonNull(rule, "rule");
  }

  static Violation forbidden(String rule, String message) {
    return new Violation(Refusal.of(403, IssueType.FORBIDDEN, message), rule, false);
  }

  static Violation tooCostly(String rule, String message) {
    return new Violation(Refusal.of(403, IssueType.TOO_COSTLY, message), rule, false);
  }

  static Violation alwaysForbidden(String rule, String message) {
    return new Violation(Refusal.of(403, IssueType.FORBIDDEN, message), rule, true);
  }

  /** This violation as found in entry {@code index} of a bundle: the diagnostics name the entry. */
  Violation inEntry(int index, String description) {
    Refusal r = refusal;
    return new Violation(Refusal.of(r.status(), r.code(),
        "Bundle entry " + index + " (" + description + ") refused: " + r.diagnostics()), rule, always);
  }
}
