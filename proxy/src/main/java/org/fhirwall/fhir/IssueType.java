package org.fhirwall.fhir;

/** The OperationOutcome issue codes fhirwall uses (FHIR value set {@code issue-type}). */
public enum IssueType {
  INVALID("invalid"),
  STRUCTURE("structure"),
  REQUIRED("required"),
  VALUE("value"),
  SECURITY("security"),
  LOGIN("login"),
  UNKNOWN("unknown"),
  EXPIRED("expired"),
  FORBIDDEN("forbidden"),
  SUPPRESSED("suppressed"),
  PROCESSING("processing"),
  CONFLICT("conflict"),
  NOT_SUPPORTED("not-supported"),
  NOT_FOUND("not-found"),
  TOO_LONG("too-long"),
  TOO_COSTLY("too-costly"),
  THROTTLED("throttled"),
  TRANSIENT("transient"),
  LOCK_ERROR("lock-error"),
  EXCEPTION("exception"),
  TIMEOUT("timeout"),
  INCOMPLETE("incomplete");

  private final String code;

  IssueType(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }
}
