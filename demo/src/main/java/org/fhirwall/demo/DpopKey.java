package org.fhirwall.demo;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.UUID;

/**
 * A client's DPoP key (RFC 9449): made on the clinician's device and never leaving it. Signs a
 * fresh proof for each request; the access token the IdP issues for it names its thumbprint
 * ({@code cnf.jkt}). Thread-safe.
 */
public final class DpopKey {
  private final ECKey key;

  private DpopKey(ECKey key) {
    this.key = key;
  }

  /** A new P-256 key. */
  public static DpopKey generate() {
    try {
      return new DpopKey(new ECKeyGenerator(Curve.P_256).generate());
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot make an EC key", e);
    }
  }

  /** The key's JWK SHA-256 thumbprint, base64url: what {@code cnf.jkt} must say. */
  public String thumbprint() {
    try {
      return key.computeThumbprint("SHA-256").toString();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A proof for one request: {@code htm} the method, {@code htu} the URL without query, {@code ath} the token's hash. */
  public String proof(String method, String url, @org.jspecify.annotations.Nullable String accessToken) {
    return proof(method, url, accessToken, null);
  }

  /** As {@link #proof(String, String, String)}, with a server nonce (null: none). */
  public String proof(String method, String url, @org.jspecify.annotations.Nullable String accessToken,
      @org.jspecify.annotations.Nullable String nonce) {
    URI u = URI.create(url);
    String htu = u.getScheme() + "://" + u.getRawAuthority() + u.getRawPath();
    JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
        .jwtID(UUID.randomUUID().toString())
        .issueTime(Date.from(Instant.now()))
        .claim("htm", method)
        .claim("htu", htu);
    if (accessToken != null) {
      claims.claim("ath", sha256(accessToken));
    }
    if (nonce != null) {
      claims.claim("nonce", nonce);
    }
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).type(new JOSEObjectType("dpop+jwt"))
        .jwk(key.toPublicJWK()).build(), claims.build());
    try {
      jwt.sign(new ECDSASigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign a DPoP proof", e);
    }
    return jwt.serialize();
  }

  static String sha256(String s) {
    try {
      return Base64.getUrlEncoder().withoutPadding()
          .encodeToString(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
