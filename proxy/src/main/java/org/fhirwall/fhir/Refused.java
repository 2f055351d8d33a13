package org.fhirwall.fhir;

/**
 * Internal signal of the parser: the request is refused with this {@link Refusal}. Never escapes
 * the package's public methods. Carries no stack trace (it is control flow, and cheap).
 */
final class Refused extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Refusal refusal;

  Refused(Refusal refusal) {
    super(refusal.diagnostics(), null, false, false);
    this.refusal = refusal;
  }

  Refusal refusal() {
    return refusal;
  }

  static Refused of(int status, IssueType code, String diagnostics) {
    return new Refused(Refusal.of(status, code, diagnostics));
  }

  static Refused invalid(String diagnostics) {
    return of(400, IssueType.INVALID, diagnostics);
  }
}
