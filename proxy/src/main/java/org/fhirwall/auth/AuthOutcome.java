package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import org.fhirwall.fhir.Refusal;

/** The result of checking a request's credentials: a principal, or a refusal (401, or 503 when no key can be had). */
public sealed interface AuthOutcome {

  record Authenticated(Principal principal) implements AuthOutcome {
    public Authenticated {
      requireNonNull(principal, "principal");
    }
  }

  record Refused(Refusal refusal) implements AuthOutcome {
    public Refused {
      requireNonNull(refusal, "refusal");
    }
  }
}
