package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.URISyntaxException;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Checks a DPoP proof (RFC 9449 §4.3) against the request it came with and the access token it
 * accompanies, without I/O: exactly one {@code DPoP} header holding one JWS; {@code typ}
 * {@code dpop+jwt}; an asymmetric {@code alg} the deployment accepts; a public {@code jwk} header
 * (no private part) whose signature verifies and whose SHA-256 thumbprint is the token's
 * {@code cnf.jkt}; no {@code crit}; {@code htm} this request's method and {@code htu} its URL
 * (query and fragment ignored, scheme, host and default port normalised); {@code iat} within
 * {@code proofMaxAge} (and not beyond the clock skew in the future); {@code ath} the SHA-256 of the
 * access token; a {@code jti}; with nonces on, a {@code nonce} fhirwall issued. That the
 * {@code jti} was not used before is the caller's part (it needs the shared store). Thread-safe.
 */
final class DpopProofs {
  static final int MAX_PROOF_CHARS = 8192;
  static final int MAX_JTI_CHARS = 256;

  /** What a proof check found. */
  sealed interface Check {
    /** The proof is good; {@code jti} is still to be checked for replay. */
    record Valid(String jti) implements Check {}

    /** The proof is refused: {@code why} says what was wrong (no token contents). */
    record Invalid(String why) implements Check {}

    /** Nonces are on and the proof has none, or a stale one: try again with a fresh one. */
    record NonceNeeded(String why) implements Check {}
  }

  private final List<String> algorithms;
  private final DpopSettings settings;
  private final Duration clockSkew;
  private final @Nullable DpopNonces nonces;

  DpopProofs(List<String> algorithms, DpopSettings settings, Duration clockSkew, @Nullable DpopNonces nonces) {
    this.algorithms = List.copyOf(algorithms);
    this.settings = requireNonNull(settings, "settings");
    this.clockSkew = requireNonNull(clockSkew, "clockSkew");
    this.nonces = nonces;
  }

  List<String> algorithms() {
    return algorithms;
  }

