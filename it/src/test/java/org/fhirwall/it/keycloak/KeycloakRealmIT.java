package org.fhirwall.it.keycloak;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.fhirwall.it.keycloak.TestRealm.DR_LEAVING;
import static org.fhirwall.it.keycloak.TestRealm.DR_MARTIN;
import static org.fhirwall.it.keycloak.TestRealm.NO_OTP;
import static org.fhirwall.it.keycloak.TestRealm.NURSE_PETIT;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the shipped {@code fhirwall} realm makes a real Keycloak put in tokens, read straight from
 * the JWTs (no fhirwall involved). fhirwall's MFA policies rely on exactly these claims: {@code aud}
 * containing {@code fhirwall}, {@code acr} {@code mfa} (LoA 2) or {@code pwd} (LoA 1), {@code amr}
 * {@code [pwd, otp]} or {@code [pwd]}, and {@code auth_time} on browser logins.
 */
@ExtendWith(KeycloakExtension.class)
class KeycloakRealmIT {
  private static KeycloakServer keycloak;

  @BeforeAll
  static void keycloak(KeycloakServer server) {
    keycloak = server;
  }

  @Test
  void browserLoginWithPasswordAndOtpGivesAnMfaTokenForFhirwall() {
    TokenSet tokens =
        keycloak.browserLogin(TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(), DR_MARTIN.totpSecret());

    JsonNode claims = tokens.accessClaims();
    assertThat(claims.path("iss").asText()).isEqualTo(keycloak.issuer());
    assertThat(audiences(claims)).contains(TestRealm.AUDIENCE);
    assertThat(claims.path("azp").asText()).isEqualTo(TestRealm.WEB);
    assertThat(strings(claims.path("amr"))).containsExactlyInAnyOrder("pwd", "otp");
    assertThat(claims.path("acr").asText()).isEqualTo("mfa");
    assertThat(claims.path("auth_time").isIntegralNumber()).as("auth_time in %s", claims).isTrue();
    assertThat(claims.path("auth_time").asLong()).isPositive().isLessThanOrEqualTo(claims.path("iat").asLong());
    assertThat(claims.path("sid").asText()).isNotEmpty();
    assertThat(claims.path("preferred_username").asText()).isEqualTo(DR_MARTIN.username());
    assertThat(strings(claims.path("realm_access").path("roles"))).contains("physician");
    JsonNode id = tokens.idClaims();
    assertThat(id.path("acr").asText()).isEqualTo("mfa");
    assertThat(strings(id.path("amr"))).containsExactlyInAnyOrder("pwd", "otp");
  }

  @Test
  void fhirwallWebAsksForOtpEvenWhenTheClientRequestsPasswordOnly() {
    KeycloakRefusal refusal =
        catchThrowableOfType(
            KeycloakRefusal.class,
            () ->
                keycloak.browserLogin(
                    TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(), null, Map.of("acr_values", "pwd")));

    assertThat(refusal).as("a login that stops at the OTP form").isNotNull();
    assertThat(refusal.error()).isEqualTo(KeycloakRefusal.OTP_REQUIRED);
  }

  @Test
  void browserLoginOnThePasswordOnlyClientSkipsOtpForAUserWhoHasOne() {
    TokenSet tokens =
        keycloak.browserLogin(TestRealm.PWD_ONLY, DR_MARTIN.username(), DR_MARTIN.password(), null);

    JsonNode claims = tokens.accessClaims();
    assertThat(audiences(claims)).contains(TestRealm.AUDIENCE);
    assertThat(claims.path("azp").asText()).isEqualTo(TestRealm.PWD_ONLY);
    assertThat(strings(claims.path("amr"))).containsExactly("pwd");
    assertThat(claims.path("acr").asText()).isEqualTo("pwd");
    assertThat(claims.has("auth_time")).isTrue();
  }

  @Test
  void anSsoSessionFromAPasswordOnlyLoginStillNeedsOtpForFhirwallWeb() {
    Browser browser = keycloak.newBrowser();
    TokenSet passwordOnly =
        keycloak.browserLogin(browser, TestRealm.PWD_ONLY, DR_MARTIN.username(), DR_MARTIN.password(), null, Map.of());
    assertThat(passwordOnly.accessClaims().path("acr").asText()).isEqualTo("pwd");

    KeycloakRefusal refusal =
        catchThrowableOfType(
            KeycloakRefusal.class,
            () -> keycloak.browserLogin(browser, TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(), null, Map.of()));
    assertThat(refusal).as("step-up to the OTP form").isNotNull();
    assertThat(refusal.error()).isEqualTo(KeycloakRefusal.OTP_REQUIRED);

    JsonNode stepUp =
        keycloak
            .browserLogin(browser, TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(), DR_MARTIN.totpSecret(), Map.of())
            .accessClaims();
    assertThat(stepUp.path("acr").asText()).isEqualTo("mfa");
    assertThat(strings(stepUp.path("amr"))).containsExactlyInAnyOrder("pwd", "otp");
    assertThat(stepUp.path("sid").asText()).isEqualTo(passwordOnly.accessClaims().path("sid").asText());
  }

