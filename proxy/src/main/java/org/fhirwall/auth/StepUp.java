package org.fhirwall.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;

/** Integration placeholder for the auth helper's StepUp (same contract); replaced on merge. */
public final class StepUp {
  private StepUp() {}

  public static Optional<Refusal> check(Principal p, AuthenticationStrength required, Instant now, String description) {
    boolean ok = (required.acceptedAcr().isEmpty() || (p.acr() != null && required.acceptedAcr().contains(p.acr())))
        && p.amr().containsAll(required.requiredAmr())
        && (required.anyAmr().isEmpty() || required.anyAmr().stream().anyMatch(p.amr()::contains));
    Duration maxAge = required.maxAge();
    boolean fresh = maxAge == null || (p.authTime() != null && !p.authTime().plus(maxAge).isBefore(now));
    if (ok && fresh) {
      return Optional.empty();
    }
    return Optional.of(new Refusal(401, IssueType.LOGIN, description, Map.of("WWW-Authenticate",
        "Bearer realm=\"fhirwall\", error=\"insufficient_user_authentication\", error_description=\"" + description + "\""), false));
  }
}
