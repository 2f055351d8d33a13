package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.auth.AuthFixture.accepted;
import static org.fhirwall.auth.AuthFixture.await;
import static org.fhirwall.auth.AuthFixture.refused;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.fhirwall.fhir.Refusal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DPoP (RFC 9449) at the resource server: a token bound to a key ({@code cnf.jkt}) is accepted only
 * with a fresh, valid proof of that key for this very request; every refusal case of §4.3 and §7,
 * with keys generated here. And certificate-bound tokens (RFC 8705).
 */
class DpopProofTest {
  static final String URL = "https://fhir.hospital.example/fhir/Patient/1";
  /** The clinician's device key (never leaves it) and an attacker's. */
  static final Jws.TestKey DEVICE = Jws.ec("device");
  static final Jws.TestKey ATTACKER = Jws.ec("attacker");
  static final Jws.TestKey RSA_DEVICE = Jws.rsa("rsa-device", 2048);

  private final AuthFixture f = new AuthFixture();

  @AfterEach
  void close() {
    f.close();
  }

  static String thumbprint(Jws.TestKey k) {
    try {
      return k.jwk().computeThumbprint("SHA-256").toString();
    } catch (com.nimbusds.jose.JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An access token bound to the device key. */
  String boundToken() {
    return f.token(c -> {
      c.put("typ", "DPoP");
      c.put("cnf", Map.of("jkt", thumbprint(DEVICE)));
      return c;
    });
  }

  /** A proof's parts, to be edited by a case before it is signed. */
  static final class Proof {
    final Map<String, Object> header = new LinkedHashMap<>();
    final Map<String, Object> claims = new LinkedHashMap<>();
    Jws.Signer signer = Jws.es256(DEVICE);

    Proof(String token, Instant now, String method, String url) {
      header.put("typ", "dpop+jwt");
      header.put("alg", "ES256");
      header.put("jwk", DEVICE.jwk().toPublicJWK().toJSONObject());
      claims.put("jti", java.util.UUID.randomUUID().toString());
      claims.put("htm", method);
      claims.put("htu", url);
      claims.put("iat", now.getEpochSecond());
      claims.put("ath", PrincipalMapper.sha256(token));
    }

    Proof signedBy(Jws.TestKey k) {
      header.put("jwk", k.jwk().toPublicJWK().toJSONObject());
      header.put("alg", k.jwk() instanceof com.nimbusds.jose.jwk.RSAKey ? "RS256" : "ES256");
      signer = k.jwk() instanceof com.nimbusds.jose.jwk.RSAKey ? Jws.rs256(k) : Jws.es256(k);
      return this;
    }

    String sign() {
      return Jws.token(header, claims, signer);
    }
  }

  Proof proof(String token) {
    return new Proof(token, f.now(), "GET", URL);
  }

  AuthOutcome send(JwtAuthenticator auth, String scheme, String token, List<String> proofs) {
    return await(auth.authenticate(new Credentials(scheme + " " + token, proofs, "GET", URL, null), f.now()));
  }

  static void assertInvalidProof(Refusal r, String fragment) {
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers().get("WWW-Authenticate"))
        .startsWith("DPoP algs=\"")
        .contains("error=\"invalid_dpop_proof\"")
        .contains(fragment);
  }

  @Test
  void aBoundTokenWithAFreshProofOfItsKeyIsAcceptedAndCarriesItsBinding() {
    JwtAuthenticator auth = f.authenticator();
    String token = boundToken();
    Principal p = accepted(send(auth, "DPoP", token, List.of(proof(token).sign())));
    assertThat(p.confirmation().jkt()).isEqualTo(thumbprint(DEVICE));
    assertThat(p.pagingBinding()).contains(thumbprint(DEVICE));
    accepted(send(auth, "DPoP", token, List.of(proof(token).sign())));
  }

  @Test
  void anRsaDeviceKeyWorksToo() {
    JwtAuthenticator auth = f.authenticator();
    String token = f.token(c -> {
      c.put("cnf", Map.of("jkt", thumbprint(RSA_DEVICE)));
      return c;
    });
    accepted(send(auth, "DPoP", token, List.of(proof(token).signedBy(RSA_DEVICE).sign())));
  }

  @Test
  void theProofsUrlIsComparedWithoutQueryAndWithSchemeHostAndDefaultPortNormalised() {
    JwtAuthenticator auth = f.authenticator();
    String token = boundToken();
    Proof p = proof(token);
    p.claims.put("htu", "HTTPS://FHIR.hospital.example:443/fhir/Patient/1?_format=json#x");
    accepted(send(auth, "DPoP", token, List.of(p.sign())));
  }

  static Stream<Arguments> refusedProofs() {
    Map<String, Consumer<Proof>> cases = new LinkedHashMap<>();
    cases.put("typ missing", p -> p.header.remove("typ"));
    cases.put("typ JWT", p -> p.header.put("typ", "JWT"));
    cases.put("alg none", p -> {
      p.header.put("alg", "none");
      p.signer = Jws.unsigned();
    });
    cases.put("alg HS256", p -> {
      p.header.put("alg", "HS256");
      p.signer = Jws.hs256("0123456789abcdef0123456789abcdef".getBytes());
    });
    cases.put("no jwk", p -> p.header.remove("jwk"));
    cases.put("jwk with its private key", p -> p.header.put("jwk", DEVICE.jwk().toJSONObject()));
    cases.put("signed by another key than its jwk", p -> p.signer = Jws.es256(ATTACKER));
    cases.put("crit header", p -> p.header.put("crit", List.of("exp")));
    cases.put("another method", p -> p.claims.put("htm", "POST"));
    cases.put("no htm", p -> p.claims.remove("htm"));
    cases.put("another path", p -> p.claims.put("htu", "https://fhir.hospital.example/fhir/Patient/2"));
    cases.put("another host", p -> p.claims.put("htu", "https://evil.example/fhir/Patient/1"));
    cases.put("another scheme", p -> p.claims.put("htu", "http://fhir.hospital.example/fhir/Patient/1"));
    cases.put("relative htu", p -> p.claims.put("htu", "/fhir/Patient/1"));
    cases.put("no htu", p -> p.claims.remove("htu"));
    cases.put("iat too old", p -> p.claims.put("iat", ((Number) p.claims.get("iat")).longValue() - 120));
    cases.put("iat in the future", p -> p.claims.put("iat", ((Number) p.claims.get("iat")).longValue() + 120));
    cases.put("no iat", p -> p.claims.remove("iat"));
    cases.put("iat not a number", p -> p.claims.put("iat", "now"));
    cases.put("no ath", p -> p.claims.remove("ath"));
    cases.put("ath of another token", p -> p.claims.put("ath", PrincipalMapper.sha256("another.access.token")));
    cases.put("no jti", p -> p.claims.remove("jti"));
    cases.put("jti too long", p -> p.claims.put("jti", "j".repeat(300)));
    return cases.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedProofs")
  void aFaultyProofIsRefused(String name, Consumer<Proof> fault) {
    JwtAuthenticator auth = f.authenticator();
    String token = boundToken();
    Proof p = proof(token);
    fault.accept(p);
    assertInvalidProof(refused(send(auth, "DPoP", token, List.of(p.sign()))), "");
    accepted(send(auth, "DPoP", token, List.of(proof(token).sign())));
  }

  @Test
  void aProofOfAnotherKeyIsRefusedEvenWhenItIsItselfValid() {
    JwtAuthenticator auth = f.authenticator();
    String token = boundToken();
    assertInvalidProof(refused(send(auth, "DPoP", token, List.of(proof(token).signedBy(ATTACKER).sign()))),
        "another key than the one the token is bound to");
  }

  @Test
  void aReplayedProofIsRefused() {
    JwtAuthenticator auth = f.authenticator();
    String token = boundToken();
    String once = proof(token).sign();
    accepted(send(auth, "DPoP", token, List.of(once)));
    assertInvalidProof(refused(send(auth, "DPoP", token, List.of(once))), "replayed");
  }

  @Test
  void aBoundTokenWithoutProofOrAsBearerIsRefused() {
    JwtAuthenticator auth = f.authenticator();
    String token = boundToken();
    assertInvalidProof(refused(send(auth, "DPoP", token, List.of())), "no DPoP proof");
    assertInvalidProof(refused(send(auth, "Bearer", token, List.of())), "Authorization: DPoP");
    assertInvalidProof(refused(send(auth, "Bearer", token, List.of(proof(token).sign()))), "Authorization: DPoP");
    assertInvalidProof(refused(send(auth, "DPoP", token, List.of(proof(token).sign(), proof(token).sign()))),
        "more than one");
    assertInvalidProof(refused(send(auth, "DPoP", token, List.of("not.a.jwt"))), "not a signed JWT");
  }

  @Test
  void aRefusalIsTheSameWhenTheTokenWasVerifiedBefore() {
    JwtAuthenticator auth = f.authenticator();
    String token = boundToken();
    accepted(send(auth, "DPoP", token, List.of(proof(token).sign())));
    assertInvalidProof(refused(send(auth, "Bearer", token, List.of())), "Authorization: DPoP");
    assertInvalidProof(refused(send(auth, "DPoP", token, List.of(proof(token).signedBy(ATTACKER).sign()))), "another key");
  }

  @Test
  void anUnboundTokenUnderTheDpopSchemeIsRefusedAndAsBearerAccepted() {
    JwtAuthenticator auth = f.authenticator();
    String token = f.token();
    Refusal r = refused(send(auth, "DPoP", token, List.of(proof(token).sign())));
    assertThat(r.headers().get("WWW-Authenticate")).startsWith("DPoP ").contains("error=\"invalid_token\"");
    Principal p = accepted(send(auth, "Bearer", token, List.of()));
    assertThat(p.confirmation()).isEqualTo(Principal.Confirmation.NONE);
  }

  @Test
  void aProofUsedOnOneReplicaIsRefusedOnAnotherSharingTheReplayCache() {
    ReplayCache shared = new InProcessReplayCache();
    JwtAuthenticator.Binding binding = new JwtAuthenticator.Binding(DpopSettings.DEFAULTS, shared, null);
    AuthSettings settings = f.settings().build();
    JwtAuthenticator one = JwtAuthenticator.create(settings, binding, f.http, f.background, f.clock);
    JwtAuthenticator two = JwtAuthenticator.create(settings, binding, f.http, f.background, f.clock);
    String token = boundToken();
    String once = proof(token).sign();
    accepted(send(one, "DPoP", token, List.of(once)));
    assertInvalidProof(refused(send(two, "DPoP", token, List.of(once))), "replayed");
  }

  @Test
  void withServerNoncesAProofNeedsAFreshOneFromTheNonceHeader() {
    JwtAuthenticator auth = JwtAuthenticator.create(f.settings().build(), new JwtAuthenticator.Binding(
        new DpopSettings(Duration.ofSeconds(60), true, Duration.ofMinutes(5)), new InProcessReplayCache(),
        "a shared nonce secret of 32 bytes".getBytes()), f.http, f.background, f.clock);
    String token = boundToken();
    Refusal first = refused(send(auth, "DPoP", token, List.of(proof(token).sign())));
    assertThat(first.status()).isEqualTo(401);
    assertThat(first.headers().get("WWW-Authenticate")).contains("error=\"use_dpop_nonce\"");
    String nonce = first.headers().get("DPoP-Nonce");
    assertThat(nonce).isNotBlank();

    Proof forged = proof(token);
    forged.claims.put("nonce", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assertThat(refused(send(auth, "DPoP", token, List.of(forged.sign()))).headers().get("WWW-Authenticate"))
        .contains("use_dpop_nonce");

    Proof p = proof(token);
    p.claims.put("nonce", nonce);
    accepted(send(auth, "DPoP", token, List.of(p.sign())));

    f.clock.advance(Duration.ofMinutes(6));
    String later = f.token(c -> {
      c.put("cnf", Map.of("jkt", thumbprint(DEVICE)));
      return c;
    });
    Proof stale = new Proof(later, f.now(), "GET", URL);
    stale.claims.put("nonce", nonce);
    assertThat(refused(send(auth, "DPoP", later, List.of(stale.sign()))).headers()).containsKey("DPoP-Nonce");
  }

  @Test
  void aCertificateBoundTokenNeedsItsCertificateOnTheConnection() {
    JwtAuthenticator auth = f.authenticator();
    String token = f.token(c -> {
      c.put("cnf", Map.of("x5t#S256", "certificate-thumbprint-A"));
      return c;
    });
    Principal p = accepted(await(auth.authenticate(
        new Credentials("Bearer " + token, List.of(), "GET", URL, "certificate-thumbprint-A"), f.now())));
    assertThat(p.confirmation().x5t()).isEqualTo("certificate-thumbprint-A");
    AuthFixture.assertInvalidToken(await(auth.authenticate(new Credentials("Bearer " + token, List.of(), "GET", URL, null),
        f.now())), "client certificate");
    AuthFixture.assertInvalidToken(await(auth.authenticate(
        new Credentials("Bearer " + token, List.of(), "GET", URL, "certificate-thumbprint-B"), f.now())), "another client certificate");
  }

  @Test
  void aCnfThatNamesNoKeyFhirwallCanCheckRefusesTheToken() {
    JwtAuthenticator auth = f.authenticator();
    String token = f.token(c -> {
      c.put("cnf", Map.of("jwk", Map.of("kty", "EC")));
      return c;
    });
    AuthFixture.assertInvalidToken(await(auth.authenticate("Bearer " + token, f.now())), "cnf");
  }
}
