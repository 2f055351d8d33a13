package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
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
 *       the token has no {@code auth_time} (Keycloak's password grant, for one).
 *   <li>{@code sessionId}: {@code sid}, null when absent.
 *   <li>{@code patientContext}: a SMART launch {@code patient}, null when absent.
 *   <li>{@code tokenId}: {@code jti} when present, else a hash of the token; never the token itself.
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
    @Nullable String fhirUser) {

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
  }

  /** A principal whose token carries no {@code fhirUser} claim. */
  public Principal(Kind kind, String issuer, String subject, @Nullable String username, String clientId, Set<String> roles,
      @Nullable String acr, Set<String> amr, @Nullable Instant authTime, @Nullable String sessionId, Set<String> scopes,
      @Nullable String patientContext, Instant expiresAt, String tokenId) {
    this(kind, issuer, subject, username, clientId, roles, acr, amr, authTime, sessionId, scopes, patientContext, expiresAt,
        tokenId, null);
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
   * and client, so a link replayed by anybody else (another user, session or app) opens nothing.
   */
  public String pagingBinding() {
    return issuer + "\n" + subject + "\n" + (sessionId == null ? "" : sessionId) + "\n" + clientId;
  }

  /** A name for humans (audit, operator API): the username when known, else the subject. */
  public String displayName() {
    return username != null ? username : subject;
  }
}
