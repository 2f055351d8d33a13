package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.jspecify.annotations.Nullable;

/**
 * Whether a principal authenticated strongly and recently enough (RFC 9470, OAuth 2.0 Step Up
 * Authentication Challenge), judged only on the evidence its token carries.
 *
 * <p>For a {@link Principal.Kind#USER}: {@code acr} must be one of the accepted values (when any
 * are given), every required {@code amr} must be present and at least one of the "any" methods
 * (when any are given). With a {@code maxAge}, {@code auth_time} is required (a token without it
 * fails, closed; so does one whose {@code auth_time} lies in the future beyond the clock skew: the
 * authenticator maps it to none) and {@code now - auth_time} must not exceed it. A shortfall is a 401
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
   * Why a principal falls short of a requirement: what to tell it, and what to put in the RFC 9470
   * challenge so its client can ask the IdP for exactly that.
   *
   * @param description the human-readable reason (already safe for a quoted header value)
   * @param shortfalls what is missing, patient-free (for the OperationOutcome and the audit)
   * @param acrValues the acceptable acr values, empty when acr was not required
   * @param maxAge set when the age of the login (or a missing {@code auth_time}) was the problem
   * @param service true when the principal is a service account: no user can step up, so the
   *     answer is a plain refusal (403), not a challenge
   */
  public record Shortfall(String description, List<String> shortfalls, Set<String> acrValues, @Nullable Duration maxAge,
      boolean service) {
    public Shortfall {
      requireNonNull(description, "description");
      shortfalls = List.copyOf(shortfalls);
      acrValues = Set.copyOf(acrValues);
    }

    /** The {@code WWW-Authenticate} value (RFC 9470 §3). */
    public String challenge() {
      StringBuilder header = new StringBuilder(Challenges.BARE)
          .append(", error=\"insufficient_user_authentication\", error_description=\"").append(description).append('"');
      if (!acrValues.isEmpty()) {
        header.append(", acr_values=\"").append(Challenges.quotable(String.join(" ", new TreeSet<>(acrValues)))).append('"');
      }
      if (maxAge != null) {
        header.append(", max_age=").append(maxAge.toSeconds());
      }
      return header.toString();
    }

    /** The diagnostics of the refusal: the description and what fell short. */
    public String diagnostics() {
      if (service) {
        return description + " (a service account cannot present user authentication)";
      }
      return description + " (" + String.join("; ", shortfalls) + ")";
    }

    /** The refusal this shortfall becomes: 401 with the challenge for a user, 403 for a service. */
    public Refusal refusal() {
      if (service) {
        return Refusal.of(403, IssueType.FORBIDDEN, diagnostics());
      }
      return new Refusal(401, IssueType.LOGIN, diagnostics(), Map.of(Challenges.HEADER, challenge()), false);
    }
  }

  /**
   * @param description the human-readable reason sent as {@code error_description} and in the
   *     OperationOutcome (for example "Role clinician requires a stronger or more recent
   *     authentication"); characters a quoted header value may not hold are replaced by {@code ?}
   * @return empty when {@code p} meets {@code required}, else what falls short
   */
  public static Optional<Shortfall> check(Principal p, AuthenticationStrength required, Instant now, String description) {
    requireNonNull(p, "p");
    requireNonNull(required, "required");
    requireNonNull(now, "now");
    requireNonNull(description, "description");
    if (p.kind() == Principal.Kind.SERVICE) {
      return required.requiresNothing()
          ? Optional.empty()
          : Optional.of(new Shortfall(Challenges.quotable(description), List.of("service account"), Set.of(), null, true));
    }
    List<String> shortfalls = new ArrayList<>();
    Set<String> acr = required.acr();
    if (acr != null && (p.acr() == null || !acr.contains(p.acr()))) {
      shortfalls.add("acr " + (p.acr() == null ? "missing" : "'" + Challenges.quotable(p.acr()) + "'")
          + (acr.isEmpty() ? ", and no acr satisfies every requirement" : ", expected one of " + new TreeSet<>(acr)));
    }
    if (!p.amr().containsAll(required.requiredAmr())) {
      TreeSet<String> missingAmr = new TreeSet<>(required.requiredAmr());
      missingAmr.removeAll(p.amr());
      shortfalls.add("amr lacks " + missingAmr);
    }
    for (Set<String> any : required.anyAmrOf()) {
      if (any.stream().noneMatch(p.amr()::contains)) {
        shortfalls.add("amr has none of " + new TreeSet<>(any));
      }
    }
    Duration maxAge = required.maxAge();
    boolean tooOld = false;
    if (maxAge != null) {
      Instant authTime = p.authTime();
      if (authTime == null) {
        tooOld = true;
        shortfalls.add("auth_time missing (or later than now), a login within " + maxAge.toSeconds() + " s is required");
      } else if (Duration.between(authTime, now).compareTo(maxAge) > 0) {
        tooOld = true;
        shortfalls.add("last login " + Duration.between(authTime, now).toSeconds() + " s ago, at most "
            + maxAge.toSeconds() + " s allowed");
      }
    }
    if (shortfalls.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Shortfall(Challenges.quotable(description), shortfalls, acr == null ? Set.of() : acr, tooOld ? maxAge : null, false));
  }
}
