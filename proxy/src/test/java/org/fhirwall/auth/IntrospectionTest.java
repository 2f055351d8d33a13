package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.auth.AuthFixture.accepted;
import static org.fhirwall.auth.AuthFixture.assertInvalidToken;
import static org.fhirwall.auth.AuthFixture.await;
import static org.fhirwall.auth.AuthFixture.refused;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletionStage;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RFC 7662 introspection on top of local verification. */
class IntrospectionTest {
  private final AuthFixture f = new AuthFixture();

  @AfterEach
  void close() {
    f.close();
  }

  private JwtAuthenticator authenticator(boolean configuredEndpoint) {
    JwtAuthenticator auth = f.authenticator(b -> b.introspection(new AuthSettings.Introspection(
        configuredEndpoint ? f.idp.introspectionUri() : null, "fhirwall", "s3cr:t", Duration.ofSeconds(30))));
    assertThat(auth.warmUp(f.now()).toCompletableFuture().join()).isTrue();
    return auth;
  }

  @Test
  void anActiveTokenIsAcceptedAndTheIdpIsAskedWithClientCredentials() {
    JwtAuthenticator auth = authenticator(true);
    String token = f.token();
    accepted(await(auth.authenticate("Bearer " + token, f.now())));
    assertThat(f.idp.introspections.get()).isEqualTo(1);
    assertThat(f.idp.introspectionForms.get(0)).containsEntry("token", token).containsEntry("token_type_hint", "access_token");
    // RFC 6749 §2.3.1: both parts form-encoded (':' in the secret becomes %3A), then Basic
    assertThat(f.idp.introspectionAuthorizations.get(0)).isEqualTo("Basic "
        + Base64.getEncoder().encodeToString("fhirwall:s3cr%3At".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void anInactiveTokenIsRefused() {
    JwtAuthenticator auth = authenticator(true);
    f.idp.introspection(token -> "{\"active\":false}");
    assertInvalidToken(await(auth.authenticate("Bearer " + f.token(), f.now())), "token is no longer active");
  }

  @Test
  void answersAreReusedWithinTheCacheWindowAndAskedAgainAfter() {
    JwtAuthenticator auth = authenticator(true);
    String token = f.token();
    accepted(await(auth.authenticate("Bearer " + token, f.now())));
    CompletionStage<AuthOutcome> cached = auth.authenticate("Bearer " + token, f.now());
    assertThat(cached.toCompletableFuture().isDone()).isTrue();
    accepted(await(cached));
    assertThat(f.idp.introspections.get()).isEqualTo(1);

    f.idp.introspection(t -> "{\"active\":false}");
    f.clock.advance(Duration.ofSeconds(20));
    accepted(await(auth.authenticate("Bearer " + token, f.now())));
    assertThat(f.idp.introspections.get()).isEqualTo(1);

    f.clock.advance(Duration.ofSeconds(11));
    assertInvalidToken(await(auth.authenticate("Bearer " + token, f.now())), "no longer active");
    assertThat(f.idp.introspections.get()).isEqualTo(2);
  }

  @Test
  void anInactiveAnswerIsCachedToo() {
    JwtAuthenticator auth = authenticator(true);
    f.idp.introspection(t -> "{\"active\":false}");
    String token = f.token();
    assertInvalidToken(await(auth.authenticate("Bearer " + token, f.now())), "no longer active");
    f.idp.introspection(t -> "{\"active\":true}");
    assertInvalidToken(await(auth.authenticate("Bearer " + token, f.now())), "no longer active");
    assertThat(f.idp.introspections.get()).isEqualTo(1);
  }

  @Test
  void eachTokenIsIntrospectedOnItsOwn() {
    JwtAuthenticator auth = authenticator(true);
    accepted(await(auth.authenticate("Bearer " + f.token(c -> { c.put("jti", "a"); return c; }), f.now())));
    accepted(await(auth.authenticate("Bearer " + f.token(c -> { c.put("jti", "b"); return c; }), f.now())));
    assertThat(f.idp.introspections.get()).isEqualTo(2);
  }

  @Test
  void anUnreachableEndpointFailsClosedWith503AndIsNotCached() {
    JwtAuthenticator auth = authenticator(true);
    f.idp.introspectionStatus(500);
    String token = f.token();
    Refusal r = refused(await(auth.authenticate("Bearer " + token, f.now())));
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.code()).isEqualTo(IssueType.TRANSIENT);
    assertThat(r.headers()).containsKey("Retry-After");

    f.idp.introspectionStatus(200);
    accepted(await(auth.authenticate("Bearer " + token, f.now())));
  }

  @Test
  void aStoppedIdpFailsClosedWith503() {
    JwtAuthenticator auth = authenticator(true);
    f.idp.close();
    Refusal r = refused(await(auth.authenticate("Bearer " + f.token(), f.now())));
    assertThat(r.status()).isEqualTo(503);
  }

  @Test
  void anAnswerWithoutABooleanActiveFailsClosed() {
    JwtAuthenticator auth = authenticator(true);
    f.idp.introspection(t -> "{\"active\":\"true\"}");
    assertThat(refused(await(auth.authenticate("Bearer " + f.token(), f.now()))).status()).isEqualTo(503);
  }

  @Test
  void theEndpointIsTakenFromDiscoveryWhenNotConfigured() {
    JwtAuthenticator auth = authenticator(false);
    accepted(await(auth.authenticate("Bearer " + f.token(), f.now())));
    assertThat(f.idp.introspections.get()).isEqualTo(1);
  }

  @Test
  void aDiscoveryDocumentWithoutAnEndpointFailsClosed() {
    f.idp.advertiseIntrospection(false);
    JwtAuthenticator auth = authenticator(false);
    assertThat(refused(await(auth.authenticate("Bearer " + f.token(), f.now()))).status()).isEqualTo(503);
  }

  @Test
  void anInvalidTokenIsNeverSentToTheIdp() {
    JwtAuthenticator auth = authenticator(true);
    assertInvalidToken(await(auth.authenticate("Bearer " + f.token(c -> { c.put("aud", "x"); return c; }), f.now())), "aud must include");
    assertThat(f.idp.introspections.get()).isZero();
  }
}
