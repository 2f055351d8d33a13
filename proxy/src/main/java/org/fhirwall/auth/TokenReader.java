package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Set;
import org.fhirwall.fhir.Refusal;
import org.jspecify.annotations.Nullable;

/**
 * Reads a bearer token from an {@code Authorization} header and checks everything that does not
 * need a key: the header's shape, the JWS header (algorithm, no key material or key URLs, no
 * critical extensions, no nesting) and the claims (token type, issuer, audience, client, subject,
 * expiry). Cheap checks come first so that a token that would be refused anyway never costs a key
 * fetch. Pure and thread-safe.
 *
 * <p>Access token or not: Keycloak marks its tokens with a {@code typ} claim; when present it must
 * be {@code Bearer}, or {@code DPoP} for a token bound to a DPoP key ({@code cnf.jkt}) (ID,
 * refresh, offline and logout tokens are refused). The scheme may be {@code Bearer} or
 * {@code DPoP} (RFC 9449 §7.1); whether it fits the token's binding is judged after verification. When absent (other
 * IdPs), the token is refused if it carries any claim only ID or logout tokens carry
 * ({@code nonce}, {@code at_hash}, {@code c_hash}, {@code events}). A JWS header {@code typ} must
 * be absent, {@code JWT} or {@code at+jwt} (RFC 9068).
 */
final class TokenReader {

  /** A token refused before any key was needed. */
  static final class Rejected extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Refusal refusal;

    Rejected(Refusal refusal) {
      super(refusal.diagnostics(), null, false, false);
      this.refusal = refusal;
    }

