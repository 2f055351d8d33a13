package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.auth.AuthFixture.accepted;
import static org.fhirwall.auth.AuthFixture.assertInvalidToken;
import static org.fhirwall.auth.AuthFixture.await;
import static org.fhirwall.auth.AuthFixture.refused;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Keys: discovery, JWKS caching, refresh limits, an unreachable IdP, algorithms. */
class JwtAuthenticatorTest {
  private final AuthFixture f = new AuthFixture();

  @AfterEach
  void close() {
    f.close();
  }

  @Test
  void aValidTokenIsAcceptedAfterOneDiscoveryAndOneJwksFetch() {
    JwtAuthenticator auth = f.authenticator();
    Principal p = accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
    assertThat(p.subject()).isEqualTo("0d8f6e1c-user-alice");
    assertThat(f.idp.discoveryFetches.get()).isEqualTo(1);
    assertThat(f.idp.jwksFetches.get()).isEqualTo(1);
  }

  @Test
  void onceKeysAreCachedATokenIsAnsweredSynchronouslyWithoutAnotherFetch() {
    JwtAuthenticator auth = f.authenticator();
    assertThat(auth.warmUp(f.now()).toCompletableFuture().join()).isTrue();
    assertThat(auth.canVerify()).isTrue();
    for (int i = 0; i < 20; i++) {
      CompletionStage<AuthOutcome> stage = auth.authenticate("Bearer " + f.token(), f.now());
      assertThat(stage.toCompletableFuture().isDone()).isTrue();
      accepted(stage.toCompletableFuture().join());
    }
    assertThat(f.idp.jwksFetches.get()).isEqualTo(1);
  }

  @Test
  void aRememberedTokenIsStillRefusedOnceItExpires() {
    JwtAuthenticator auth = f.authenticator(b -> b.clockSkew(Duration.ofSeconds(10)));
    String token = f.token();
    accepted(await(auth.authenticate("Bearer " + token, f.now())));
    f.idp.close();
    // the same token again: answered from memory, no key needed
    accepted(await(auth.authenticate("Bearer " + token, f.now())));
    f.clock.advance(Duration.ofHours(2));
    assertInvalidToken(await(auth.authenticate("Bearer " + token, f.now())), "expired");
  }