  @Test
  void directGrantWithTotpGivesAnMfaTokenWithoutAuthTime() {
    TokenSet tokens =
        keycloak.passwordGrant(TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(), DR_MARTIN.totpNow());

    JsonNode claims = tokens.accessClaims();
    assertThat(audiences(claims)).contains(TestRealm.AUDIENCE);
    assertThat(claims.path("azp").asText()).isEqualTo(TestRealm.WEB);
    assertThat(strings(claims.path("amr"))).containsExactlyInAnyOrder("pwd", "otp");
    assertThat(claims.path("acr").asText()).isEqualTo("mfa");
    assertThat(claims.path("sid").asText()).isNotEmpty();
    // Keycloak sets auth_time only for browser logins: a policy with max-age must refuse these tokens.
    assertThat(claims.has("auth_time")).as("auth_time in %s", claims).isFalse();
  }

  @Test
  void directGrantGivesTheNurseHerRole() {
    JsonNode claims =
        keycloak
            .passwordGrant(TestRealm.WEB, NURSE_PETIT.username(), NURSE_PETIT.password(), NURSE_PETIT.totpNow())
            .accessClaims();

    assertThat(strings(claims.path("realm_access").path("roles"))).contains("nurse").doesNotContain("physician");
    assertThat(strings(claims.path("amr"))).contains("otp");
  }

  @Test
  void directGrantWithoutTotpIsRefusedForFhirwallWeb() {
    KeycloakRefusal refusal =
        catchThrowableOfType(
            KeycloakRefusal.class,
            () -> keycloak.passwordGrant(TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(), null));

    assertThat(refusal).isNotNull();
    assertThat(refusal.status()).isEqualTo(401);
    assertThat(refusal.error()).isEqualTo("invalid_grant");
  }

  @Test
  void directGrantWithAWrongTotpIsRefusedForFhirwallWeb() {
    String wrong = DR_MARTIN.totpNow().equals("000000") ? "111111" : "000000";
    KeycloakRefusal refusal =
        catchThrowableOfType(
            KeycloakRefusal.class,
            () -> keycloak.passwordGrant(TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(), wrong));

    assertThat(refusal).isNotNull();
    assertThat(refusal.error()).isEqualTo("invalid_grant");
  }

  @Test
  void directGrantForAUserWithoutOtpIsRefusedForFhirwallWeb() {
    // Keycloak answers 500 unknown_error here (the required OTP step is not set up for the user and
    // the realm does not let users enrol during a login): refused all the same.
    KeycloakRefusal refusal =
        catchThrowableOfType(
            KeycloakRefusal.class,
            () -> keycloak.passwordGrant(TestRealm.WEB, NO_OTP.username(), NO_OTP.password(), null));

    assertThat(refusal).isNotNull();
    assertThat(refusal.status()).isGreaterThanOrEqualTo(400);
  }

  @Test
  void passwordOnlyClientGivesATokenWithoutOtpToAUserWhoHasOtp() {
    JsonNode claims =
        keycloak.passwordGrant(TestRealm.PWD_ONLY, DR_MARTIN.username(), DR_MARTIN.password(), null).accessClaims();

    assertThat(audiences(claims)).contains(TestRealm.AUDIENCE);
    assertThat(strings(claims.path("amr"))).containsExactly("pwd");
    assertThat(claims.path("acr").asText()).isEqualTo("pwd");
    assertThat(strings(claims.path("realm_access").path("roles"))).contains("physician");
  }

  @Test
  void passwordOnlyClientGivesATokenToAUserWithoutOtp() {
    JsonNode claims =
        keycloak.passwordGrant(TestRealm.PWD_ONLY, NO_OTP.username(), NO_OTP.password(), null).accessClaims();

    assertThat(strings(claims.path("amr"))).containsExactly("pwd");
    assertThat(claims.path("acr").asText()).isEqualTo("pwd");
  }

