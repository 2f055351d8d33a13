package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;

/**
 * Whether a principal authenticated strongly and recently enough (RFC 9470, OAuth 2.0 Step Up
 * Authentication Challenge), judged only on the evidence its token carries.
 *
 * <p>For a {@link Principal.Kind#USER}: {@code acr} must be one of the accepted values (when any
 * are given), every required {@code amr} must be present and at least one of the "any" methods
 * (when any are given). With a {@code maxAge}, {@code auth_time} is required (a token without it
 * fails, closed) and {@code now - auth_time} must not exceed it. A shortfall is a 401
 * ({@link IssueType#LOGIN}) with
 *
 * <pre>WWW-Authenticate: Bearer realm="fhirwall", error="insufficient_user_authentication",
 *     error_description="&lt;description&gt;", acr_values="&lt;accepted acr, space-separated&gt;", max_age=&lt;seconds&gt;</pre>
 *
 * where {@code acr_values} is left out when no acr is required and {@code max_age} is only sent
 * when the age (or a missing {@code auth_time}) was the problem. The client can take both
 * straight into its next authorization request.
 *
 * <p>A {@link Principal.Kind#SERVICE} has no user who could authenticate again: it passes only a
 * requirement that {@link AuthenticationStrength#requiresNothing() requires nothing}, otherwise it
 * gets a 403 ({@link IssueType#FORBIDDEN}, no challenge). What a service may do is governed by its
 * roles and the role policy's principal kind, not by authentication strength.
 *
 * <p>Pure function; thread-safe.
 */
public final class StepUp {
  private StepUp() {}

  /**
   * @param description the human-readable reason sent as {@code error_description} and in the
   *     OperationOutcome (for example "Role clinician requires a stronger or more recent
   *     authentication"); characters a quoted header value may not hold are replaced by {@code ?}
   * @return empty when {@code p} meets {@code required}, else the refusal to send
   */
  public static Optional<Refusal> check(Principal p, AuthenticationStrength required, Instant now, String description) {
    requireNonNull(p, "p");
    requireNonNull(required, "required");
    requireNonNull(now, "now");
    requireNonNull(description, "description");
    if (p.kind() == Principal.Kind.SERVICE) {
      return required.requiresNothing()
          ? Optional.empty()
          : Optional.of(Refusal.of(403, IssueType.FORBIDDEN, Challenges.quotable(description)
              + " (a service account cannot present user authentication)"));
    }
    List<String> shortfalls = new ArrayList<>();
    if (!required.acceptedAcr().isEmpty() && (p.acr() == null || !required.acceptedAcr().contains(p.acr()))) {
      shortfalls.add("acr " + (p.acr() == null ? "missing" : "'" + Challenges.quotable(p.acr()) + "'") + ", expected one of "
          + new TreeSet<>(required.acceptedAcr()));
    }
    TreeSet<String> missingAmr = new TreeSet<>(required.requiredAmr());
    missingAmr.removeAll(p.amr());
    if (!missingAmr.isEmpty()) {
      shortfalls.add("amr lacks " + missingAmr);
    }
    if (!required.anyAmr().isEmpty() && required.anyAmr().stream().noneMatch(p.amr()::contains)) {
      shortfalls.add("amr has none of " + new TreeSet<>(required.anyAmr()));
    }
    Duration maxAge = required.maxAge();
    boolean tooOld = false;
    if (maxAge != null) {
      Instant authTime = p.authTime();
      if (authTime == null) {
        tooOld = true;
        shortfalls.add("auth_time missing, a login within " + maxAge.toSeconds() + " s is required");
      } else if (Duration.between(authTime, now).compareTo(maxAge) > 0) {
        tooOld = true;
        shortfalls.add("last login " + Duration.between(authTime, now).toSeconds() + " s ago, at most "
            + maxAge.toSeconds() + " s allowed");
      }
    }
    if (shortfalls.isEmpty()) {
      return Optional.empty();
    }
    String d = Challenges.quotable(description);
    StringBuilder header = new StringBuilder(Challenges.BARE)
        .append(", error=\"insufficient_user_authentication\", error_description=\"").append(d).append('"');
    if (!required.acceptedAcr().isEmpty()) {
      header.append(", acr_values=\"").append(Challenges.quotable(String.join(" ", new TreeSet<>(required.acceptedAcr())))).append('"');
    }
    if (tooOld) {
      header.append(", max_age=").append(maxAge.toSeconds());
    }
    return Optional.of(new Refusal(401, IssueType.LOGIN, d + " (" + String.join("; ", shortfalls) + ")",
        Map.of(Challenges.HEADER, header.toString()), false));
  }
}
