package org.fhirwall.it.keycloak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The test copy of the shipped {@code fhirwall} realm: {@code docker/keycloak/fhirwall-realm.json}
 * as hospital IT imports it, plus the test users below and one change, OTP codes reusable within
 * their 30-second step (so two logins in the same step can use the same code). Client ids and the
 * shipped confidential clients' secrets are here too, so tests name them once.
 */
public final class TestRealm {
  public static final String REALM = "fhirwall";
  public static final String AUDIENCE = "fhirwall";

  /** Public client of clinical apps: password + OTP always. */
  public static final String WEB = "fhirwall-web";
  /** Public client that gets password-only tokens (the ones fhirwall must refuse). */
  public static final String PWD_ONLY = "fhirwall-pwd-only";
  /** The shipped SMART app client: public, PKCE, OTP, DPoP-bound tokens required. */
  public static final String SMART_APP = "fhirwall-smart-app";
  /** Public client whose tokens lack the fhirwall audience. */
  public static final String OTHER_APP = "other-app";
  /** Confidential client fhirwall uses for RFC 7662 introspection. */
  public static final String INTROSPECT = "fhirwall-introspect";
  public static final String INTROSPECT_SECRET = "test-only-introspect-secret-0f9c2a";
  /** Confidential client-credentials client whose service account has realm role bulk-export. */
  public static final String RESEARCH_EXPORT = "research-export";
  public static final String RESEARCH_EXPORT_SECRET = "test-only-research-export-secret-7b41d3";
  /** Confidential client whose service account may end user sessions (containment.end-idp-sessions). */
  public static final String CONTAINMENT = "fhirwall-containment";
  public static final String CONTAINMENT_SECRET = "test-only-containment-secret-5e8a19";

  /** Physician with password and TOTP. */
  public static final TestUser DR_MARTIN =
      new TestUser("dr.martin", "martin-pw-7Q", List.of("physician"), "JBSWY3DPEHPK3PXPMFRGGZDFMZTWQ2LK");
  /** Nurse with password and TOTP. */
  public static final TestUser NURSE_PETIT =
      new TestUser("nurse.petit", "petit-pw-3K", List.of("nurse"), "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA");
  /** Physician with a password and no OTP credential. */
  public static final TestUser NO_OTP = new TestUser("no.otp", "nootp-pw-9X", List.of("physician"), null);
  /** Physician with password and TOTP, kept for tests that disable a user (no other test uses it). */
  public static final TestUser DR_LEAVING =
      new TestUser("dr.leaving", "leaving-pw-4M", List.of("physician"), "MFZWIZLSORSXG5DJNZTSA33OMUQHI53P");

  /** An emergency physician whose session is stolen in the containment test (no other test uses it). */
  public static final TestUser DR_STOLEN =
      new TestUser("dr.stolen", "stolen-pw-8P", List.of("emergency"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");

  public static final List<TestUser> USERS = List.of(DR_MARTIN, NURSE_PETIT, NO_OTP, DR_LEAVING, DR_STOLEN);

  /**
   * Dr Martin's user attributes, which the shipped realm's mappers turn into claims: {@code patient}
   * (when an app asks for {@code launch/patient}) and {@code fhirUser} (when it asks for
   * {@code fhirUser}). p7 is a patient of every synthetic EPR the tests start.
   */
  public static final String MARTIN_PATIENT = "p7";
  public static final String MARTIN_FHIR_USER = "Practitioner/dr-martin";

  private TestRealm() {}

  /** The shipped realm file, from {@code fhirwall.docker.dir} (set by the build) or ../docker. */
  public static Path shippedRealmFile() {
    String dockerDir = System.getProperty("fhirwall.docker.dir");
    Path dir = dockerDir != null ? Path.of(dockerDir) : Path.of("..", "docker");
    Path file = dir.resolve("keycloak").resolve(REALM + "-realm.json");
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("shipped realm: " + file.toAbsolutePath() + " (expected: a file)");
    }
    return file;
  }

  /**
   * The walkthrough's user (docs/walkthrough.md), read from the users file compose imports beside
   * the shipped realm: its name, password, roles and OTP secret are public, for trying the stack.
   */
  public static TestUser walkthroughUser() {
    Path file = KeycloakServer.walkthroughUsersFile(shippedRealmFile());
    try {
      ObjectMapper json = new ObjectMapper();
      JsonNode users = json.readTree(file.toFile()).path("users");
      if (users.size() != 1) {
        throw new IllegalStateException(file + ": " + users.size() + " users (expected: 1)");
      }
      JsonNode user = users.get(0);
      String password = null;
      String totp = null;
      for (JsonNode c : user.path("credentials")) {
        switch (c.path("type").asText()) {
          case "password" -> password = c.path("value").asText();
          case "otp" -> totp = json.readTree(c.path("secretData").asText()).path("value").asText();
          default -> throw new IllegalStateException(file + ": credential " + c.path("type") + " (expected: password, otp)");
        }
      }
      java.util.List<String> roles = new java.util.ArrayList<>();
      user.path("realmRoles").forEach(r -> roles.add(r.asText()));
      if (password == null) {
        throw new IllegalStateException(file + ": no password credential");
      }
      return new TestUser(user.path("username").asText(), password, roles, totp);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + file, e);
    }
  }