  @Test
  void otherAppTokensLackTheFhirwallAudience() {
    JsonNode claims =
        keycloak
            .passwordGrant(TestRealm.OTHER_APP, DR_MARTIN.username(), DR_MARTIN.password(), DR_MARTIN.totpNow())
            .accessClaims();

    assertThat(claims.path("azp").asText()).isEqualTo(TestRealm.OTHER_APP);
    assertThat(audiences(claims)).doesNotContain(TestRealm.AUDIENCE);
    // the same user, the same MFA: only the audience tells fhirwall this token is not for it
    assertThat(strings(claims.path("amr"))).contains("otp");
  }

  @Test
  void aDisabledUsersTokenIsInactiveAtIntrospection() {
    // the run's Keycloak is shared: another test may have disabled this user already
    keycloak.setUserEnabled(DR_LEAVING.username(), true);
    String token =
        keycloak
            .passwordGrant(TestRealm.WEB, DR_LEAVING.username(), DR_LEAVING.password(), DR_LEAVING.totpNow())
            .accessToken();
    JsonNode before = keycloak.introspect(token, TestRealm.INTROSPECT, TestRealm.INTROSPECT_SECRET);
    assertThat(before.path("active").asBoolean()).as("introspection before disabling: %s", before).isTrue();
    assertThat(before.path("acr").asText()).isEqualTo("mfa");
    // Keycloak's amr mapper does not write to introspection responses: amr must be read from the
    // verified JWT, introspection only says whether the token is still active.
    assertThat(before.has("amr")).as("amr in %s", before).isFalse();

    keycloak.disableUser(DR_LEAVING.username());

    JsonNode after = keycloak.introspect(token, TestRealm.INTROSPECT, TestRealm.INTROSPECT_SECRET);
    assertThat(after.path("active").isBoolean()).as("introspection after disabling: %s", after).isTrue();
    assertThat(after.path("active").asBoolean()).isFalse();
    KeycloakRefusal refusal =
        catchThrowableOfType(
            KeycloakRefusal.class,
            () ->
                keycloak.passwordGrant(
                    TestRealm.WEB, DR_LEAVING.username(), DR_LEAVING.password(), DR_LEAVING.totpNow()));
    assertThat(refusal).as("a disabled user cannot log in").isNotNull();
  }

  @Test
  void researchExportClientCredentialsTokenHasBulkExportAndNoUserSession() {
    JsonNode claims =
        TokenSet.payload(keycloak.clientCredentials(TestRealm.RESEARCH_EXPORT, TestRealm.RESEARCH_EXPORT_SECRET));

    assertThat(claims.path("azp").asText()).isEqualTo(TestRealm.RESEARCH_EXPORT);
    assertThat(audiences(claims)).contains(TestRealm.AUDIENCE);
    assertThat(strings(claims.path("realm_access").path("roles"))).contains("bulk-export");
    assertThat(claims.has("sid")).as("sid in %s", claims).isFalse();
    assertThat(claims.has("auth_time")).as("auth_time in %s", claims).isFalse();
    assertThat(claims.has("amr")).as("amr in %s", claims).isFalse();
    assertThat(claims.has("acr")).as("acr in %s", claims).isFalse();
  }

  @Test
  void wrongClientSecretGetsNoToken() {
    KeycloakRefusal refusal =
        catchThrowableOfType(
            KeycloakRefusal.class, () -> keycloak.clientCredentials(TestRealm.RESEARCH_EXPORT, "not-the-secret"));

    assertThat(refusal).isNotNull();
    assertThat(refusal.error()).isEqualTo("unauthorized_client");
  }

