package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Turns the claims of a verified token into a {@link Principal}. Immutable and thread-safe.
 *
 * <p>Mapping: {@code sub} → subject; the username claim path → username; {@code azp} (else
 * {@code client_id}) → clientId; every role claim path → roles (deduplicated); {@code acr} (a
 * string) → acr; {@code amr} (an array of strings or one string) → amr; {@code auth_time} →
 * authTime; {@code sid} → sessionId; {@code scope} (space-separated; else {@code scp}, array or
 * string) → scopes; SMART {@code patient} → patientContext; SMART {@code fhirUser} → fhirUser;
 * {@code exp} → expiresAt; {@code jti} (else {@code sha256:} and the token's hash) → tokenId;
 * {@code cnf} → confirmation.
 *
 * <p>Service or user: a token is a {@link Principal.Kind#SERVICE} token only when it belongs to no
 * login session (no {@code sid}, no {@code session_state}) and names its own client as the user:
 * either the username is {@code service-account-<client id>} (Keycloak's client-credentials
 * tokens) or {@code sub} equals the client id (RFC 9068 §2.2). Everything else is a
 * {@link Principal.Kind#USER}, who must then show MFA evidence; mistaking a service for a user
 * fails closed, the reverse cannot happen without the IdP naming the client as the subject.
 * (A Keycloak client with "use refresh tokens for client credentials" on gets session-bound
 * service tokens, which are treated as users.)
 */
final class PrincipalMapper {
  static final String KEYCLOAK_SERVICE_PREFIX = "service-account-";

  private final List<ClaimPath> roleClaims;
  private final ClaimPath usernameClaim;
  private final Duration clockSkew;

  PrincipalMapper(AuthSettings settings) {
    requireNonNull(settings, "settings");
    this.roleClaims = settings.roleClaims().stream().map(ClaimPath::parse).toList();
    this.usernameClaim = ClaimPath.parse(settings.usernameClaim());
    this.clockSkew = settings.clockSkew();
  }

  /**
   * @param now the time the token's {@code auth_time} is judged against: one later than {@code now}
   *     by more than the clock skew ({@code iat} and {@code nbf} are held to the same) is no login, and
   *     maps to no auth time (a role's {@code max-age} then fails closed, as for a token without one);
   *     see {@link #droppedAuthTime}. So does one later than the token's own {@code iat} by more than the
   *     skew: a token is issued after the login it attests, never before
   */
  Principal map(TokenReader.Unverified token, Instant now) throws TokenReader.Rejected {
    JsonNode claims = token.claims();
    String clientId = token.clientId();
    String issuer = requireNonNull(TokenReader.text(claims, "iss"), "iss");
    String subject = requireNonNull(TokenReader.text(claims, "sub"), "sub");
    Instant expiresAt = requireNonNull(TokenReader.time(claims, "exp"), "exp");
    String username = null;
    for (JsonNode n : usernameClaim.resolve(claims, clientId)) {
      if (n.isTextual()) {
        username = n.textValue();
        break;
      }
    }
    Set<String> roles = new LinkedHashSet<>();
    for (ClaimPath path : roleClaims) {
      roles.addAll(path.strings(claims, clientId));
    }
    String acr = TokenReader.text(claims, "acr");
    Set<String> amr = stringOrArray(claims.get("amr"));
    Instant authTime = TokenReader.time(claims, "auth_time");
    if (authTime != null && authTime.isAfter(now.plus(clockSkew))) {
      authTime = null; // a login in the future is no evidence of a recent one (it would pass any max-age)
    }
    Instant issuedAt = TokenReader.time(claims, "iat");
    if (authTime != null && issuedAt != null && authTime.isAfter(issuedAt.plus(clockSkew))) {
      authTime = null; // a login after the token attesting it was issued: its maker cannot be trusted on when
    }
    String sid = TokenReader.text(claims, "sid");
    Set<String> scopes = scopes(claims);
    String patient = TokenReader.text(claims, "patient");
    String jti = TokenReader.text(claims, "jti");
    String tokenId = jti != null && !jti.isEmpty() ? jti : "sha256:" + sha256(token.token());
    Principal.Kind kind = isService(claims, subject, username, clientId) ? Principal.Kind.SERVICE : Principal.Kind.USER;
    String fhirUser = TokenReader.text(claims, "fhirUser");
    return new Principal(kind, issuer, subject, username, clientId, roles, acr, amr, authTime, sid, scopes, patient,
        expiresAt, tokenId, confirmation(claims.get("cnf")), fhirUser == null || fhirUser.isBlank() ? null : fhirUser);
  }

  /**
   * Whether {@code p}, mapped from {@code token}, lost its {@code auth_time} for lying in the future:
   * mapped again later, it may keep it, so such a principal is not remembered.
   */
  static boolean droppedAuthTime(TokenReader.Unverified token, Principal p) throws TokenReader.Rejected {
    return p.authTime() == null && TokenReader.time(token.claims(), "auth_time") != null;
  }

  /**
   * The token's binding ({@code cnf}, RFC 7800): {@code jkt} (RFC 9449) and {@code x5t#S256}
   * (RFC 8705). A {@code cnf} that is not an object, or whose members are not strings, refuses the
   * token: it claims a binding fhirwall could not enforce.
   */
  private static Principal.Confirmation confirmation(@Nullable JsonNode cnf) throws TokenReader.Rejected {
    if (cnf == null) {
      return Principal.Confirmation.NONE;
    }
    if (!cnf.isObject()) {
      throw TokenReader.invalid("claim cnf is not an object");
    }
    JsonNode jkt = cnf.get("jkt");
    JsonNode x5t = cnf.get("x5t#S256");
    if ((jkt != null && (!jkt.isTextual() || jkt.textValue().isEmpty()))
        || (x5t != null && (!x5t.isTextual() || x5t.textValue().isEmpty()))) {
      throw TokenReader.invalid("claim cnf has a jkt or x5t#S256 that is not a string");
    }
    if (jkt == null && x5t == null && cnf.size() > 0) {
      throw TokenReader.invalid("claim cnf binds the token to a key fhirwall cannot check (expected jkt or x5t#S256)");
    }
    return new Principal.Confirmation(jkt == null ? null : jkt.textValue(), x5t == null ? null : x5t.textValue());
  }

  private static boolean isService(JsonNode claims, String subject, @Nullable String username, String clientId) {
    if (claims.has("sid") || claims.has("session_state")) {
      return false;
    }
    boolean keycloakServiceAccount = username != null
        && username.toLowerCase(Locale.ROOT).equals(KEYCLOAK_SERVICE_PREFIX + clientId.toLowerCase(Locale.ROOT));
    return keycloakServiceAccount || subject.equals(clientId);
  }

  private static Set<String> scopes(JsonNode claims) {
    JsonNode scope = claims.get("scope");
    if (scope != null && scope.isTextual()) {
      Set<String> out = new LinkedHashSet<>();
      for (String s : scope.textValue().split(" ")) {
        if (!s.isEmpty()) {
          out.add(s);
        }
      }
      return out;
    }
    return stringOrArray(claims.get("scp"));
  }

  private static Set<String> stringOrArray(@Nullable JsonNode node) {
    Set<String> out = new LinkedHashSet<>();
    if (node == null) {
      return out;
    }
    if (node.isTextual()) {
      out.add(node.textValue());
    } else if (node.isArray()) {
      for (JsonNode e : node) {
        if (e.isTextual()) {
          out.add(e.textValue());
        }
      }
    }
    return out;
  }

  static String sha256(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }
}
