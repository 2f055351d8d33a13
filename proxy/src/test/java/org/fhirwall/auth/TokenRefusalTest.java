package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.auth.AuthFixture.RSA;
import static org.fhirwall.auth.AuthFixture.accepted;
import static org.fhirwall.auth.AuthFixture.assertInvalidToken;
import static org.fhirwall.auth.AuthFixture.await;
import static org.fhirwall.auth.AuthFixture.refused;

import com.nimbusds.jose.jwk.RSAKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every token the authenticator must refuse, one test each; keys are cached before each test. */
class TokenRefusalTest {
  private final AuthFixture f = new AuthFixture();
  private JwtAuthenticator auth;

  @BeforeEach
  void warmUp() {
    auth = f.authenticator(b -> b.clients(List.of("epr-web", "epr-mobile")).maxTokenBytes(4096));
    assertThat(auth.warmUp(f.now()).toCompletableFuture().join()).isTrue();
  }

  @AfterEach
  void close() {
    f.close();
  }

  private AuthOutcome send(String authorization) {
    return await(auth.authenticate(authorization, f.now()));
  }

  private AuthOutcome bearer(String token) {
    return send("Bearer " + token);
  }

  private AuthOutcome withClaims(UnaryOperator<Map<String, Object>> edit) {
    return bearer(f.token(edit));
  }

  private AuthOutcome withHeader(UnaryOperator<Map<String, Object>> edit) {
    return bearer(Jws.token(edit.apply(Jws.header("RS256", RSA.kid())), f.claims(), Jws.rs256(RSA)));
  }

  @Test
  void theBaselineTokenIsAccepted() {
    accepted(bearer(f.token()));
  }

