package org.fhirwall.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirwall.auth.AuthFixture.RSA;
import static org.fhirwall.auth.AuthFixture.accepted;
import static org.fhirwall.auth.AuthFixture.await;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Verified claims to Principal, Keycloak-shaped and otherwise. */
class ClaimMappingTest {
  private final AuthFixture f = new AuthFixture();

  @AfterEach
  void close() {
    f.close();
  }

  private Principal principal(JwtAuthenticator auth, Map<String, Object> claims) {
    String token = Jws.token(Jws.header("RS256", RSA.kid()), claims, Jws.rs256(RSA));
    return accepted(await(auth.authenticate("Bearer " + token, f.now())));
  }

  private Principal principal(Map<String, Object> claims) {
    return principal(f.authenticator(), claims);
  }

  @Test
  void aKeycloakUserTokenMapsEveryClaim() {
    Map<String, Object> c = f.claims();
    c.put("patient", "Patient/123");
    Principal p = principal(c);
    assertThat(p.kind()).isEqualTo(Principal.Kind.USER);
    assertThat(p.issuer()).isEqualTo(f.idp.issuer());
    assertThat(p.subject()).isEqualTo("0d8f6e1c-user-alice");
    assertThat(p.username()).isEqualTo("alice");
    assertThat(p.clientId()).isEqualTo("epr-web");
    // realm roles and the roles of the token's own client (azp), not those of "account"; deduplicated
    assertThat(p.roles()).containsExactlyInAnyOrder("physician", "offline_access", "default-roles-test", "chart-reader");
    assertThat(p.acr()).isEqualTo("1");
    assertThat(p.amr()).containsExactlyInAnyOrder("pwd", "otp");
    assertThat(p.authTime()).isEqualTo(Instant.ofEpochSecond(f.now().getEpochSecond() - 60));
    assertThat(p.sessionId()).isEqualTo("3f1c2b9a-session");
    assertThat(p.scopes()).containsExactlyInAnyOrder("openid", "profile", "email");
    assertThat(p.patientContext()).isEqualTo("Patient/123");
    assertThat(p.expiresAt()).isEqualTo(f.now().plusSeconds(300));
    assertThat(p.tokenId()).isEqualTo(c.get("jti"));
  }

  /**
   * A signed {@code auth_time} later than now is no login, however recent it claims to be: it passed a role's
   * {@code max-age} (its age was negative). Beyond the clock skew the JWT checks allow ({@code iat}, {@code nbf}; 30 s
   * here) it fails a max-age closed like a missing one: 401 with the step-up challenge. Within the skew it is a login
   * just now.
   */
  @Test
  void anAuthTimeInTheFutureFailsAMaxAgeClosedLikeAMissingOne() {
    AuthenticationStrength recent = new AuthenticationStrength(java.util.Set.of(), java.util.Set.of("otp"), java.util.Set.of(),
        java.time.Duration.ofHours(12));
    Map<String, Object> c = f.claims();
    c.put("auth_time", f.now().plusSeconds(3600).getEpochSecond());
    Principal future = principal(c);
    var shortfall = StepUp.check(future, recent, f.now(), "Role physician requires a more recent authentication");
    assertThat(shortfall).as("a login an hour from now").isPresent();
    org.fhirwall.fhir.Refusal r = shortfall.get().refusal();
    assertThat(r.status()).isEqualTo(401);
    assertThat(r.code()).isEqualTo(org.fhirwall.fhir.IssueType.LOGIN);
    assertThat(r.headers().get("WWW-Authenticate")).contains("error=\"insufficient_user_authentication\"")
        .contains("max_age=43200");
    assertThat(r.diagnostics()).contains("auth_time");

    Map<String, Object> skewed = f.claims();
    skewed.put("auth_time", f.now().plusSeconds(20).getEpochSecond());
    assertThat(StepUp.check(principal(skewed), recent, f.now(), "x")).as("within the clock skew").isEmpty();
  }

  /**
   * Gap sweep 2: a token attests a login that happened before it was issued; one whose {@code auth_time} is later than
   * its {@code iat} (by more than the clock skew) says the IdP or whoever made it cannot be trusted on when: such an
   * {@code auth_time} passed a role's {@code max-age} for as long as the token lived. It is now no login, like a future
   * one, for good (401 with the step-up challenge under a {@code max-age}); within the skew it stands.
   */
  @Test
  void anAuthTimeLaterThanTheTokensIssueIsNoLogin() {
    AuthenticationStrength recent = new AuthenticationStrength(java.util.Set.of(), java.util.Set.of("otp"), java.util.Set.of(),
        java.time.Duration.ofHours(12));
    Map<String, Object> c = f.claims();
    c.put("iat", f.now().minusSeconds(7200).getEpochSecond());
    c.put("auth_time", f.now().minusSeconds(60).getEpochSecond());
    Principal late = principal(c);
    assertThat(late.authTime()).as("a login two hours after the token was issued").isNull();
    assertThat(StepUp.check(late, recent, f.now(), "x")).isPresent();
    assertThat(StepUp.check(late, recent, f.now(), "x").get().refusal().status()).isEqualTo(401);

    Map<String, Object> skewed = f.claims();
    skewed.put("iat", f.now().minusSeconds(100).getEpochSecond());
    skewed.put("auth_time", f.now().minusSeconds(80).getEpochSecond());
    assertThat(principal(skewed).authTime()).as("within the clock skew").isEqualTo(Instant.ofEpochSecond(
        (Long) skewed.get("auth_time")));
  }

