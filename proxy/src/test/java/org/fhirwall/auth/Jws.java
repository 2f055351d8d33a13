package org.fhirwall.auth;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Hand-made JWS tokens for tests: any header, any claims, any (or no) signature. */
final class Jws {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Signs the JWS signing input. */
  interface Signer {
    byte[] sign(byte[] input) throws GeneralSecurityException;
  }

  /** A signing key pair and its public JWK. */
  record TestKey(String kid, PrivateKey privateKey, com.nimbusds.jose.jwk.JWK jwk, KeyPair pair) {}

  private Jws() {}

  static TestKey rsa(String kid, int bits) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(bits);
      KeyPair pair = g.generateKeyPair();
      RSAKey jwk = new RSAKey.Builder((RSAPublicKey) pair.getPublic()).privateKey((RSAPrivateKey) pair.getPrivate())
          .keyID(kid).keyUse(KeyUse.SIGNATURE).build();
      return new TestKey(kid, pair.getPrivate(), jwk, pair);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static TestKey ec(String kid) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = g.generateKeyPair();
      ECKey jwk = new ECKey.Builder(Curve.P_256, (ECPublicKey) pair.getPublic())
          .privateKey((ECPrivateKey) pair.getPrivate()).keyID(kid).build();
      return new TestKey(kid, pair.getPrivate(), jwk, pair);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static TestKey ed25519(String kid) {
    try {
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      EdECPublicKey pub = (EdECPublicKey) pair.getPublic();
      byte[] y = pub.getPoint().getY().toByteArray();
      byte[] le = new byte[32];
      for (int i = 0; i < y.length && i < 32; i++) {
        le[i] = y[y.length - 1 - i];
      }
      if (pub.getPoint().isXOdd()) {
        le[31] |= (byte) 0x80;
      }
      OctetKeyPair jwk = new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(le)).keyID(kid).build();
      return new TestKey(kid, pair.getPrivate(), jwk, pair);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static Signer rs256(TestKey k) {
    return input -> jdk("SHA256withRSA", k.privateKey(), input);
  }

  static Signer ps256(TestKey k) {
    return input -> {
      Signature s = Signature.getInstance("RSASSA-PSS");
      s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
      s.initSign(k.privateKey());
      s.update(input);
      return s.sign();
    };
  }

  static Signer es256(TestKey k) {
    return input -> jdk("SHA256withECDSAinP1363Format", k.privateKey(), input);
  }

  static Signer ed25519(TestKey k) {
    return input -> jdk("Ed25519", k.privateKey(), input);
  }

  static Signer hs256(byte[] secret) {
    return input -> {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      return mac.doFinal(input);
    };
  }

  static Signer unsigned() {
    return input -> new byte[0];
  }

  private static byte[] jdk(String alg, PrivateKey key, byte[] input) throws GeneralSecurityException {
    Signature s = Signature.getInstance(alg);
    s.initSign(key);
    s.update(input);
    return s.sign();
  }

  static Map<String, Object> header(String alg, String kid) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("alg", alg);
    h.put("typ", "JWT");
    h.put("kid", kid);
    return h;
  }

  /** Claims shaped like a Keycloak access token for user alice, issued at {@code now}. */
  static Map<String, Object> claims(String issuer, Instant now) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("exp", now.getEpochSecond() + 300);
    c.put("iat", now.getEpochSecond());
    c.put("auth_time", now.getEpochSecond() - 60);
    c.put("jti", "jti-" + now.toEpochMilli());
    c.put("iss", issuer);
    c.put("aud", List.of("fhirwall", "account"));
    c.put("sub", "0d8f6e1c-user-alice");
    c.put("typ", "Bearer");
    c.put("azp", "epr-web");
    c.put("sid", "3f1c2b9a-session");
    c.put("acr", "1");
    c.put("amr", List.of("pwd", "otp"));
    c.put("realm_access", Map.of("roles", List.of("physician", "offline_access", "default-roles-test")));
    c.put("resource_access", Map.of(
        "epr-web", Map.of("roles", List.of("chart-reader", "physician")),
        "account", Map.of("roles", List.of("manage-account"))));
    c.put("scope", "openid profile email");
    c.put("preferred_username", "alice");
    return c;
  }

  static String token(Map<String, Object> header, Map<String, Object> claims, Signer signer) {
    try {
      String input = b64(JSON.writeValueAsString(header)) + "." + b64(JSON.writeValueAsString(claims));
      return input + "." + b64(signer.sign(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (JsonProcessingException | GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A token from raw JSON texts (to test duplicate members and malformed JSON). */
  static String rawToken(String headerJson, String claimsJson, Signer signer) {
    try {
      String input = b64(headerJson) + "." + b64(claimsJson);
      return input + "." + b64(signer.sign(input.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String b64(String s) {
    return b64(s.getBytes(StandardCharsets.UTF_8));
  }

  static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