  @Test
  void noAuthorizationHeaderGetsABareChallenge() {
    Refusal r = refused(send(null));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.code()).isEqualTo(IssueType.LOGIN);
    assertThat(r.headers()).containsEntry("WWW-Authenticate", "Bearer realm=\"fhirwall\"");
  }

  @Test
  void anotherSchemeGetsABareChallenge() {
    Refusal r = refused(send("Basic YWxpY2U6c2VjcmV0"));
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.headers()).containsEntry("WWW-Authenticate", "Bearer realm=\"fhirwall\"");
  }

  @Test
  void anEmptyBearerTokenIsRefused() {
    assertInvalidToken(send("Bearer "), "empty");
  }

  @Test
  void theSchemeIsCaseInsensitive() {
    accepted(send("bearer " + f.token()));
  }

  @Test
  void anIdTokenIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "typ", "ID")), "not an access token (typ ID");
  }

  @Test
  void aRefreshTokenIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "typ", "Refresh")), "not an access token (typ Refresh");
  }

  @Test
  void anOfflineTokenIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "typ", "Offline")), "not an access token");
  }

  @Test
  void aLogoutTokenIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "typ", "Logout")), "not an access token (typ Logout");
  }

  @Test
  void withoutTypAnIdTokenIsRecognisedByItsNonce() {
    assertInvalidToken(withClaims(c -> put(remove(c, "typ"), "nonce", "n-0S6_WzA2Mj")), "nonce");
  }

  @Test
  void withoutTypALogoutTokenIsRecognisedByItsEvents() {
    assertInvalidToken(withClaims(c -> put(remove(c, "typ"), "events",
        Map.of("http://schemas.openid.net/event/backchannel-logout", Map.of()))), "events");
  }

  @Test
  void withoutTypAPlainAccessTokenIsAccepted() {
    accepted(withClaims(c -> remove(c, "typ")));
  }

  @Test
  void aLogoutJwtHeaderTypeIsRefused() {
    assertInvalidToken(withHeader(h -> put(h, "typ", "logout+jwt")), "typ");
  }

  @Test
  void aClientNotInTheAllowedListIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "azp", "some-other-app")), "client some-other-app is not allowed");
  }

  @Test
  void aTokenNamingNoClientIsRefused() {
    assertInvalidToken(withClaims(c -> remove(c, "azp")), "names no client");
  }

  @Test
  void algNoneIsRefused() {
    String token = Jws.token(Map.of("alg", "none", "typ", "JWT"), f.claims(), Jws.unsigned());
    assertInvalidToken(bearer(token), "alg none");
    assertInvalidToken(bearer(Jws.token(Map.of("alg", "None"), f.claims(), Jws.rs256(RSA))), "alg none");
  }

  @Test
  void hs256IsRefused() {
    String token = Jws.token(Jws.header("HS256", RSA.kid()), f.claims(), Jws.hs256("secret-secret-secret-secret-1234".getBytes(StandardCharsets.UTF_8)));
    assertInvalidToken(bearer(token), "symmetric signatures (HS256)");
  }

  @Test
  void hs256SignedWithThePublicKeyBytesIsRefused() {
    // The classic key-confusion attack: the RSA public key, known to everyone, used as HMAC secret.
    RSAKey pub = ((RSAKey) RSA.jwk()).toPublicJWK();
    for (byte[] secret : List.of(RSA.pair().getPublic().getEncoded(), pub.toJSONString().getBytes(StandardCharsets.UTF_8),
        pub.getModulus().decode())) {
      String token = Jws.token(Jws.header("HS256", RSA.kid()), f.claims(), Jws.hs256(secret));
      assertInvalidToken(bearer(token), "symmetric");
    }
  }

  @Test
  void anAlgorithmOutsideTheAllowedListIsRefused() {
    JwtAuthenticator rsOnly = f.authenticator(b -> b.algorithms(List.of("RS256")));
    String ps256 = Jws.token(Jws.header("PS256", RSA.kid()), f.claims(), Jws.ps256(RSA));
    assertInvalidToken(await(rsOnly.authenticate("Bearer " + ps256, f.now())), "algorithm PS256 is not accepted");
    assertInvalidToken(withHeader(h -> put(h, "alg", "ES256K")), "algorithm ES256K is not accepted");
  }

  @Test
  void aTokenWithoutAlgIsRefused() {
    assertInvalidToken(withHeader(h -> remove(h, "alg")), "no alg");
  }

  @Test
  void aWrongIssuerIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "iss", f.idp.issuer() + "-other")), "another issuer");
    assertInvalidToken(withClaims(c -> remove(c, "iss")), "another issuer");
  }

  @Test
  void aWrongAudienceIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "aud", "account")), "not meant for this server");
    assertInvalidToken(withClaims(c -> put(c, "aud", List.of("account", "billing"))), "not meant for this server");
  }

  @Test
  void aMissingAudienceIsRefused() {
    assertInvalidToken(withClaims(c -> remove(c, "aud")), "not meant for this server");
  }

  @Test
  void anAudienceAsASingleStringIsAccepted() {
    accepted(withClaims(c -> put(c, "aud", "fhirwall")));
  }

  @Test
  void anAzpEqualToTheAudienceDoesNotStandInForAud() {
    JwtAuthenticator webAudience = f.authenticator(b -> b.clients(List.of("epr-web")));
    AuthOutcome o = await(webAudience.authenticate("Bearer " + f.token(c -> put(put(c, "aud", "account"), "azp", "fhirwall")), f.now()));
    assertInvalidToken(o, "not meant for this server");
  }

  @Test
  void anExpiredTokenIsRefused() {
    AuthOutcome o = withClaims(c -> put(c, "exp", f.now().minusSeconds(31).getEpochSecond()));
    assertInvalidToken(o, "token expired");
    assertThat(refused(o).code()).isEqualTo(IssueType.EXPIRED);
  }

  @Test
  void aTokenExpiredWithinTheClockSkewIsStillAccepted() {
    accepted(withClaims(c -> put(c, "exp", f.now().minusSeconds(29).getEpochSecond())));
  }

  @Test
  void aTokenNotValidYetIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "nbf", f.now().plusSeconds(31).getEpochSecond())), "not valid yet");
    accepted(withClaims(c -> put(c, "nbf", f.now().plusSeconds(29).getEpochSecond())));
  }

  @Test
  void aTokenIssuedInTheFutureIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "iat", f.now().plus(Duration.ofMinutes(2)).getEpochSecond())), "iat");
  }

  @Test
  void aTokenWithoutExpIsRefused() {
    assertInvalidToken(withClaims(c -> remove(c, "exp")), "no expiry");
  }

  @Test
  void anExpThatIsNotANumberIsRefused() {
    assertInvalidToken(withClaims(c -> put(c, "exp", "tomorrow")), "NumericDate");
  }

  @Test
  void aTokenWithoutSubIsRefused() {
    assertInvalidToken(withClaims(c -> remove(c, "sub")), "no subject");
    assertInvalidToken(withClaims(c -> put(c, "sub", "")), "no subject");
  }

  @Test
  void aJkuHeaderIsRefusedAndNeverFollowed() {
    int before = f.idp.jwksFetches.get();
    assertInvalidToken(withHeader(h -> put(h, "jku", f.idp.jwksUri().toString())), "(jku)");
    assertThat(f.idp.jwksFetches.get()).isEqualTo(before);
  }

  @Test
  void anX5uHeaderIsRefused() {
    assertInvalidToken(withHeader(h -> put(h, "x5u", "https://evil.example/cert.pem")), "(x5u)");
  }

  @Test
  void anEmbeddedJwkIsRefusedEvenWhenItVerifiesTheSignature() {
    Jws.TestKey attacker = Jws.rsa("rsa-1", 2048);
    Map<String, Object> header = Jws.header("RS256", "rsa-1");
    header.put("jwk", attacker.jwk().toPublicJWK().toJSONObject());
    assertInvalidToken(bearer(Jws.token(header, f.claims(), Jws.rs256(attacker))), "(jwk)");
  }

  @Test
  void anX5cHeaderIsRefused() {
    assertInvalidToken(withHeader(h -> put(h, "x5c", List.of("MIIB"))), "(x5c)");
  }

  @Test
  void criticalHeaderExtensionsAreRefused() {
    assertInvalidToken(withHeader(h -> put(put(h, "crit", List.of("b64")), "b64", false)), "crit");
  }

  @Test
  void aNestedTokenIsRefused() {
    assertInvalidToken(withHeader(h -> put(h, "cty", "JWT")), "nested");
  }

  @Test
  void aTokenOverTheSizeLimitIsRefusedUndecoded() {
    String big = f.token(c -> put(c, "padding", "x".repeat(5000)));
    assertInvalidToken(bearer(big), "token too large");
  }

  @Test
  void malformedBase64IsRefused() {
    String[] parts = f.token().split("\\.");
    assertInvalidToken(bearer(parts[0] + "." + parts[1].substring(0, 10) + "*" + parts[1].substring(11) + "." + parts[2]), "not base64url");
    assertInvalidToken(bearer(parts[0] + "=." + parts[1] + "." + parts[2]), "not base64url");
    assertInvalidToken(bearer(parts[0] + "." + parts[1] + "." + parts[2] + "é"), "not base64url");
  }

  @Test
  void malformedJsonIsRefused() {
    assertInvalidToken(bearer(Jws.rawToken("{\"alg\":\"RS256\"", "{}", Jws.rs256(RSA))), "header (not a JSON object)");
    assertInvalidToken(bearer(Jws.rawToken("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "[1,2]", Jws.rs256(RSA))),
        "payload (not a JSON object)");
    assertInvalidToken(bearer(Jws.rawToken("{\"alg\":\"RS256\"} {}", "{}", Jws.rs256(RSA))), "header (not a JSON object)");
  }

  @Test
  void duplicateMembersAreRefused() {
    assertInvalidToken(bearer(Jws.rawToken("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"alg\":\"none\"}", "{}", Jws.rs256(RSA))),
        "header (not a JSON object)");
    String claims = "{\"iss\":\"" + f.idp.issuer() + "\",\"sub\":\"a\",\"sub\":\"b\"}";
    assertInvalidToken(bearer(Jws.rawToken("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", claims, Jws.rs256(RSA))),
        "payload (not a JSON object)");
  }

  @Test
  void aWrongNumberOfSegmentsIsRefused() {
    String[] parts = f.token().split("\\.");
    assertInvalidToken(bearer(parts[0] + "." + parts[1]), "got 2");
    assertInvalidToken(bearer(parts[0]), "got 1");
    assertInvalidToken(bearer(f.token() + ".x"), "got 4");
    assertInvalidToken(bearer(parts[0] + "." + parts[1] + "."), "no signature");
  }

  @Test
  void anEncryptedTokenIsRefused() {
    assertInvalidToken(bearer("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), "JWE");
  }

  @Test
  void aTamperedPayloadFailsTheSignature() {
    String[] parts = f.token().split("\\.");
    String other = f.token(c -> put(c, "realm_access", Map.of("roles", List.of("admin"))));
    assertInvalidToken(bearer(parts[0] + "." + other.split("\\.")[1] + "." + parts[2]), "signature verification failed");
  }

  @Test
  void aSignatureByAnotherKeyUnderTheRightKidFails() {
    Jws.TestKey impostor = Jws.rsa("rsa-1", 2048);
    assertInvalidToken(bearer(Jws.token(Jws.header("RS256", "rsa-1"), f.claims(), Jws.rs256(impostor))),
        "signature verification failed");
  }

  @Test
  void theDescriptionNeverBreaksTheHeader() {
    Refusal r = refused(withClaims(c -> put(c, "azp", "a\"b\\c\r\nX-Injected: 1")));
    assertThat(r.headers().get("WWW-Authenticate")).doesNotContain("\r", "\n", "b\\c").contains("a?b?c??X-Injected");
  }

  private static Map<String, Object> put(Map<String, Object> m, String key, Object value) {
    Map<String, Object> copy = new java.util.LinkedHashMap<>(m);
    copy.put(key, value);
    return copy;
  }

  private static Map<String, Object> remove(Map<String, Object> m, String key) {
    Map<String, Object> copy = new java.util.LinkedHashMap<>(m);
    copy.remove(key);
    return copy;
  }
}