  /** A principal whose future {@code auth_time} was dropped is not remembered: once that time has come, it holds it. */
  @Test
  void aTokenWhoseAuthTimeWasInTheFutureIsJudgedAgainLater() {
    JwtAuthenticator auth = f.authenticator();
    Map<String, Object> c = f.claims();
    // issued just ahead of the clock (within the skew), and its login after that but still within the skew of it
    c.put("iat", f.now().plusSeconds(25).getEpochSecond());
    c.put("auth_time", f.now().plusSeconds(55).getEpochSecond());
    String token = Jws.token(Jws.header("RS256", RSA.kid()), c, Jws.rs256(RSA));
    assertThat(accepted(await(auth.authenticate("Bearer " + token, f.now()))).authTime()).isNull();
    f.clock.advance(java.time.Duration.ofSeconds(90));
    assertThat(accepted(await(auth.authenticate("Bearer " + token, f.now()))).authTime())
        .isEqualTo(Instant.ofEpochSecond((Long) c.get("auth_time")));
  }

  @Test
  void aKeycloakClientCredentialsTokenIsAService() {
    Map<String, Object> c = f.claims();
    c.keySet().removeAll(List.of("sid", "auth_time", "acr", "amr"));
    c.put("sub", "5b1e-service-user");
    c.put("azp", "billing-export");
    c.put("client_id", "billing-export");
    c.put("preferred_username", "service-account-billing-export");
    Principal p = principal(c);
    assertThat(p.kind()).isEqualTo(Principal.Kind.SERVICE);
    assertThat(p.clientId()).isEqualTo("billing-export");
    assertThat(p.authTime()).isNull();
  }

  @Test
  void aTokenWhoseSubjectIsItsClientIsAService() {
    Map<String, Object> c = f.claims();
    c.keySet().removeAll(List.of("sid", "azp", "preferred_username"));
    c.put("client_id", "lab-feed");
    c.put("sub", "lab-feed");
    Principal p = principal(c);
    assertThat(p.kind()).isEqualTo(Principal.Kind.SERVICE);
    assertThat(p.clientId()).isEqualTo("lab-feed");
  }

  @Test
  void aServiceAccountNameInsideALoginSessionIsStillAUser() {
    Map<String, Object> c = f.claims();
    c.put("preferred_username", "service-account-epr-web");
    assertThat(principal(c).kind()).isEqualTo(Principal.Kind.USER);
    c.remove("sid");
    c.put("session_state", "abc");
    assertThat(principal(c).kind()).isEqualTo(Principal.Kind.USER);
  }

  @Test
  void aServiceAccountNameOfAnotherClientIsAUser() {
    Map<String, Object> c = f.claims();
    c.remove("sid");
    c.put("preferred_username", "service-account-billing-export");
    assertThat(principal(c).kind()).isEqualTo(Principal.Kind.USER);
  }

  @Test
  void amrAsOneStringAndScpAsAnArrayAreRead() {
    Map<String, Object> c = f.claims();
    c.put("amr", "otp");
    c.remove("scope");
    c.put("scp", List.of("patient/*.read", "launch"));
    Principal p = principal(c);
    assertThat(p.amr()).containsExactly("otp");
    assertThat(p.scopes()).containsExactlyInAnyOrder("patient/*.read", "launch");
  }

  @Test
  void missingOptionalClaimsMapToNullOrEmpty() {
    Map<String, Object> c = new LinkedHashMap<>(f.claims());
    c.keySet().removeAll(List.of("acr", "amr", "auth_time", "sid", "scope", "jti", "preferred_username", "realm_access",
        "resource_access"));
    String token = Jws.token(Jws.header("RS256", RSA.kid()), c, Jws.rs256(RSA));
    Principal p = accepted(await(f.authenticator().authenticate("Bearer " + token, f.now())));
    assertThat(p.acr()).isNull();
    assertThat(p.amr()).isEmpty();
    assertThat(p.authTime()).isNull();
    assertThat(p.sessionId()).isNull();
    assertThat(p.scopes()).isEmpty();
    assertThat(p.roles()).isEmpty();
    assertThat(p.username()).isNull();
    assertThat(p.displayName()).isEqualTo("0d8f6e1c-user-alice");
    assertThat(p.tokenId()).startsWith("sha256:").doesNotContain(token);
  }

  @Test
  void configuredRoleAndUsernameClaimsAreFollowed() {
    Map<String, Object> c = f.claims();
    c.put("https://example.org/roles", List.of("auditor"));
    c.put("groups", "ward-7");
    c.put("profile", Map.of("login", "a.smith"));
    JwtAuthenticator auth = f.authenticator(b -> b
        .roleClaims(List.of("https://example\\.org/roles", "groups", "resource_access.*.roles"))
        .usernameClaim("profile.login"));
    Principal p = principal(auth, c);
    assertThat(p.roles()).containsExactlyInAnyOrder("auditor", "ward-7", "chart-reader", "physician", "manage-account");
    assertThat(p.username()).isEqualTo("a.smith");
  }

  @Test
  void theLoadersAngleBracketPlaceholderMeansTheTokensClient() {
    JwtAuthenticator auth = f.authenticator(b -> b.roleClaims(List.of("resource_access.<client>.roles")));
    assertThat(principal(auth, f.claims()).roles()).containsExactlyInAnyOrder("chart-reader", "physician");
  }
}
