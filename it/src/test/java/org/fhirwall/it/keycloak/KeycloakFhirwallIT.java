package org.fhirwall.it.keycloak;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.demo.DemoFhirServer;
import org.fhirwall.demo.DemoStore;
import org.fhirwall.demo.DpopKey;
import org.fhirwall.server.Fhirwall;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The identity end to end: a real Keycloak with the shipped realm, fhirwall verifying its tokens
 * (discovery, JWKS, introspection), and a real HAPI FHIR server behind. A password alone opens
 * nothing; password + TOTP does, through the browser login and the direct grant.
 */
@ExtendWith(KeycloakExtension.class)
class KeycloakFhirwallIT {
  static final Duration INTROSPECTION_CACHE = Duration.ofSeconds(2);
  @TempDir static Path dir;
  static KeycloakServer keycloak;
  static DemoFhirServer epr;
  static DemoStore store;
  static Fhirwall fhirwall;
  static String base;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(KeycloakServer server) throws Exception {
    keycloak = server;
    store = DemoStore.withSyntheticData(3, 300, Clock.systemUTC());
    epr = DemoFhirServer.start(store, 0);
    Path policies = Files.createDirectories(dir.resolve("policies"));
    // The shipped physician example, as a hospital would deploy it (OTP within the working day).
    Files.copy(Path.of(System.getProperty("fhirwall.policies.dir", "../policies"), "roles", "physician.yaml"),
        policies.resolve("physician.yaml"));
    // The same role for tokens from the direct grant, which carry no auth_time: OTP without max-age.
    Files.writeString(policies.resolve("nurse.yaml"), """
        role: nurse-direct
        applies-to: {roles: [nurse]}
        authentication: {acr: [mfa], amr: [otp]}
        interactions: [read, search-type]
        resource-types: [Patient, Observation]
        patient-limits: [{window: 1h, max: 100}]
        """, UTF_8);
    // Emergency physicians in this test: a limit of 2 patients an hour that locks.
    Files.writeString(policies.resolve("emergency.yaml"), """
        role: emergency-test
        applies-to: {roles: [emergency]}
        authentication: {amr: [otp], max-age: 12h}
        interactions: [read]
        resource-types: [Patient]
        patient-limits: [{window: 1h, max: 2}]
        at-limit: {action: lock, lock-for: 1h, alert: true}
        batch: {max-entries: 2}
        """, UTF_8);
    Path containmentSecret = Files.writeString(dir.resolve("containment-secret"), TestRealm.CONTAINMENT_SECRET, UTF_8);
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:%d
        upstream: {url: %s}
        identity:
          issuer: %s
          audience: [fhirwall]
          clients: [fhirwall-web, fhirwall-pwd-only, other-app, fhirwall-smart-app]
          introspection:
            client-id: %s
            client-secret: %s
            cache: %ds
        cors: {allowed-origins: ["https://app.example"]}
        policies: %s
        audit: {file: %s}
        admin: {enabled: false}
        containment:
          end-idp-sessions: true
          client-id: %s
          client-secret-file: %s
        """.formatted(port, epr.baseUrl(), keycloak.issuer(), TestRealm.INTROSPECT, TestRealm.INTROSPECT_SECRET,
        INTROSPECTION_CACHE.toSeconds(), policies, dir.resolve("audit.jsonl"), TestRealm.CONTAINMENT, containmentSecret),
        UTF_8);
    DeploymentConfig deployment = new DeploymentLoader(n -> null).load(config, DeploymentLoader.Overrides.NONE);
    fhirwall = Fhirwall.start(deployment, new Fhirwall.Options(Clock.systemUTC(), null, 1, 0));
    base = deployment.publicBaseUrl().toString();
  }

  @AfterAll
  static void stop() {
    if (fhirwall != null) {
      fhirwall.close();
    }
    if (epr != null) {
      epr.close();
    }
  }

  HttpResponse<String> get(String path, String token) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + "/" + path)).header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aPasswordOnlyLoginOpensNothing() throws Exception {
    // A user WITH OTP logs in through a client whose flow does not ask for it: Keycloak issues a token.
    TokenSet pwd = keycloak.passwordGrant(TestRealm.PWD_ONLY, TestRealm.DR_MARTIN.username(), TestRealm.DR_MARTIN.password(), null);
    assertThat(pwd.accessClaims().path("amr").toString()).doesNotContain("otp");
    HttpResponse<String> r = get("Patient?family=Martin&_count=5", pwd.accessToken());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow())
        .contains("error=\"insufficient_user_authentication\"");
    assertThat(r.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"");
    // and through the MFA client, Keycloak itself refuses the password alone
    assertThatThrownBy(() -> keycloak.passwordGrant(TestRealm.WEB, TestRealm.DR_MARTIN.username(),
        TestRealm.DR_MARTIN.password(), null)).isInstanceOf(KeycloakRefusal.class);
  }

  /**
   * The password-only token that passes every check but the methods: a browser login (so {@code auth_time} is
   * there and fresh, inside the physician role's 12 h) through a client whose flow skips OTP. Only the role's
   * {@code amr-any-of: [otp, hwk]} can refuse it, and the challenge says nothing of the login's age.
   */
  @Test
  void aPasswordOnlyBrowserLoginWithAFreshAuthTimeIsRefusedForItsMethods() throws Exception {
    TokenSet pwd = keycloak.browserLogin(TestRealm.PWD_ONLY, TestRealm.DR_MARTIN.username(), TestRealm.DR_MARTIN.password(),
        null);
    com.fasterxml.jackson.databind.JsonNode claims = pwd.accessClaims();
    assertThat(claims.path("auth_time").asLong()).as("auth_time present").isPositive();
    assertThat(java.time.Instant.ofEpochSecond(claims.path("auth_time").asLong()))
        .isAfter(java.time.Instant.now().minus(Duration.ofHours(1)));
    assertThat(claims.path("amr").toString()).isEqualTo("[\"pwd\"]");
    assertThat(claims.path("realm_access").path("roles").toString()).contains("physician");
    HttpResponse<String> r = get("Patient?family=Martin&_count=5", pwd.accessToken());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    String challenge = r.headers().firstValue("WWW-Authenticate").orElseThrow();
    assertThat(challenge).contains("error=\"insufficient_user_authentication\"").doesNotContain("max_age");
    assertThat(r.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"");
  }

  HttpResponse<String> dpop(String path, String token, @org.jspecify.annotations.Nullable String proof) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/" + path)).header("Authorization", "DPoP " + token)
        .timeout(Duration.ofSeconds(30)).GET();
    if (proof != null) {
      b.header("DPoP", proof);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> withFreshProof(String path, String token, DpopKey key) throws Exception {
    return dpop(path, token, key.proof("GET", base + "/" + path, token));
  }

  @Test
  void aBearerTokenFromTheBrowserLoginIsRefusedWhereTheShippedPhysicianRoleRequiresDpop() throws Exception {
    TokenSet t = keycloak.browserLogin(TestRealm.WEB, TestRealm.DR_MARTIN.username(), TestRealm.DR_MARTIN.password(),
        TestRealm.DR_MARTIN.totpSecret());
    assertThat(t.accessClaims().has("auth_time")).isTrue();
    HttpResponse<String> r = get("Patient?family=Martin&_count=5", t.accessToken());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("DPoP ").contains("invalid_token");
    assertThat(r.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"");
  }

  @Test
  void theSmartAppsDpopBoundTokenWorksWithFreshProofsAndIsWorthNothingWithoutItsKey() throws Exception {
    DpopKey device = DpopKey.generate();
    // browser flow with PKCE, password + OTP, the code exchanged under a proof of the device key
    TokenSet t = keycloak.dpopBrowserLogin(TestRealm.SMART_APP, TestRealm.DR_MARTIN.username(),
        TestRealm.DR_MARTIN.password(), TestRealm.DR_MARTIN.totpSecret(), device);
    assertThat(t.accessClaims().path("cnf").path("jkt").asText()).as("Keycloak bound the token").isEqualTo(device.thumbprint());
    String path = "Patient?family=Martin&_count=5";
    for (int i = 0; i < 2; i++) {
      HttpResponse<String> ok = withFreshProof(path, t.accessToken(), device);
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      assertThat(ok.body()).contains("\"resourceType\":\"Patient\"");
    }
    // the same token, copied without the key
    HttpResponse<String> asBearer = get(path, t.accessToken());
    HttpResponse<String> noProof = dpop(path, t.accessToken(), null);
    DpopKey attacker = DpopKey.generate();
    HttpResponse<String> otherKey = dpop(path, t.accessToken(), attacker.proof("GET", base + "/" + path, t.accessToken()));
    String captured = device.proof("GET", base + "/" + path, t.accessToken());
    assertThat(dpop(path, t.accessToken(), captured).statusCode()).as("the clinician's own request").isEqualTo(200);
    HttpResponse<String> replayed = dpop(path, t.accessToken(), captured);
    HttpResponse<String> otherUrl = dpop(path, t.accessToken(), device.proof("GET", base + "/Observation", t.accessToken()));
    for (HttpResponse<String> r : List.of(asBearer, noProof, otherKey, replayed, otherUrl)) {
      assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("DPoP ")
          .contains("error=\"invalid_dpop_proof\"");
      assertThat(r.body()).doesNotContain("\"resourceType\":\"Patient\"");
    }
    assertThat(replayed.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("replayed");
  }

  @Test
  void theScopesTheSmartAppAskedKeycloakForNarrowWhatTheRoleAllows() throws Exception {
    String patient = store.samplePatientIds(1, 21).get(0);
    DpopKey device = DpopKey.generate();
    TokenSet observations = keycloak.dpopBrowserLogin(TestRealm.SMART_APP, TestRealm.DR_MARTIN.username(),
        TestRealm.DR_MARTIN.password(), TestRealm.DR_MARTIN.totpSecret(), device,
        java.util.Map.of("scope", "openid user/Observation.rs"));
    assertThat(observations.accessClaims().path("scope").asText()).contains("user/Observation.rs");
    // the physician role reads patients; this token's scope does not
    HttpResponse<String> readPatient = withFreshProof("Patient/" + patient, observations.accessToken(), device);
    assertThat(readPatient.statusCode()).as(readPatient.body()).isEqualTo(403);
    assertThat(readPatient.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Patient\"");
    HttpResponse<String> searchPatients = withFreshProof("Patient?family=Martin&_count=5", observations.accessToken(), device);
    assertThat(searchPatients.statusCode()).as(searchPatients.body()).isEqualTo(403);
    HttpResponse<String> readObservations =
        withFreshProof("Observation?subject=Patient/" + patient + "&_count=5", observations.accessToken(), device);
    assertThat(readObservations.statusCode()).as(readObservations.body()).isEqualTo(200);
    assertThat(readObservations.body()).contains("\"resourceType\":\"Bundle\"");
    // what an answer brings along is bound by the scopes too: the role includes the subject, the scope does not grant it
    HttpResponse<String> withSubjects = withFreshProof("Observation?subject=Patient/" + patient
        + "&_count=5&_include=Observation:subject", observations.accessToken(), device);
    assertThat(withSubjects.statusCode()).as(withSubjects.body()).isEqualTo(200);
    assertThat(withSubjects.body()).contains("\"resourceType\":\"Observation\"").doesNotContain("\"resourceType\":\"Patient\"");

    // a patient/ scope without a launch context grants nothing
    DpopKey other = DpopKey.generate();
    TokenSet noLaunch = keycloak.dpopBrowserLogin(TestRealm.SMART_APP, TestRealm.DR_MARTIN.username(),
        TestRealm.DR_MARTIN.password(), TestRealm.DR_MARTIN.totpSecret(), other,
        java.util.Map.of("scope", "openid patient/Observation.rs"));
    assertThat(noLaunch.accessClaims().path("scope").asText()).contains("patient/Observation.rs");
    assertThat(noLaunch.accessClaims().has("patient")).isFalse();
    HttpResponse<String> noContext =
        withFreshProof("Observation?subject=Patient/" + patient + "&_count=5", noLaunch.accessToken(), other);
    assertThat(noContext.statusCode()).as(noContext.body()).isEqualTo(403);
    assertThat(noContext.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Observation\"");
  }

  /**
   * The shipped realm's launch context: with {@code launch/patient}, Keycloak writes the user's
   * {@code smart_patient} attribute as the {@code patient} claim, and fhirwall confines the token to
   * that patient: her observations are served, another patient's are refused before the EPR.
   */
  @Test
  void aPatientLaunchContextFromKeycloakConfinesTheTokenToThatPatient() throws Exception {
    String own = TestRealm.MARTIN_PATIENT;
    assertThat(store.get("Patient", own)).as("the launch patient exists in the EPR").isPresent();
    String another = store.samplePatientIds(20, 23).stream().filter(id -> !id.equals(own)).findFirst().orElseThrow();
    DpopKey device = DpopKey.generate();
    TokenSet launched = keycloak.dpopBrowserLogin(TestRealm.SMART_APP, TestRealm.DR_MARTIN.username(),
        TestRealm.DR_MARTIN.password(), TestRealm.DR_MARTIN.totpSecret(), device,
        java.util.Map.of("scope", "openid launch/patient patient/Observation.rs patient/Patient.rs"));
    assertThat(launched.accessClaims().path("patient").asText()).isEqualTo(own);

    HttpResponse<String> hers = withFreshProof("Observation?subject=Patient/" + own + "&_count=5", launched.accessToken(), device);
    assertThat(hers.statusCode()).as(hers.body()).isEqualTo(200);
    assertThat(hers.body()).contains("\"resourceType\":\"Bundle\"").doesNotContain("Patient/" + another + "\"");
    HttpResponse<String> herRecord = withFreshProof("Patient/" + own, launched.accessToken(), device);
    assertThat(herRecord.statusCode()).as(herRecord.body()).isEqualTo(200);

    HttpResponse<String> theirs =
        withFreshProof("Observation?subject=Patient/" + another + "&_count=5", launched.accessToken(), device);
    assertThat(theirs.statusCode()).as(theirs.body()).isEqualTo(403);
    assertThat(theirs.body()).contains("OperationOutcome").doesNotContain("\"resourceType\":\"Observation\"");
    HttpResponse<String> theirRecord = withFreshProof("Patient/" + another, launched.accessToken(), device);
    assertThat(theirRecord.statusCode()).as(theirRecord.body()).isEqualTo(403);
    assertThat(theirRecord.body()).doesNotContain("\"resourceType\":\"Patient\"");
  }

  @Test
  void aSmartAppFindsWhereToLogInWithoutAToken() throws Exception {
    HttpResponse<String> config = http.send(HttpRequest.newBuilder(URI.create(base + "/.well-known/smart-configuration"))
        .GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(config.statusCode()).as(config.body()).isEqualTo(200);
    com.fasterxml.jackson.databind.JsonNode c = new com.fasterxml.jackson.databind.ObjectMapper().readTree(config.body());
    assertThat(c.path("issuer").asText()).isEqualTo(keycloak.issuer());
    assertThat(c.path("authorization_endpoint").asText()).isEqualTo(keycloak.issuer() + "/protocol/openid-connect/auth");
    assertThat(c.path("token_endpoint").asText()).isEqualTo(keycloak.tokenEndpoint());
    assertThat(c.path("introspection_endpoint").asText()).isNotBlank();
    assertThat(c.path("revocation_endpoint").asText()).isNotBlank();
    assertThat(c.path("code_challenge_methods_supported").toString()).contains("S256");
    assertThat(c.path("capabilities").toString()).contains("launch-standalone").contains("permission-v2");

    HttpResponse<String> metadata = http.send(HttpRequest.newBuilder(URI.create(base + "/metadata"))
        .header("Accept", "application/fhir+json").GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metadata.statusCode()).as(metadata.body()).isEqualTo(200);
    assertThat(metadata.body()).contains("\"resourceType\":\"CapabilityStatement\"").contains("SMART-on-FHIR")
        .contains("oauth-uris").contains(keycloak.tokenEndpoint()).doesNotContain("\"Patient/");

    HttpResponse<String> preflight = http.send(HttpRequest.newBuilder(URI.create(base + "/Patient"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET").header("Access-Control-Request-Headers", "authorization, dpop")
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(preflight.statusCode()).isEqualTo(204);
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).contains("https://app.example");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers").orElseThrow()).contains("dpop");
    assertThat(preflight.headers().firstValue("Access-Control-Allow-Credentials")).isEmpty();
    HttpResponse<String> foreign = http.send(HttpRequest.newBuilder(URI.create(base + "/Patient"))
        .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "GET").build(), HttpResponse.BodyHandlers.ofString());
    assertThat(foreign.statusCode()).isEqualTo(403);
    assertThat(foreign.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void passwordAndTotpThroughTheDirectGrantLetDataFlowWhereNoLoginAgeIsRequired() throws Exception {
    TokenSet t = keycloak.passwordGrant(TestRealm.WEB, TestRealm.NURSE_PETIT.username(), TestRealm.NURSE_PETIT.password(),
        TestRealm.NURSE_PETIT.totpNow());
    HttpResponse<String> r = get("Patient?family=Martin&_count=5", t.accessToken());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // the physician policy asks for a login within 12 h, which a direct-grant token (no auth_time) cannot show
    TokenSet doctor = keycloak.passwordGrant(TestRealm.WEB, TestRealm.DR_MARTIN.username(), TestRealm.DR_MARTIN.password(),
        TestRealm.DR_MARTIN.totpNow());
    HttpResponse<String> noAge = get("Patient?family=Martin&_count=5", doctor.accessToken());
    assertThat(noAge.statusCode()).isEqualTo(401);
    assertThat(noAge.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("insufficient_user_authentication")
        .contains("max_age=");
  }

  @Test
  void aLockEndsTheStolenSessionAtKeycloakToo() throws Exception {
    TokenSet t = keycloak.browserLogin(TestRealm.WEB, TestRealm.DR_STOLEN.username(), TestRealm.DR_STOLEN.password(),
        TestRealm.DR_STOLEN.totpSecret());
    assertThat(keycloak.introspect(t.accessToken(), TestRealm.INTROSPECT, TestRealm.INTROSPECT_SECRET).path("active")
        .asBoolean()).isTrue();
    List<String> ids = store.samplePatientIds(3, 5);
    assertThat(get("Patient/" + ids.get(0), t.accessToken()).statusCode()).isEqualTo(200);
    assertThat(get("Patient/" + ids.get(1), t.accessToken()).statusCode()).isEqualTo(200);
    assertThat(get("Patient/" + ids.get(2), t.accessToken()).statusCode()).as("the third patient locks").isEqualTo(429);
    // The lock is at fhirwall at once; the session at Keycloak ends shortly after (asynchronously; a
    // logout Keycloak fails, as a loaded machine's may, is tried again after 2 s, 4 s, 8 s ... until it
    // confirms it).
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    boolean active = true;
    while (active && System.nanoTime() < deadline) {
      active = keycloak.introspect(t.accessToken(), TestRealm.INTROSPECT, TestRealm.INTROSPECT_SECRET).path("active").asBoolean();
      if (active) {
        Thread.sleep(200);
      }
    }
    if (active) { // what fhirwall recorded of its attempts, for the failure's message
      String idp = Files.readAllLines(dir.resolve("audit.jsonl")).stream().filter(l -> l.contains("idp-") || l.contains("account-locked"))
          .collect(java.util.stream.Collectors.joining("\n"));
      assertThat(active).as("the stolen session is over at the IdP, not only at fhirwall; audit:\n" + idp).isFalse();
    }
    assertThatThrownBy(() -> keycloak.refresh(TestRealm.WEB, t.refreshToken())).isInstanceOf(KeycloakRefusal.class);
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("idp-sessions-ended");
  }

  @Test
  void aDisabledUserIsRefusedWithinTheIntrospectionCacheTime() throws Exception {
    // the run's Keycloak is shared: another test may have disabled this user already
    keycloak.setUserEnabled(TestRealm.DR_LEAVING.username(), true);
    DpopKey device = DpopKey.generate();
    TokenSet t = keycloak.dpopBrowserLogin(TestRealm.SMART_APP, TestRealm.DR_LEAVING.username(),
        TestRealm.DR_LEAVING.password(), TestRealm.DR_LEAVING.totpSecret(), device);
    assertThat(withFreshProof("Patient?family=Martin&_count=1", t.accessToken(), device).statusCode()).isEqualTo(200);
    keycloak.disableUser(TestRealm.DR_LEAVING.username());
    // Poll: refused at the latest once the cached "active" answer has expired.
    long deadline = System.nanoTime() + INTROSPECTION_CACHE.plusSeconds(5).toNanos();
    int status = 200;
    while (System.nanoTime() < deadline && status == 200) {
      Thread.sleep(250);
      status = withFreshProof("Patient?family=Martin&_count=1", t.accessToken(), device).statusCode();
    }
    assertThat(status).isEqualTo(401);
  }

  @Test
  void aTokenForAnotherClientOrAudienceIsRefused() throws Exception {
    TokenSet other = keycloak.browserLogin(TestRealm.OTHER_APP, TestRealm.DR_MARTIN.username(), TestRealm.DR_MARTIN.password(),
        TestRealm.DR_MARTIN.totpSecret());
    HttpResponse<String> r = get("Patient?family=Martin&_count=1", other.accessToken());
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("invalid_token");
    // an ID token is not an access token, even from the right client
    TokenSet web = keycloak.browserLogin(TestRealm.WEB, TestRealm.DR_MARTIN.username(), TestRealm.DR_MARTIN.password(),
        TestRealm.DR_MARTIN.totpSecret());
    assertThat(web.idToken()).isNotNull();
    assertThat(get("Patient?family=Martin&_count=1", web.idToken()).statusCode()).isEqualTo(401);
  }
}
