package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.fhirwall.fhir.Refusal;

/** Keys, a fake IdP, a movable clock and an authenticator wired to them; one per test. */
final class AuthFixture implements AutoCloseable {
  static final Instant START = Instant.parse("2026-11-25T10:00:00Z");
  /** Generated once: RSA key generation is the slow part of these tests. */
  static final Jws.TestKey RSA = Jws.rsa("rsa-1", 2048);
  static final Jws.TestKey RSA_2 = Jws.rsa("rsa-2", 2048);

  final MutableClock clock = new MutableClock(START);
  final FakeIdp idp;
  final ExecutorService background = Executors.newFixedThreadPool(2);
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  AuthFixture(com.nimbusds.jose.jwk.JWK... published) {
    idp = FakeIdp.start(published);
  }

  AuthFixture() {
    this(RSA.jwk());
  }

  AuthSettings.Builder settings() {
    return AuthSettings.builder(idp.issuer(), List.of("fhirwall"));
  }

  JwtAuthenticator authenticator(UnaryOperator<AuthSettings.Builder> configure) {
    return JwtAuthenticator.create(configure.apply(settings()).build(), http, background, clock);
  }

  JwtAuthenticator authenticator() {
    return authenticator(b -> b);
  }

  Instant now() {
    return clock.instant();
  }

  Map<String, Object> claims() {
    return Jws.claims(idp.issuer(), now());
  }

  /** A valid Keycloak-shaped RS256 token from the default key, with {@code edit} applied to its claims. */
  String token(UnaryOperator<Map<String, Object>> edit) {
    return Jws.token(Jws.header("RS256", RSA.kid()), edit.apply(claims()), Jws.rs256(RSA));
  }

  String token() {
    return token(c -> c);
  }

  static AuthOutcome await(CompletionStage<AuthOutcome> stage) {
    try {
      return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static Principal accepted(AuthOutcome outcome) {
    assertThat(outcome).isInstanceOf(AuthOutcome.Authenticated.class);
    return ((AuthOutcome.Authenticated) outcome).principal();
  }

  static Refusal refused(AuthOutcome outcome) {
    assertThat(outcome).isInstanceOf(AuthOutcome.Refused.class);
    return ((AuthOutcome.Refused) outcome).refusal();
  }

  /** Asserts a 401 invalid_token refusal whose description contains {@code fragment}. */
  static void assertInvalidToken(AuthOutcome outcome, String fragment) {
    Refusal r = refused(outcome);
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers().get("WWW-Authenticate"))
        .startsWith("Bearer realm=\"fhirwall\", error=\"invalid_token\", error_description=\"")
        .contains(fragment)
        .endsWith("\"");
  }

  @Override
  public void close() {
    idp.close();
    background.shutdownNow();
  }
}
