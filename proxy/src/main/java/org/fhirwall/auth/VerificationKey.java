package org.fhirwall.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyOperation;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One public key from the issuer's JWKS, ready to verify signatures with the algorithms it is fit
 * for: RSA keys of at least 2048 bits for RS* and PS*, EC keys for the ES* algorithm of their curve,
 * Ed25519 keys for EdDSA (verified with the JDK). Symmetric keys, encryption keys and other curves
 * are never usable. Immutable and thread-safe.
 */
final class VerificationKey {
  private static final int MIN_RSA_BITS = 2048;

  /** A verifier for one key: JWS signing input and signature to yes or no. */
  private interface Check {
    boolean verify(String alg, byte[] signingInput, byte[] signature) throws GeneralSecurityException, JOSEException;
  }

  private final @Nullable String kid;
  private final Set<String> algorithms;
  private final Check check;

  private VerificationKey(@Nullable String kid, Set<String> algorithms, Check check) {
    this.kid = kid;
    this.algorithms = Set.copyOf(algorithms);
    this.check = check;
  }

  /**
   * The verification key for {@code jwk}, restricted to {@code allowed} algorithms.
   *
   * @throws IllegalArgumentException saying why the key cannot be used for verification
   */
  static VerificationKey of(JWK jwk, Collection<String> allowed) {
    if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
      throw new IllegalArgumentException("use " + jwk.getKeyUse().identifier() + " (expected: sig)");
    }
    if (jwk.getKeyOperations() != null && !jwk.getKeyOperations().contains(KeyOperation.VERIFY)) {
      throw new IllegalArgumentException("key_ops " + jwk.getKeyOperations() + " (expected: verify)");
    }
    Set<String> fit = new LinkedHashSet<>();
    Check check;
    try {
      if (jwk instanceof RSAKey rsa) {
        if (rsa.size() < MIN_RSA_BITS) {
          throw new IllegalArgumentException("RSA key of " + rsa.size() + " bits (expected: >= " + MIN_RSA_BITS + ")");
        }
        fit.addAll(Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"));
        check = nimbus(new RSASSAVerifier(rsa.toRSAPublicKey()));
      } else if (jwk instanceof ECKey ec) {
        Curve crv = ec.getCurve();
        if (Curve.P_256.equals(crv)) {
          fit.add("ES256");
        } else if (Curve.P_384.equals(crv)) {
          fit.add("ES384");
        } else if (Curve.P_521.equals(crv)) {
          fit.add("ES512");
        } else {
          throw new IllegalArgumentException("EC curve " + crv + " (expected: P-256, P-384 or P-521)");
        }
        check = nimbus(new ECDSAVerifier(ec.toECPublicKey()));
      } else if (jwk instanceof OctetKeyPair okp) {
        if (!Curve.Ed25519.equals(okp.getCurve())) {
          throw new IllegalArgumentException("OKP curve " + okp.getCurve() + " (expected: Ed25519)");
        }
        fit.add("EdDSA");
        check = ed25519(okp.getX());
      } else {
        throw new IllegalArgumentException("key type " + jwk.getKeyType() + " (expected: RSA, EC or OKP)");
      }
    } catch (JOSEException | GeneralSecurityException e) {
      throw new IllegalArgumentException("unreadable key: " + e.getMessage(), e);
    }
    if (jwk.getAlgorithm() != null) {
      fit.retainAll(Set.of(jwk.getAlgorithm().getName()));
    }
    fit.retainAll(Set.copyOf(allowed));
    if (fit.isEmpty()) {
      throw new IllegalArgumentException("no accepted algorithm fits this key (alg " + jwk.getAlgorithm() + ")");
    }
    return new VerificationKey(jwk.getKeyID(), fit, check);
  }

  @Nullable String kid() {
    return kid;
  }

  boolean supports(String alg) {
    return algorithms.contains(alg);
  }

  /** Whether {@code signature} is this key's valid {@code alg} signature of {@code signingInput}; false on any error. */
  boolean verify(String alg, byte[] signingInput, byte[] signature) {
    if (!supports(alg)) {
      return false;
    }
    try {
      return check.verify(alg, signingInput, signature);
    } catch (GeneralSecurityException | JOSEException | RuntimeException e) {
      return false;
    }
  }

  private static Check nimbus(JWSVerifier verifier) {
    return (alg, input, signature) ->
        verifier.verify(new JWSHeader(JWSAlgorithm.parse(alg)), input, Base64URL.encode(signature));
  }

  /** RFC 8037 public key {@code x} (little-endian y, top bit the parity of x) as a JDK Ed25519 key. */
  private static Check ed25519(Base64URL x) throws GeneralSecurityException {
    byte[] raw = x.decode();
    if (raw.length != 32) {
      throw new IllegalArgumentException("Ed25519 x of " + raw.length + " bytes (expected: 32)");
    }
    boolean xOdd = (raw[31] & 0x80) != 0;
    byte[] bigEndian = new byte[32];
    for (int i = 0; i < 32; i++) {
      bigEndian[i] = raw[31 - i];
    }
    bigEndian[0] &= 0x7f;
    PublicKey key = KeyFactory.getInstance("Ed25519")
        .generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd, new BigInteger(1, bigEndian))));
    return (alg, input, signature) -> {
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(key);
      s.update(input);
      return s.verify(signature);
    };
  }
}
