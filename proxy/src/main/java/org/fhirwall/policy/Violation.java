package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

/**
 * A rule a request breaks, as the {@link Decision.Deny} it becomes.
 *
 * @param always whether the rule is enforced even by a report-only role (closed channels)
 */
record Violation(Decision.Deny deny, boolean always) {
  Violation {
    requireNonNull(deny, "deny");
  }

  static Violation forbidden(String rule, String message) {
    return new Violation(new Decision.Deny(Decision.Kind.FORBIDDEN, rule, message), false);
  }

  static Violation tooCostly(String rule, String message) {
    return new Violation(new Decision.Deny(Decision.Kind.TOO_COSTLY, rule, message), false);
  }

  static Violation alwaysForbidden(String rule, String message) {
    return new Violation(new Decision.Deny(Decision.Kind.FORBIDDEN, rule, message), true);
  }

  String rule() {
    return deny.rule();
  }

  /** This violation with its reason prefixed by {@code what} (which names where in the request it was found). */
  Violation about(String what) {
    return new Violation(new Decision.Deny(deny.kind(), deny.rule(), what + deny.reason()), always);
  }

  /** This violation as found in entry {@code index} of a bundle: the reason names the entry. */
  Violation inEntry(int index, String description) {
    return new Violation(new Decision.Deny(deny.kind(), deny.rule(),
        "Bundle entry " + index + " (" + description + ") refused: " + deny.reason()), always);
  }
}
