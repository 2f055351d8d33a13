package org.fhirwall.it.keycloak;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Static checks of docker/keycloak/fhirwall-realm.json, the file hospital IT imports: the things a
 * careless edit breaks without any Keycloak start noticing (KeycloakRealmIT checks the tokens).
 */
class ShippedRealmTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static JsonNode realm;

  @BeforeAll
  static void read() throws IOException {
    realm = JSON.readTree(TestRealm.shippedRealmFile().toFile());
  }

  @Test
  void theShippedRealmHasItsTestClientsOffAndNoClientSecret() {
    for (JsonNode c : realm.path("clients")) {
      assertThat(c.has("secret")).as("%s ships a secret", c.path("clientId").asText()).isFalse();
    }
    assertThat(client("fhirwall-pwd-only").path("enabled").asBoolean()).isFalse();
    assertThat(client("other-app").path("enabled").asBoolean()).isFalse();
    assertThat(client("fhirwall-web").path("enabled").asBoolean()).isTrue();
  }

  @Test
  void theSmartAppClientIsPublicWithPkceAndRequiresDpopBoundTokens() {
    JsonNode app = client(TestRealm.SMART_APP);
    assertThat(app.path("enabled").asBoolean()).isTrue();
    assertThat(app.path("publicClient").asBoolean()).isTrue();
    assertThat(app.path("directAccessGrantsEnabled").asBoolean()).isFalse();
    assertThat(app.path("attributes").path("pkce.code.challenge.method").asText()).isEqualTo("S256");
    assertThat(app.path("attributes").path("dpop.bound.access.tokens").asText()).isEqualTo("true");
    assertThat(app.path("attributes").path("minimum.acr.value").asText()).isEqualTo("mfa");
  }

  @Test
  void theSmartScopesAreOptionalForTheAppOnlyAndKeycloaksDefaultScopesAreKept() {
    Map<String, JsonNode> scopes = new HashMap<>();
    realm.path("clientScopes").forEach(s -> scopes.put(s.path("name").asText(), s));
    // listing clientScopes stops Keycloak creating its own: the ones tokens need must be in the file
    assertThat(scopes).containsKeys("basic", "roles", "acr", "profile", "email", "web-origins", "offline_access",
        "service_account");
    assertThat(scopes.get("roles").toString()).contains("oidc-usermodel-realm-role-mapper", "realm_access.roles");
    List<String> defaults = new ArrayList<>();
    realm.path("defaultDefaultClientScopes").forEach(s -> defaults.add(s.asText()));
    assertThat(defaults).contains("basic", "roles", "acr", "profile", "email", "web-origins");
    List<String> smart = List.of("fhirUser", "launch/patient", "patient/*.rs", "user/*.rs", "patient/Observation.rs",
        "user/Observation.rs", "patient/*.read");
    List<String> optional = new ArrayList<>();
    client(TestRealm.SMART_APP).path("optionalClientScopes").forEach(s -> optional.add(s.asText()));
    assertThat(optional).contains("offline_access").containsAll(smart);
    for (String name : smart) {
      assertThat(scopes).containsKey(name);
      assertThat(scopes.get(name).path("attributes").path("include.in.token.scope").asText()).as(name).isEqualTo("true");
    }
    assertThat(client(TestRealm.WEB).has("optionalClientScopes")).as("SMART scopes are for the app only").isFalse();
  }

  /**
   * The launch context and fhirUser come from user attributes that only an administrator may see or
   * set (a user must not choose the patient an app is confined to), declared in the realm's user profile.
   */
  @Test
  void theLaunchPatientAndFhirUserAreAdminOnlyAttributesMappedIntoTheToken() throws Exception {
    Map<String, JsonNode> scopes = new HashMap<>();
    realm.path("clientScopes").forEach(s -> scopes.put(s.path("name").asText(), s));
    JsonNode patient = scopes.get("launch/patient").path("protocolMappers").path(0);
    assertThat(patient.path("protocolMapper").asText()).isEqualTo("oidc-usermodel-attribute-mapper");
    assertThat(patient.path("config").path("user.attribute").asText()).isEqualTo("smart_patient");
    assertThat(patient.path("config").path("claim.name").asText()).isEqualTo("patient");
    assertThat(patient.path("config").path("access.token.claim").asText()).isEqualTo("true");
    JsonNode fhirUser = scopes.get("fhirUser").path("protocolMappers").path(0);
    assertThat(fhirUser.path("config").path("user.attribute").asText()).isEqualTo("fhir_user");
    assertThat(fhirUser.path("config").path("claim.name").asText()).isEqualTo("fhirUser");

    JsonNode provider = realm.path("components").path("org.keycloak.userprofile.UserProfileProvider").path(0);
    JsonNode profile = JSON.readTree(provider.path("config").path("kc.user.profile.config").path(0).asText());
    Map<String, JsonNode> attributes = new HashMap<>();
    profile.path("attributes").forEach(a -> attributes.put(a.path("name").asText(), a));
    assertThat(attributes).containsKeys("username", "email", "firstName", "lastName", "smart_patient", "fhir_user");
    for (String name : List.of("smart_patient", "fhir_user")) {
      assertThat(attributes.get(name).path("permissions").path("edit").toString()).as(name).isEqualTo("[\"admin\"]");
      assertThat(attributes.get(name).path("permissions").path("view").toString()).as(name).isEqualTo("[\"admin\"]");
    }
  }

  @Test
  void everyDescriptionFitsKeycloaksColumn() {
    // Keycloak stores a client's description in a VARCHAR(255): a longer one fails the whole import
    for (JsonNode c : realm.path("clients")) {
      assertThat(c.path("description").asText().length()).as(c.path("clientId").asText()).isLessThanOrEqualTo(255);
    }
  }

  @Test
  void shipsNoPeopleOnlyServiceAccounts() {
    List<String> users = new ArrayList<>();
    realm.path("users").forEach(user -> users.add(user.path("username").asText()));
    assertThat(users).containsExactly("service-account-research-export", "service-account-fhirwall-containment");
    for (var user : realm.path("users")) {
      assertThat(user.path("serviceAccountClientId").asText()).isNotEmpty();
      assertThat(user.has("credentials")).isFalse();
    }
    assertThat(realm.path("users").get(1).path("clientRoles").toString())
        .as("the containment account may end sessions and nothing else").isEqualTo("{\"realm-management\":[\"manage-users\"]}");
  }

  @Test
  void hasTheRolesOfTheExamplePolicies() {
    List<String> roles = new ArrayList<>();
    realm.path("roles").path("realm").forEach(role -> roles.add(role.path("name").asText()));
    assertThat(roles)
        .contains("physician", "nurse", "emergency", "pharmacist", "lab", "clerical", "billing", "bulk-export");
  }

  @Test
  void otpPolicyIsSixDigitThirtySecondSha1TotpAndCodesAreSingleUse() {
    assertThat(realm.path("otpPolicyType").asText()).isEqualTo("totp");
    assertThat(realm.path("otpPolicyAlgorithm").asText()).isEqualTo("HmacSHA1");
    assertThat(realm.path("otpPolicyDigits").asInt()).isEqualTo(6);
    assertThat(realm.path("otpPolicyPeriod").asInt()).isEqualTo(30);
    assertThat(realm.path("otpPolicyCodeReusable").asBoolean()).isFalse();
  }

  @Test
  void mapsAcrPwdToLevelOneAndMfaToLevelTwo() throws IOException {
    JsonNode map = JSON.readTree(realm.path("attributes").path("acr.loa.map").asText());
    assertThat(map.path("pwd").asInt()).isEqualTo(1);
    assertThat(map.path("mfa").asInt()).isEqualTo(2);
  }

  @Test
  void everyPasswordAndOtpStepNamesItsAmrValueForLongerThanASession() {
    Map<String, JsonNode> configs = new HashMap<>();
    realm.path("authenticatorConfig").forEach(config -> configs.put(config.path("alias").asText(), config.path("config")));
    Map<String, String> expected =
        Map.of(
            "auth-username-password-form", "pwd",
            "direct-grant-validate-password", "pwd",
            "auth-otp-form", "otp",
            "direct-grant-validate-otp", "otp");
    int checked = 0;
    for (JsonNode flow : realm.path("authenticationFlows")) {
      for (JsonNode execution : flow.path("authenticationExecutions")) {
        String reference = expected.get(execution.path("authenticator").asText());
        if (reference == null) {
          continue;
        }
        JsonNode config = configs.get(execution.path("authenticatorConfig").asText());
        assertThat(config).as("amr config of %s in %s", execution, flow.path("alias")).isNotNull();
        assertThat(config.path("default.reference.value").asText()).isEqualTo(reference);
        // Keycloak drops an amr value once auth_time + maxAge has passed (absent maxAge = 0).
        assertThat(config.path("default.reference.maxAge").asInt())
            .isGreaterThanOrEqualTo(realm.path("ssoSessionMaxLifespan").asInt());
        checked++;
      }
    }
    assertThat(checked).as("browser pwd + otp, direct grant pwd + otp, password-only direct grant pwd").isEqualTo(5);
  }

  @Test
  void fhirwallWebNeedsLevelTwoAndItsAccessTokensNameFhirwall() {
    JsonNode web = client("fhirwall-web");
    assertThat(web.path("attributes").path("minimum.acr.value").asText()).isEqualTo("mfa");
    assertThat(web.path("publicClient").asBoolean()).isTrue();
    assertThat(mapperTypes(web)).contains("oidc-audience-mapper", "oidc-amr-mapper", "oidc-acr-mapper");
    assertThat(audienceOf(web)).isEqualTo("fhirwall");
    assertThat(audienceOf(client("other-app"))).isNull();
  }

  @Test
  void clientFlowOverridesPointAtFlowsOfTheFile() {
    Map<String, String> aliasById = new HashMap<>();
    realm.path("authenticationFlows").forEach(flow -> aliasById.put(flow.path("id").asText(), flow.path("alias").asText()));
    assertThat(aliasById.get(client("fhirwall-web").path("authenticationFlowBindingOverrides").path("direct_grant").asText()))
        .isEqualTo("fhirwall direct grant");
    assertThat(aliasById.get(client("fhirwall-pwd-only").path("authenticationFlowBindingOverrides").path("direct_grant").asText()))
        .isEqualTo("fhirwall direct grant password only");
    assertThat(realm.path("directGrantFlow").asText()).isEqualTo("fhirwall direct grant");
    assertThat(realm.path("browserFlow").asText()).isEqualTo("fhirwall browser");
  }

  @Test
  void theTestCopyAddsUsersAndMakesCodesReusable(@TempDir Path dir) throws IOException {
    Path copy = dir.resolve("import").resolve("fhirwall-realm.json");
    TestRealm.write(TestRealm.shippedRealmFile(), copy);

    JsonNode test = JSON.readTree(Files.readString(copy));
    assertThat(test.path("otpPolicyCodeReusable").asBoolean()).isTrue();
    List<String> users = new ArrayList<>();
    test.path("users").forEach(user -> users.add(user.path("username").asText()));
    assertThat(users).contains("dr.martin", "nurse.petit", "no.otp", "dr.leaving", "service-account-research-export");
    JsonNode martin = test.path("users").get(users.indexOf("dr.martin"));
    JsonNode otp = martin.path("credentials").get(1);
    assertThat(otp.path("type").asText()).isEqualTo("otp");
    assertThat(JSON.readTree(otp.path("secretData").asText()).path("value").asText())
        .isEqualTo(TestRealm.DR_MARTIN.totpSecret());
    assertThat(JSON.readTree(otp.path("credentialData").asText()).path("secretEncoding").asText()).isEqualTo("BASE32");
  }

  /**
   * The walkthrough's users file (compose imports it beside the realm) holds one physician with a
   * password and an OTP secret set up the way the realm's OTP policy asks, and nothing else: no
   * client, no realm setting, so the realm hospital IT imports stays the shipped file alone.
   */
  @Test
  void theWalkthroughUserFileAddsOnePhysicianWithAnOtpOfTheRealmsPolicy() throws IOException {
    Path file = KeycloakServer.walkthroughUsersFile(TestRealm.shippedRealmFile());
    JsonNode users = JSON.readTree(file.toFile());
    List<String> keys = new ArrayList<>();
    users.fieldNames().forEachRemaining(keys::add);
    assertThat(keys).containsExactlyInAnyOrder("realm", "users");
    assertThat(users.path("realm").asText()).isEqualTo(realm.path("realm").asText());
    assertThat(file.getFileName()).hasToString(realm.path("realm").asText() + "-users-0.json");

    TestUser user = TestRealm.walkthroughUser();
    List<String> realmRoles = new ArrayList<>();
    realm.path("roles").path("realm").forEach(r -> realmRoles.add(r.path("name").asText()));
    assertThat(user.realmRoles()).containsExactly("physician");
    assertThat(realmRoles).containsAll(user.realmRoles());
    assertThat(user.totpSecret()).matches("[A-Z2-7]{32}");
    for (JsonNode c : users.path("users").get(0).path("credentials")) {
      if (c.path("type").asText().equals("otp")) {
        JsonNode data = JSON.readTree(c.path("credentialData").asText());
        assertThat(data.path("algorithm").asText()).isEqualTo(realm.path("otpPolicyAlgorithm").asText());
        assertThat(data.path("digits").asInt()).isEqualTo(realm.path("otpPolicyDigits").asInt());
        assertThat(data.path("period").asInt()).isEqualTo(realm.path("otpPolicyPeriod").asInt());
        assertThat(data.path("secretEncoding").asText()).isEqualTo("BASE32");
      }
    }
    // the walkthrough tells the reader all three
    String walkthrough = Files.readString(TestRealm.shippedRealmFile().toAbsolutePath().getParent().getParent().getParent()
        .resolve("docs").resolve("walkthrough.md"));
    assertThat(walkthrough).contains(user.username(), user.password(), user.totpSecret());
    assertThat(TestRealm.USERS).noneMatch(u -> u.username().equals(user.username()));
  }

  private static JsonNode client(String clientId) {
    for (JsonNode client : realm.path("clients")) {
      if (clientId.equals(client.path("clientId").asText())) {
        return client;
      }
    }
    throw new AssertionError("no client " + clientId);
  }

  private static List<String> mapperTypes(JsonNode client) {
    List<String> types = new ArrayList<>();
    client.path("protocolMappers").forEach(mapper -> types.add(mapper.path("protocolMapper").asText()));
    return types;
  }

  private static String audienceOf(JsonNode client) {
    for (JsonNode mapper : client.path("protocolMappers")) {
      if ("oidc-audience-mapper".equals(mapper.path("protocolMapper").asText())) {
        return mapper.path("config").path("included.custom.audience").asText();
      }
    }
    return null;
  }
}