  @Test
  void aFloodOfUnknownKidsCostsOneFetchPerInterval() {
    JwtAuthenticator auth = f.authenticator(b -> b.jwksRefreshMinInterval(Duration.ofSeconds(30)));
    accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
    assertThat(f.idp.jwksFetches.get()).isEqualTo(1);

    // Within the interval of the first fetch: refused at once, no fetch at all.
    for (int i = 0; i < 50; i++) {
      assertInvalidToken(await(auth.authenticate("Bearer " + randomKidToken(), f.now())), "kid");
    }
    assertThat(f.idp.jwksFetches.get()).isEqualTo(1);

    // After it: the first unknown kid refreshes, the other 99 share that refresh or are rate-limited.
    f.clock.advance(Duration.ofSeconds(31));
    List<CompletionStage<AuthOutcome>> stages = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      stages.add(auth.authenticate("Bearer " + randomKidToken(), f.now()));
    }
    for (CompletionStage<AuthOutcome> s : stages) {
      assertInvalidToken(await(s), "kid");
    }
    assertThat(f.idp.jwksFetches.get()).isEqualTo(2);
    // Real tokens keep working throughout.
    accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
  }

  @Test
  void aKeyRotatedInAtTheIdpIsFetchedWhenATokenNamesIt() {
    JwtAuthenticator auth = f.authenticator();
    accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
    f.idp.keys(AuthFixture.RSA.jwk(), AuthFixture.RSA_2.jwk());
    f.clock.advance(Duration.ofSeconds(31));
    String rotated = Jws.token(Jws.header("RS256", "rsa-2"), f.claims(), Jws.rs256(AuthFixture.RSA_2));
    accepted(await(auth.authenticate("Bearer " + rotated, f.now())));
    assertThat(f.idp.jwksFetches.get()).isEqualTo(2);
  }

  @Test
  void cachedKeysKeepWorkingWhileTheIdpIsDownUntilTheirMaxAge() {
    JwtAuthenticator auth = f.authenticator(b -> b.jwksMaxAge(Duration.ofHours(24)));
    accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
    f.idp.close();

    f.clock.advance(Duration.ofHours(23));
    // Old enough to revalidate: the background refresh fails, the cached key still answers at once.
    CompletionStage<AuthOutcome> stage = auth.authenticate("Bearer " + f.token(), f.now());
    assertThat(stage.toCompletableFuture().isDone()).isTrue();
    accepted(await(stage));

    f.clock.advance(Duration.ofHours(2));
    Refusal r = refused(await(auth.authenticate("Bearer " + f.token(), f.now())));
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.code()).isEqualTo(IssueType.TRANSIENT);
    assertThat(r.headers()).containsKey("Retry-After").doesNotContainKey("WWW-Authenticate");
    assertThat(Long.parseLong(r.headers().get("Retry-After"))).isBetween(1L, 30L);
  }

  @Test
  void anUnreachableIdpAtTheFirstTokenGives503AndIsNotAskedAgainWithinTheInterval() {
    f.idp.close();
    JwtAuthenticator auth = f.authenticator();
    Refusal first = refused(await(auth.authenticate("Bearer " + f.token(), f.now())));
    assertThat(first.status()).isEqualTo(503);
    assertThat(first.headers()).containsKey("Retry-After");
    CompletionStage<AuthOutcome> second = auth.authenticate("Bearer " + f.token(), f.now());
    assertThat(second.toCompletableFuture().isDone()).isTrue();
    assertThat(refused(await(second)).status()).isEqualTo(503);
  }

  @Test
  void anUnknownKidWhileTheIdpIsDownIs503NotAccepted() {
    JwtAuthenticator auth = f.authenticator();
    accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
    f.idp.close();
    f.clock.advance(Duration.ofMinutes(1));
    Refusal r = refused(await(auth.authenticate("Bearer " + randomKidToken(), f.now())));
    assertThat(r.status()).isEqualTo(503);
  }

  @Test
  void aDiscoveryDocumentNamingAnotherIssuerYieldsNoKeys() {
    JwtAuthenticator auth = f.authenticator();
    String token = f.token();
    f.idp.discoveryIssuer("https://evil.example/realms/test");
    Refusal r = refused(await(auth.authenticate("Bearer " + token, f.now())));
    assertThat(r.status()).isEqualTo(503);
    assertThat(f.idp.jwksFetches.get()).isZero();
  }

  @Test
  void aConfiguredJwksUriSkipsDiscovery() {
    JwtAuthenticator auth = f.authenticator(b -> b.jwksUri(f.idp.jwksUri()));
    accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
    assertThat(f.idp.discoveryFetches.get()).isZero();
    assertThat(f.idp.jwksFetches.get()).isEqualTo(1);
  }

  @Test
  void es256Ps256AndEdDsaTokensAreVerified() {
    Jws.TestKey ec = Jws.ec("ec-1");
    Jws.TestKey ed = Jws.ed25519("ed-1");
    f.idp.keys(AuthFixture.RSA.jwk(), ec.jwk(), ed.jwk());
    JwtAuthenticator auth = f.authenticator();
    accepted(await(auth.authenticate("Bearer " + Jws.token(Jws.header("ES256", "ec-1"), f.claims(), Jws.es256(ec)), f.now())));
    accepted(await(auth.authenticate("Bearer " + Jws.token(Jws.header("PS256", "rsa-1"), f.claims(), Jws.ps256(AuthFixture.RSA)), f.now())));
    accepted(await(auth.authenticate("Bearer " + Jws.token(Jws.header("EdDSA", "ed-1"), f.claims(), Jws.ed25519(ed)), f.now())));
    // The same signatures under another key's kid fail.
    assertInvalidToken(await(auth.authenticate("Bearer " + Jws.token(Jws.header("ES256", "ec-1"), f.claims(), Jws.es256(Jws.ec("ec-1"))), f.now())),
        "signature verification failed");
  }

  @Test
  void aTokenWithoutKidIsCheckedAgainstEveryFittingKey() {
    f.idp.keys(AuthFixture.RSA_2.jwk(), AuthFixture.RSA.jwk());
    JwtAuthenticator auth = f.authenticator();
    Map<String, Object> header = Jws.header("RS256", "x");
    header.remove("kid");
    accepted(await(auth.authenticate("Bearer " + Jws.token(header, f.claims(), Jws.rs256(AuthFixture.RSA)), f.now())));
  }

  @Test
  void aJwksWithOnlyUnusableKeysGives503() {
    String weak = Jws.rsa("rsa-1", 1024).jwk().toPublicJWK().toJSONString();
    f.idp.rawJwks("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0c2VjcmV0\",\"kid\":\"rsa-1\"}," + weak + "]}");
    Refusal r = refused(await(f.authenticator().authenticate("Bearer " + f.token(), f.now())));
    assertThat(r.status()).isEqualTo(503);
    assertThat(f.idp.jwksFetches.get()).isEqualTo(1);
  }

  @Test
  void anEncryptionKeyIsNotUsedForSignatures() {
    com.nimbusds.jose.jwk.RSAKey enc = new com.nimbusds.jose.jwk.RSAKey.Builder((com.nimbusds.jose.jwk.RSAKey) AuthFixture.RSA.jwk())
        .keyUse(com.nimbusds.jose.jwk.KeyUse.ENCRYPTION).build();
    f.idp.keys(enc);
    Refusal r = refused(await(f.authenticator().authenticate("Bearer " + f.token(), f.now())));
    assertThat(r.status()).isEqualTo(503);
  }

  private String randomKidToken() {
    return Jws.token(Jws.header("RS256", UUID.randomUUID().toString()), f.claims(), Jws.rs256(AuthFixture.RSA));
  }
}