  /** Writes the test realm (shipped realm + {@link #USERS}, reusable OTP codes) to {@code target}. */
  public static void write(Path shippedRealm, Path target) {
    ObjectMapper json = new ObjectMapper();
    try {
      ObjectNode realm = (ObjectNode) json.readTree(shippedRealm.toFile());
      if (!REALM.equals(realm.path("realm").asText())) {
        throw new IllegalStateException(
            shippedRealm + ": realm '" + realm.path("realm").asText() + "' (expected: " + REALM + ")");
      }
      realm.put("otpPolicyCodeReusable", true);
      // The shipped realm disables the clients that only exist to show refusals and ships no
      // client secrets (Keycloak makes one at import); the tests enable them and set their own.
      for (JsonNode c : realm.path("clients")) {
        ObjectNode client = (ObjectNode) c;
        switch (client.path("clientId").asText()) {
          case PWD_ONLY, OTHER_APP -> client.put("enabled", true);
          case INTROSPECT -> client.put("secret", INTROSPECT_SECRET);
          case RESEARCH_EXPORT -> client.put("secret", RESEARCH_EXPORT_SECRET);
          case CONTAINMENT -> client.put("secret", CONTAINMENT_SECRET);
          default -> { }
        }
      }
      JsonNode existing = realm.path("users");
      ArrayNode users = existing.isArray() ? (ArrayNode) existing : realm.putArray("users");
      for (TestUser user : USERS) {
        users.add(userJson(json, user));
      }
      Files.createDirectories(target.getParent());
      json.writerWithDefaultPrettyPrinter().writeValue(target.toFile(), realm);
    } catch (IOException e) {
      throw new UncheckedIOException("writing test realm " + target, e);
    }
  }

  private static ObjectNode userJson(ObjectMapper json, TestUser user) throws IOException {
    ObjectNode node = json.createObjectNode();
    node.put("username", user.username());
    node.put("enabled", true);
    String[] names = user.username().split("\\.", 2);
    node.put("firstName", names[0]);
    node.put("lastName", names.length > 1 ? names[1] : names[0]);
    node.put("email", user.username() + "@hospital.test");
    node.put("emailVerified", true);
    if (user.equals(DR_MARTIN)) {
      ObjectNode attributes = node.putObject("attributes");
      attributes.putArray("smart_patient").add(MARTIN_PATIENT);
      attributes.putArray("fhir_user").add(MARTIN_FHIR_USER);
    }
    ArrayNode roles = node.putArray("realmRoles");
    user.realmRoles().forEach(roles::add);
    ArrayNode credentials = node.putArray("credentials");
    ObjectNode password = credentials.addObject();
    password.put("type", "password");
    password.put("value", user.password());
    password.put("temporary", false);
    if (user.totpSecret() != null) {
      // Keycloak stores secretData and credentialData as JSON strings; secretEncoding BASE32 makes it
      // decode the secret the way authenticator apps do.
      ObjectNode otp = credentials.addObject();
      otp.put("type", "otp");
      otp.put("userLabel", "test authenticator");
      otp.put("secretData", json.writeValueAsString(json.createObjectNode().put("value", user.totpSecret())));
      otp.put(
          "credentialData",
          json.writeValueAsString(
              json.createObjectNode()
                  .put("subType", "totp")
                  .put("digits", 6)
                  .put("counter", 0)
                  .put("period", 30)
                  .put("algorithm", "HmacSHA1")
                  .put("secretEncoding", "BASE32")));
    }
    return node;
  }
}
