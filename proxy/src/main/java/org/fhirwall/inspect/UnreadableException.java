package org.fhirwall.inspect;

/** Unwinds an inspection that cannot read its body; {@link #reason()} carries no patient data. */
final class UnreadableException extends Exception {
  private static final long serialVersionUID = 1L;

  UnreadableException(String reason) {
    super(reason, null, false, false);
  }

  String reason() {
    return getMessage();
  }
}