  /**
   * @param proofs every {@code DPoP} header of the request
   * @param method the request's method
   * @param url the request's URL as the client addressed fhirwall (see {@link Credentials#url()})
   * @param accessToken the access token presented with the proof
   * @param jkt the token's {@code cnf.jkt}
   */
  Check check(List<String> proofs, String method, String url, String accessToken, String jkt, Instant now) {
    if (proofs.isEmpty()) {
      return invalid("no DPoP proof (a DPoP-bound token needs a 'DPoP' header with a fresh proof)");
    }
    if (proofs.size() > 1) {
      return invalid("more than one DPoP header (" + proofs.size() + ")");
    }
    String proof = proofs.get(0).strip();
    if (proof.length() > MAX_PROOF_CHARS) {
      return invalid("DPoP proof too large (" + proof.length() + " characters, at most " + MAX_PROOF_CHARS + ")");
    }
    SignedJWT jwt;
    JWSHeader header;
    try {
      jwt = SignedJWT.parse(proof);
      header = jwt.getHeader();
    } catch (ParseException | RuntimeException e) {
      return invalid("DPoP proof is not a signed JWT (" + e.getMessage() + ")");
    }
    if (header.getType() == null || !header.getType().toString().equalsIgnoreCase("dpop+jwt")) {
      return invalid("DPoP proof typ is " + (header.getType() == null ? "missing" : "'" + header.getType() + "'")
          + " (expected dpop+jwt)");
    }
    String alg = header.getAlgorithm().getName();
    if (!algorithms.contains(alg)) {
      return invalid("DPoP proof alg '" + alg + "' is not accepted (expected an asymmetric one: "
          + String.join(" ", algorithms) + ")");
    }
    if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
      return invalid("DPoP proof has critical header parameters (crit); none are supported");
    }
    JWK jwk = header.getJWK();
    if (jwk == null) {
      return invalid("DPoP proof has no jwk header");
    }
    if (jwk.isPrivate()) {
      return invalid("DPoP proof jwk holds a private key");
    }
    VerificationKey key;
    try {
      key = VerificationKey.of(jwk, List.of(alg));
    } catch (IllegalArgumentException e) {
      return invalid("DPoP proof jwk cannot verify " + alg + ": " + e.getMessage());
    }
    if (!key.verify(alg, jwt.getSigningInput(), jwt.getSignature().decode())) {
      return invalid("DPoP proof signature does not verify with its jwk");
    }
    String thumbprint;
    try {
      thumbprint = jwk.computeThumbprint("SHA-256").toString();
    } catch (JOSEException e) {
      return invalid("DPoP proof jwk has no thumbprint");
    }
    if (!thumbprint.equals(jkt)) {
      return invalid("DPoP proof is signed with another key than the one the token is bound to (cnf.jkt)");
    }
    JWTClaimsSet claims;
    String jti;
    String htm;
    String htu;
    String ath;
    String nonce;
    Date iat;
    try {
      claims = jwt.getJWTClaimsSet();
      jti = claims.getJWTID();
      htm = claims.getStringClaim("htm");
      htu = claims.getStringClaim("htu");
      ath = claims.getStringClaim("ath");
      nonce = claims.getStringClaim("nonce");
      iat = claims.getIssueTime();
    } catch (ParseException | RuntimeException e) {
      return invalid("DPoP proof claims are malformed (" + e.getMessage() + ")");
    }
    if (jti == null || jti.isEmpty() || jti.length() > MAX_JTI_CHARS) {
      return invalid("DPoP proof has no jti (or one over " + MAX_JTI_CHARS + " characters)");
    }
    if (htm == null || !htm.equals(method)) {
      return invalid("DPoP proof is for another method (htm " + (htm == null ? "missing" : "'" + cut(htm) + "'")
          + ", expected " + method + ")");
    }
    if (htu == null || !sameResource(htu, url)) {
      return invalid("DPoP proof is for another URL (htu " + (htu == null ? "missing" : "'" + cut(htu) + "'")
          + ", expected " + url + ")");
    }
    if (iat == null) {
      return invalid("DPoP proof has no iat");
    }
    Instant issued = iat.toInstant();
    if (issued.isAfter(now.plus(clockSkew))) {
      return invalid("DPoP proof was issued in the future (iat)");
    }
    if (issued.isBefore(now.minus(settings.proofMaxAge()).minus(clockSkew))) {
      return invalid("DPoP proof is too old (iat more than " + settings.proofMaxAge().toSeconds() + " s ago); send a fresh one");
    }
    if (ath == null) {
      return invalid("DPoP proof has no ath (the hash of the access token)");
    }
    if (!ath.equals(PrincipalMapper.sha256(accessToken))) {
      return invalid("DPoP proof is for another access token (ath)");
    }
    DpopNonces n = nonces;
    if (n != null) {
      if (nonce == null) {
        return new Check.NonceNeeded("DPoP proof has no nonce; use the one in the DPoP-Nonce header");
      }
      if (!n.valid(nonce, now)) {
        return new Check.NonceNeeded("DPoP proof nonce is not fhirwall's or has expired; use the one in the DPoP-Nonce header");
      }
    }
    return new Check.Valid(jti);
  }

  /** How long a proof's jti must be remembered: as long as the proof could be accepted. */
  Duration replayWindow() {
    return settings.proofMaxAge().plus(clockSkew).plus(clockSkew);
  }

  /**
   * Whether {@code htu} names the same resource as {@code url}: RFC 3986 syntax-based
   * normalisation of scheme, host and port; the path compared as it is; query and fragment of
   * {@code htu} ignored (RFC 9449 §4.3 item 9).
   */
  static boolean sameResource(String htu, String url) {
    try {
      URI a = new URI(htu);
      URI b = new URI(url);
      return a.isAbsolute() && a.getRawAuthority() != null && a.getRawUserInfo() == null
          && origin(a).equals(origin(b)) && path(a).equals(path(b));
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static String origin(URI u) {
    String scheme = u.getScheme().toLowerCase(Locale.ROOT);
    int port = u.getPort();
    if (port == -1 || (scheme.equals("https") && port == 443) || (scheme.equals("http") && port == 80)) {
      port = -1;
    }
    String host = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
    return scheme + "://" + host + (port == -1 ? "" : ":" + port);
  }

  private static String path(URI u) {
    String p = u.getRawPath();
    return p == null || p.isEmpty() ? "/" : p;
  }

  private static String cut(String s) {
    return Challenges.quotable(s.length() <= 80 ? s : s.substring(0, 80) + "...");
  }

  private static Check invalid(String why) {
    return new Check.Invalid(why);
  }
}