  @Test
  void theSmartAppGetsTheScopesItAsksForAndStillTheClaimsFhirwallNeeds() {
    org.fhirwall.demo.DpopKey device = org.fhirwall.demo.DpopKey.generate();
    TokenSet tokens = keycloak.dpopBrowserLogin(TestRealm.SMART_APP, DR_MARTIN.username(), DR_MARTIN.password(),
        DR_MARTIN.totpSecret(), device, Map.of("scope",
            "openid fhirUser launch/patient patient/Observation.rs patient/*.read"));

    JsonNode claims = tokens.accessClaims();
    List<String> scope = List.of(claims.path("scope").asText().split(" "));
    assertThat(scope).as("scope in %s", claims)
        .contains("openid", "fhirUser", "launch/patient", "patient/Observation.rs", "patient/*.read")
        .doesNotContain("user/*.rs", "user/Observation.rs", "patient/*.rs");
    assertThat(audiences(claims)).contains(TestRealm.AUDIENCE);
    assertThat(claims.path("azp").asText()).isEqualTo(TestRealm.SMART_APP);
    assertThat(strings(claims.path("realm_access").path("roles"))).contains("physician");
    assertThat(strings(claims.path("amr"))).containsExactlyInAnyOrder("pwd", "otp");
    assertThat(claims.path("acr").asText()).isEqualTo("mfa");
    assertThat(claims.path("auth_time").asLong()).isPositive();
    assertThat(claims.path("sid").asText()).isNotEmpty();
    assertThat(claims.path("preferred_username").asText()).isEqualTo(DR_MARTIN.username());
    assertThat(claims.path("cnf").path("jkt").asText()).isEqualTo(device.thumbprint());
    // the shipped mappers: launch/patient and fhirUser from the user's attributes
    assertThat(claims.path("patient").asText()).as("patient in %s", claims).isEqualTo(TestRealm.MARTIN_PATIENT);
    assertThat(claims.path("fhirUser").asText()).as("fhirUser in %s", claims).isEqualTo(TestRealm.MARTIN_FHIR_USER);
  }

  @Test
  void aSmartAppAskingForNoResourceScopeGetsNoneAndScopesAClientDoesNotOfferAreRefused() {
    JsonNode plain = keycloak.dpopBrowserLogin(TestRealm.SMART_APP, DR_MARTIN.username(), DR_MARTIN.password(),
        DR_MARTIN.totpSecret(), org.fhirwall.demo.DpopKey.generate()).accessClaims();
    assertThat(plain.path("scope").asText()).as("optional scopes only when asked").doesNotContain("/");
    assertThat(plain.has("patient")).as("no launch context unless launch/patient is asked for").isFalse();
    assertThat(plain.has("fhirUser")).as("no fhirUser unless asked for").isFalse();
    assertThat(strings(plain.path("realm_access").path("roles"))).contains("physician");

    KeycloakRefusal system = catchThrowableOfType(KeycloakRefusal.class,
        () -> keycloak.dpopBrowserLogin(TestRealm.SMART_APP, DR_MARTIN.username(), DR_MARTIN.password(),
            DR_MARTIN.totpSecret(), org.fhirwall.demo.DpopKey.generate(), Map.of("scope", "openid system/*.rs")));
    assertThat(system).as("a scope the app is not offered").isNotNull();
    assertThat(system.error()).isEqualTo("invalid_scope");
    KeycloakRefusal web = catchThrowableOfType(KeycloakRefusal.class,
        () -> keycloak.browserLogin(TestRealm.WEB, DR_MARTIN.username(), DR_MARTIN.password(),
            DR_MARTIN.totpSecret(), Map.of("scope", "openid user/*.rs")));
    assertThat(web).as("SMART scopes are for the SMART app only").isNotNull();
    assertThat(web.error()).isEqualTo("invalid_scope");
  }

  /** The realm file lists client scopes, so Keycloak adds none: the built-in clients keep theirs from the file. */
  @Test
  void theBuiltInClientsKeepKeycloaksDefaultScopes() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    String admin = keycloak.baseUri() + "/admin/realms/" + TestRealm.REALM;
    String token = keycloak.adminToken();
    for (String clientId : List.of("account-console", "fhirwall-web")) {
      JsonNode clients = json.readTree(http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(admin + "/clients?clientId=" + clientId)).header("Authorization", "Bearer " + token)
          .GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
      String id = clients.path(0).path("id").asText();
      assertThat(id).as(clientId).isNotEmpty();
      JsonNode scopes = json.readTree(http.send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(admin + "/clients/" + id + "/default-client-scopes"))
          .header("Authorization", "Bearer " + token).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString())
          .body());
      List<String> names = new ArrayList<>();
      scopes.forEach(scope -> names.add(scope.path("name").asText()));
      assertThat(names).as(clientId).contains("basic", "roles", "acr", "profile", "email", "web-origins");
    }
  }

  /** {@code aud} is a string when there is one audience and an array otherwise. */
  private static List<String> audiences(JsonNode claims) {
    return strings(claims.path("aud"));
  }

  private static List<String> strings(JsonNode node) {
    List<String> values = new ArrayList<>();
    if (node.isTextual()) {
      values.add(node.asText());
    } else if (node.isArray()) {
      node.forEach(value -> values.add(value.asText()));
    }
    return values;
  }
}
