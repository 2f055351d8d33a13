package org.fhirwall.fhir;

import static java.util.Objects.requireNonNull;

/**
 * What {@link RequestParser#parse} made of a raw request: a classified {@link FhirRequest}, or the
 * refusal to send instead. Nothing in between: a request that is not understood is refused.
 */
public sealed interface ParseResult {

  /** The request was understood and is in canonical form. */
  record Parsed(FhirRequest request) implements ParseResult {
    public Parsed {
      requireNonNull(request, "request");
    }
  }

  /** The request was refused before any stage after {@code fhir} saw it. */
  record Rejected(Refusal refusal) implements ParseResult {
    public Rejected {
      requireNonNull(refusal, "refusal");
    }
  }
}