    Refusal refusal() {
      return refusal;
    }
  }

  /** A token whose shape and claims passed; its signature is still to be verified. */
  record Unverified(String token, String alg, @Nullable String kid, byte[] signingInput, byte[] signature,
      JsonNode claims, String clientId, Scheme scheme) {}

  private static final Set<String> KEY_HEADERS = Set.of("jku", "x5u", "jwk", "x5c");
  private static final Set<String> ID_OR_LOGOUT_CLAIMS = Set.of("nonce", "at_hash", "c_hash", "events");
  private static final Set<String> HEADER_TYPES = Set.of("jwt", "at+jwt", "application/at+jwt");

  private final AuthSettings settings;

  TokenReader(AuthSettings settings) {
    this.settings = requireNonNull(settings, "settings");
  }

  /**
   * @param authorization the raw {@code Authorization} header, null when absent
   * @param now the time against which {@code exp}, {@code nbf} and {@code iat} are judged
   * @throws Rejected with the refusal to send
   */
  Unverified read(@Nullable String authorization, Instant now) throws Rejected {
    if (authorization == null || authorization.isBlank()) {
      throw new Rejected(Challenges.missing("Authentication required: send an OAuth 2.0 access token as "
          + "'Authorization: Bearer <token>' (or 'Authorization: DPoP <token>' with a DPoP proof)"));
    }
    String value = authorization.strip();
    if (value.equalsIgnoreCase("Bearer") || value.equalsIgnoreCase("DPoP")) {
      throw invalid("empty access token");
    }
    boolean dpop = schemeOf(value) == Scheme.DPOP;
    if (schemeOf(value) == null) {
      throw new Rejected(Challenges.missing("Authentication required: only 'Authorization: Bearer <token>' and "
          + "'Authorization: DPoP <token>' are accepted"));
    }
    String token = value.substring(dpop ? 5 : 7).stripLeading();
    if (token.isEmpty()) {
      throw invalid("empty access token");
    }
    if (token.length() > settings.maxTokenBytes()) {
      throw invalid("token too large (" + token.length() + " bytes, at most " + settings.maxTokenBytes() + ")");
    }
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second >= 0 && token.indexOf('.', second + 1) >= 0) {
      int dots = (int) token.chars().filter(c -> c == '.').count();
      throw invalid(dots == 4 ? "encrypted tokens (JWE) are not accepted"
          : "malformed token (expected three base64url segments, got " + (dots + 1) + ")");
    }
    if (second < 0) {
      throw invalid("malformed token (expected three base64url segments, got " + (first < 0 ? 1 : 2) + ")");
    }
    String headerPart = token.substring(0, first);
    String payloadPart = token.substring(first + 1, second);
    String signaturePart = token.substring(second + 1);
    JsonNode header = json(headerPart, "header");
    String alg = checkHeader(header);
    byte[] signature = base64(signaturePart, "signature");
    if (signature.length == 0) {
      throw invalid("token has no signature");
    }
    JsonNode claims = json(payloadPart, "payload");
    String clientId = checkClaims(claims, now);
    JsonNode kidNode = header.get("kid");
    String kid = kidNode == null ? null : kidNode.textValue();
    byte[] signingInput = token.substring(0, second).getBytes(StandardCharsets.US_ASCII);
    return new Unverified(token, alg, kid, signingInput, signature, claims, clientId, dpop ? Scheme.DPOP : Scheme.BEARER);
  }

  /** How the token was presented. */
  enum Scheme {
    BEARER,
    DPOP
  }

  /** The scheme of an {@code Authorization} value, null for any other than Bearer and DPoP. */
  static @Nullable Scheme schemeOf(String value) {
    if (value.length() > 7 && value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Scheme.BEARER;
    }
    if (value.length() > 5 && value.regionMatches(true, 0, "DPoP ", 0, 5)) {
      return Scheme.DPOP;
    }
    return null;
  }

  /** The token of an {@code Authorization} value under either scheme, null under another. */
  static @Nullable String tokenOf(@Nullable String authorization) {
    if (authorization == null) {
      return null;
    }
    Scheme scheme = schemeOf(authorization);
    if (scheme == null) {
      return null;
    }
    return authorization.substring(scheme == Scheme.DPOP ? 5 : 7);
  }

  private String checkHeader(JsonNode header) throws Rejected {
    JsonNode algNode = header.get("alg");
    if (algNode == null || !algNode.isTextual()) {
      throw invalid("token header has no alg");
    }
    String alg = algNode.textValue();
    if (alg.equalsIgnoreCase("none")) {
      throw invalid("unsigned tokens (alg none) are not accepted");
    }
    if (alg.regionMatches(true, 0, "HS", 0, 2)) {
      throw invalid("symmetric signatures (" + Challenges.quotable(cut(alg)) + ") are not accepted");
    }
    if (!settings.algorithms().contains(alg)) {
      throw invalid("algorithm " + Challenges.quotable(cut(alg)) + " is not accepted (expected one of "
          + String.join(", ", settings.algorithms()) + ")");
    }
    for (String name : KEY_HEADERS) {
      if (header.has(name)) {
        throw invalid("token header carries a key or key URL (" + name + "); only the issuer's published keys are used");
      }
    }
    if (header.has("crit")) {
      throw invalid("token header has critical extensions (crit); none are supported");
    }
    if (header.has("cty") || header.has("enc") || header.has("zip")) {
      throw invalid("nested or encrypted tokens are not accepted");
    }
    JsonNode typ = header.get("typ");
    if (typ != null && (!typ.isTextual() || !HEADER_TYPES.contains(typ.textValue().toLowerCase(java.util.Locale.ROOT)))) {
      throw invalid("token header typ is not JWT or at+jwt");
    }
    JsonNode kid = header.get("kid");
    if (kid != null && !kid.isTextual()) {
      throw invalid("token header kid is not a string");
    }
    return alg;
  }

  /** Checks the claims that need no key; returns the authorised party. */
  private String checkClaims(JsonNode claims, Instant now) throws Rejected {
    JsonNode typ = claims.get("typ");
    if (typ != null) {
      boolean dpopBound = typ.isTextual() && typ.textValue().equals("DPoP") && claims.path("cnf").path("jkt").isTextual();
      if (!typ.isTextual() || !(typ.textValue().equals("Bearer") || dpopBound)) {
        throw invalid("not an access token (typ " + (typ.isTextual() ? Challenges.quotable(cut(typ.textValue())) : "?")
            + ", expected Bearer)");
      }
    } else {
      for (String name : ID_OR_LOGOUT_CLAIMS) {
        if (claims.has(name)) {
          throw invalid("not an access token (an ID or logout token carries " + name + ")");
        }
      }
    }
    JsonNode iss = claims.get("iss");
    if (iss == null || !iss.isTextual() || !iss.textValue().equals(settings.issuer())) {
      throw invalid("token is from another issuer (expected " + settings.issuer() + ")");
    }
    if (!audienceMatches(claims.get("aud"))) {
      throw invalid("token is not meant for this server (aud must include one of "
          + String.join(", ", settings.audiences().stream().sorted().toList()) + ")");
    }
    String clientId = text(claims, "azp");
    if (clientId == null) {
      clientId = text(claims, "client_id");
    }
    if (clientId == null || clientId.isEmpty()) {
      throw invalid("token names no client (azp or client_id)");
    }
    if (!settings.clients().isEmpty() && !settings.clients().contains(clientId)) {
      throw invalid("client " + Challenges.quotable(cut(clientId)) + " is not allowed here");
    }
    String sub = text(claims, "sub");
    if (sub == null || sub.isEmpty()) {
      throw invalid("token has no subject (sub)");
    }
    Instant exp = time(claims, "exp");
    if (exp == null) {
      throw invalid("token has no expiry (exp)");
    }
    if (now.isAfter(exp.plus(settings.clockSkew()))) {
      throw new Rejected(Challenges.expiredToken("token expired"));
    }
    Instant nbf = time(claims, "nbf");
    if (nbf != null && nbf.isAfter(now.plus(settings.clockSkew()))) {
      throw invalid("token is not valid yet (nbf)");
    }
    Instant iat = time(claims, "iat");
    if (iat != null && iat.isAfter(now.plus(settings.clockSkew()))) {
      throw invalid("token was issued in the future (iat)");
    }
    return clientId;
  }

  private boolean audienceMatches(@Nullable JsonNode aud) {
    if (aud == null) {
      return false;
    }
    if (aud.isTextual()) {
      return settings.audiences().contains(aud.textValue());
    }
    if (aud.isArray()) {
      for (JsonNode a : aud) {
        if (a.isTextual() && settings.audiences().contains(a.textValue())) {
          return true;
        }
      }
    }
    return false;
  }

  static @Nullable String text(JsonNode claims, String name) {
    JsonNode v = claims.get(name);
    return v != null && v.isTextual() ? v.textValue() : null;
  }

  /**
   * A NumericDate claim (seconds since the epoch, fractions allowed); null when absent.
   *
   * @throws Rejected when present but not a number in range
   */
  static @Nullable Instant time(JsonNode claims, String name) throws Rejected {
    JsonNode v = claims.get(name);
    if (v == null) {
      return null;
    }
    if (!v.isNumber() || !Double.isFinite(v.doubleValue()) || Math.abs(v.doubleValue()) > 1e11) {
      throw invalid("claim " + name + " is not a NumericDate");
    }
    return Instant.ofEpochSecond(v.longValue());
  }

  private static JsonNode json(String part, String what) throws Rejected {
    byte[] bytes = base64(part, what);
    JsonNode node;
    try {
      node = IdpHttp.STRICT_JSON.readTree(bytes);
    } catch (IOException e) {
      throw invalid("malformed token " + what + " (not a JSON object)");
    }
    if (node == null || !node.isObject()) {
      throw invalid("malformed token " + what + " (not a JSON object)");
    }
    return node;
  }

  /** Strict base64url without padding, as JWS compact serialisation requires. */
  private static byte[] base64(String part, String what) throws Rejected {
    for (int i = 0; i < part.length(); i++) {
      char c = part.charAt(i);
      boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) {
        throw invalid("malformed token " + what + " (not base64url)");
      }
    }
    if (part.length() % 4 == 1) {
      throw invalid("malformed token " + what + " (not base64url)");
    }
    try {
      return Base64.getUrlDecoder().decode(part);
    } catch (IllegalArgumentException e) {
      throw invalid("malformed token " + what + " (not base64url)");
    }
  }

  private static String cut(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  static Rejected invalid(String description) {
    return new Rejected(Challenges.invalidToken(description));
  }
}
