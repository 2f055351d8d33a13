package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Arrays;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Who is asking, and how strongly they proved it: the claims of one fully verified access token.
 *
 * <ul>
 *   <li>{@code kind}: a person ({@link Kind#USER}) or a client acting for itself
 *       ({@link Kind#SERVICE}, client-credentials token, no user).
 *   <li>{@code subject}: the token's {@code sub}; with {@code issuer} it names the principal.
 *   <li>{@code clientId}: the authorised party ({@code azp}, else {@code client_id}).
 *   <li>{@code roles}: mapped roles (Keycloak realm and client roles by default).
 *   <li>{@code acr}, {@code amr}, {@code authTime}: the MFA evidence; {@code authTime} is null when
 *       the token has no {@code auth_time} (Keycloak's password grant, for one), or one later than
 *       the time it was verified by more than the clock skew (no evidence of a recent login).
 *   <li>{@code sessionId}: {@code sid}, null when absent.
 *   <li>{@code patientContext}: a SMART launch {@code patient}, null when absent.
 *   <li>{@code tokenId}: {@code jti} when present, else a hash of the token; never the token itself.
 *   <li>{@code confirmation}: the key the token is bound to ({@code cnf}: a DPoP key's thumbprint,
 *       a client certificate's), {@link Confirmation#NONE} for a bearer token. A principal with a
 *       confirmation was only made after the request proved possession of that key.
 *   <li>{@code fhirUser}: the SMART {@code fhirUser} claim ({@code Practitioner/123}, or an absolute
 *       URL ending so), null when absent: whose care relationships explain this principal's access.
 * </ul>
 */
public record Principal(
    Kind kind,
    String issuer,
    String subject,
    @Nullable String username,
    String clientId,
    Set<String> roles,
    @Nullable String acr,
    Set<String> amr,
    @Nullable Instant authTime,
    @Nullable String sessionId,
    Set<String> scopes,
    @Nullable String patientContext,
    Instant expiresAt,
    String tokenId,
    Confirmation confirmation,
    @Nullable String fhirUser) {

  /**
   * What a sender-constrained token is bound to (its {@code cnf} claim).
   *
   * @param jkt the DPoP key's JWK SHA-256 thumbprint (RFC 9449 §6), base64url; null when not DPoP-bound
   * @param x5t the client certificate's SHA-256 thumbprint ({@code x5t#S256}, RFC 8705 §3.1),
   *     base64url; null when not certificate-bound
   */
  public record Confirmation(@Nullable String jkt, @Nullable String x5t) {
    public static final Confirmation NONE = new Confirmation(null, null);

    public boolean dpop() {
      return jkt != null;
    }

    public boolean mtls() {
      return x5t != null;
    }
  }

  /** A bearer token's principal (no confirmation, no {@code fhirUser}). */
  public Principal(Kind kind, String issuer, String subject, @Nullable String username, String clientId, Set<String> roles,
      @Nullable String acr, Set<String> amr, @Nullable Instant authTime, @Nullable String sessionId, Set<String> scopes,
      @Nullable String patientContext, Instant expiresAt, String tokenId) {
    this(kind, issuer, subject, username, clientId, roles, acr, amr, authTime, sessionId, scopes, patientContext, expiresAt,
        tokenId, Confirmation.NONE, null);
  }

  /** A principal whose token carries no {@code fhirUser} claim. */
  public Principal(Kind kind, String issuer, String subject, @Nullable String username, String clientId, Set<String> roles,
      @Nullable String acr, Set<String> amr, @Nullable Instant authTime, @Nullable String sessionId, Set<String> scopes,
      @Nullable String patientContext, Instant expiresAt, String tokenId, Confirmation confirmation) {
    this(kind, issuer, subject, username, clientId, roles, acr, amr, authTime, sessionId, scopes, patientContext, expiresAt,
        tokenId, confirmation, null);
  }

  /** Whether a person or a client acting for itself holds the token. */
  public enum Kind {
    USER,
    SERVICE
  }

  public Principal {
    requireNonNull(kind, "kind");
    requireNonNull(issuer, "issuer");
    requireNonNull(subject, "subject");
    requireNonNull(clientId, "clientId");
    roles = Set.copyOf(roles);
    amr = Set.copyOf(amr);
    scopes = Set.copyOf(scopes);
    requireNonNull(expiresAt, "expiresAt");
    requireNonNull(tokenId, "tokenId");
    requireNonNull(confirmation, "confirmation");
  }

  /** A bearer token's principal with a {@code fhirUser} claim. */
  public Principal(Kind kind, String issuer, String subject, @Nullable String username, String clientId, Set<String> roles,
      @Nullable String acr, Set<String> amr, @Nullable Instant authTime, @Nullable String sessionId, Set<String> scopes,
      @Nullable String patientContext, Instant expiresAt, String tokenId, @Nullable String fhirUser) {
    this(kind, issuer, subject, username, clientId, roles, acr, amr, authTime, sessionId, scopes, patientContext, expiresAt,
        tokenId, Confirmation.NONE, fhirUser);
  }

  /**
   * The key under which this principal's patients, rates and locks are kept: issuer and subject,
   * so every session and token of the same person shares one account.
   */
  public String accountKey() {
    return issuer + "|" + subject;
  }

  /**
   * What fhirwall's paging links issued to this principal are bound to: issuer, subject, session
   * and client, so a link replayed by anybody else (another user, session or app) opens nothing;
   * the roles and scopes the link was issued under, so a link made under a wider role or wider
   * scopes opens nothing once the token carries narrower ones (the search is run again, under what
   * the token grants now); and for a sender-constrained token its key too, so a link copied with the
   * token is worth as little as the token without the key.
   */
  public String pagingBinding() {
    String base = issuer + "\n" + subject + "\n" + (sessionId == null ? "" : sessionId) + "\n" + clientId
        + "\nroles=" + sorted(roles) + "\nscopes=" + sorted(scopes);
    if (confirmation.jkt() == null && confirmation.x5t() == null) {
      return base;
    }
    return base + "\njkt=" + (confirmation.jkt() == null ? "" : confirmation.jkt())
        + "\nx5t=" + (confirmation.x5t() == null ? "" : confirmation.x5t());
  }

  /** The members in one order whatever the set's (an immutable set's order differs from one JVM to the next). */
  private static String sorted(Set<String> values) {
    if (values.size() < 2) {
      return values.isEmpty() ? "" : values.iterator().next();
    }
    String[] a = values.toArray(new String[0]);
    Arrays.sort(a);
    return String.join(" ", a);
  }

  /** A name for humans (audit, operator API): the username when known, else the subject. */
  public String displayName() {
    return username != null ? username : subject;
  }
}
