package org.fhirwall.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirwall.auth.AuthSettings;
import org.fhirwall.fhir.ParseResult;
import org.fhirwall.fhir.ParserSettings;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.fhir.RawRequest;
import org.fhirwall.fhir.RequestParser;
import org.fhirwall.inspect.Inspection;
import org.fhirwall.inspect.ResponseBody;
import org.fhirwall.inspect.ResponseInspector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeploymentLoaderTest {
  @TempDir
  Path dir;

  static final String MINIMAL = """
      upstream: {url: http://epr/fhir}
      identity: {issuer: https://idp/realms/x, audience: fhirwall, clients: [web]}
      policies: roles
      """;

  private Path write(String yaml) throws Exception {
    Files.createDirectories(dir.resolve("roles"));
    Path f = dir.resolve("fhirwall.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private final Map<String, String> env = new HashMap<>(Map.of("EPR_KEY", "s3cret"));
  private final DeploymentLoader loader = new DeploymentLoader(env::get);

  private List<String> problems(Path file, DeploymentLoader.Overrides overrides) {
    try {
      loader.load(file, overrides);
    } catch (ConfigException e) {
      return e.problems().stream().map(ConfigProblem::toString).toList();
    }
    throw new AssertionError("loaded without a problem");
  }

  @Test
  void aFullDeploymentFileIsReadWithPathsRelativeToIt() throws Exception {
    Path f = write("""
        listen: 0.0.0.0:8443
        public-base-url: https://fhir.hospital.example/fhir
        upstream:
          url: http://epr.internal:8080/fhir
          connect-timeout: 1s
          response-timeout: 20s
          headers:
            X-Api-Key: ${EPR_KEY}
        identity:
          issuer: https://sso.hospital.example/realms/fhirwall
          audience: [fhirwall]
          clients: [fhirwall-web]
          clock-skew: 10s
        policies: roles
        limits:
          max-request-body: 1MiB
          max-initial-line: 4096
          request-timeout: 15s
        audit:
          file: logs/audit.jsonl
        admin:
          listen: 127.0.0.1:9191
        """);
    DeploymentConfig c = loader.load(f, DeploymentLoader.Overrides.NONE);
    assertThat(c.listen().toString()).isEqualTo("0.0.0.0:8443");
    assertThat(c.basePath()).isEqualTo("/fhir");
    assertThat(c.upstream().url().toString()).isEqualTo("http://epr.internal:8080/fhir");
    assertThat(c.upstream().responseTimeout()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.upstream().headers()).containsEntry("X-Api-Key", "s3cret");
    assertThat(c.upstream().toString()).doesNotContain("s3cret");
    assertThat(c.identity().audiences()).containsExactly("fhirwall");
    assertThat(c.identity().clockSkew()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.policies()).isEqualTo(dir.resolve("roles").toAbsolutePath().normalize());
    assertThat(c.limits().maxRequestBody()).isEqualTo(1 << 20);
    assertThat(c.limits().maxInitialLine()).isEqualTo(4096);
    assertThat(c.audit().file()).isEqualTo(dir.resolve("logs/audit.jsonl").toAbsolutePath().normalize());
    assertThat(c.admin().listen().port()).isEqualTo(9191);
    assertThat(c.warnings()).isEmpty();
  }

  @Test
  void anAdminListenerBeyondLoopbackNeedsOperatorTokens() throws Exception {
    assertThat(problems(write(MINIMAL + "admin: {listen: 0.0.0.0:9091}\n"), DeploymentLoader.Overrides.NONE))
        .singleElement().asString().contains("admin.listen: 0.0.0.0:9091 without admin.token-file");
    Files.writeString(dir.resolve("tokens"), "alice " + "t".repeat(40) + "\n");
    DeploymentConfig c = loader.load(write(MINIMAL + "admin: {listen: 0.0.0.0:9091, token-file: tokens, hosts: [admin.internal]}\n"),
        DeploymentLoader.Overrides.NONE);
    assertThat(c.admin().tokenFile()).isEqualTo(dir.resolve("tokens").toAbsolutePath().normalize());
    assertThat(c.admin().hosts()).containsExactly("admin.internal");
    assertThat(loader.load(write(MINIMAL), DeploymentLoader.Overrides.NONE).admin().tokenFile())
        .as("on loopback the lock API may stay closed").isNull();
  }

  @Test
  void leftOutKeysGetTheSchemasDefaultsWhichAreAuthSettingsDefaults() throws Exception {
    DeploymentConfig c = loader.load(write(MINIMAL), DeploymentLoader.Overrides.NONE);
    assertThat(c.listen().toString()).isEqualTo("127.0.0.1:8080");
    assertThat(c.publicBaseUrl()).hasToString("http://127.0.0.1:8080/fhir");
    assertThat(c.limits()).isEqualTo(new DeploymentConfig.Limits(2 << 20, 64L << 20, 8192, 16384, 100, Duration.ofSeconds(30),
        Duration.ofSeconds(60), 10_000, Duration.ofSeconds(20)));
    assertThat(c.upstream().circuitBreaker()).isEqualTo(new DeploymentConfig.CircuitBreaker(50, 20, Duration.ofSeconds(30),
        Duration.ofSeconds(10)));
    assertThat(c.admin().listen()).hasToString("127.0.0.1:9091");
    assertThat(c.paging().linkTtl()).isEqualTo(Duration.ofHours(1));
    assertThat(c.policyReload().allowWeakening()).isFalse();
    assertThat(c.nonMfaAcr()).containsExactlyInAnyOrder("0", "1", "pwd");
    assertThat(c.breakGlassHeader()).isEqualTo("X-Break-Glass-Reason");
    assertThat(c.audit().file()).isEqualTo(dir.resolve("fhirwall-audit.jsonl"));
    assertThat(c.identity()).isEqualTo(AuthSettings.builder("https://idp/realms/x", List.of("fhirwall")).clients(List.of("web")).build());
  }

  @Test
  void dpopAndCorsHaveSafeDefaultsAndAreRead() throws Exception {
    DeploymentConfig d = loader.load(write(MINIMAL), DeploymentLoader.Overrides.NONE);
    assertThat(d.dpop()).isEqualTo(org.fhirwall.auth.DpopSettings.DEFAULTS);
    assertThat(d.cors().allowedOrigins()).as("no origin unless listed").isEmpty();
    DeploymentConfig c = loader.load(write("""
        upstream: {url: http://epr/fhir}
        identity:
          issuer: https://idp/realms/x
          audience: fhirwall
          clients: [web]
          dpop: {proof-max-age: 30s, nonces: true, nonce-lifetime: 2m}
        cors: {allowed-origins: ["https://app.example:8443"], max-age: 1h}
        policies: roles
        """), DeploymentLoader.Overrides.NONE);
    assertThat(c.dpop()).isEqualTo(new org.fhirwall.auth.DpopSettings(Duration.ofSeconds(30), true, Duration.ofMinutes(2)));
    assertThat(c.cors()).isEqualTo(new DeploymentConfig.Cors(List.of("https://app.example:8443"), Duration.ofHours(1)));
    assertThat(problems(write(MINIMAL.replace("policies: roles", "cors: {allowed-origins: [\"https://app.example/path\"]}\n"
        + "policies: roles")), DeploymentLoader.Overrides.NONE)).singleElement().asString().contains("cors.allowed-origins");
    assertThat(problems(write(MINIMAL.replace("clients: [web]}", "clients: [web], dpop: {proof-max-age: 1h}}")),
        DeploymentLoader.Overrides.NONE)).singleElement().asString().contains("identity.dpop.proof-max-age");
  }

  @Test
  void aFirstTryNeedsNoFileAtAll() throws Exception {
    Files.createDirectories(dir.resolve("roles"));
    DeploymentConfig c = loader.load(null, DeploymentLoader.Overrides.of(Map.of("--listen", "127.0.0.1:9000",
        "--upstream", "http://127.0.0.1:8081/fhir", "--issuer", "http://127.0.0.1:8180/realms/fhirwall", "--audience", "fhirwall",
        "--policies", dir.resolve("roles").toString())));
    assertThat(c.listen().port()).isEqualTo(9000);
    assertThat(c.publicBaseUrl().toString()).isEqualTo("http://127.0.0.1:9000/fhir");
    assertThat(c.identity().issuer()).isEqualTo("http://127.0.0.1:8180/realms/fhirwall");
    assertThat(c.identity().audiences()).containsExactly("fhirwall");
  }

  @Test
  void flagsOverrideTheKeysTheFileAlsoSets() throws Exception {
    Path f = write("""
        listen: 0.0.0.0:8080
        public-base-url: http://localhost:8080/fhir
        upstream: {url: http://epr/fhir}
        identity: {issuer: https://idp/realms/x, audience: [fhirwall], clients: [web]}
        policies: /nowhere
        """);
    Path roles = Files.createDirectories(dir.resolve("other-roles"));
    DeploymentConfig c = loader.load(f, DeploymentLoader.Overrides.of(Map.of("--listen", "127.0.0.1:9443",
        "--public-base-url", "https://fhir.example/r4", "--policies", roles.toString(), "--upstream", "http://epr2/fhir",
        "--issuer", "https://idp2/realms/y", "--audience", "other")));
    assertThat(c.listen()).hasToString("127.0.0.1:9443");
    assertThat(c.publicBaseUrl()).hasToString("https://fhir.example/r4");
    assertThat(c.policies()).isEqualTo(roles);
    assertThat(c.upstream().url()).hasToString("http://epr2/fhir");
    assertThat(c.identity().issuer()).isEqualTo("https://idp2/realms/y");
    assertThat(c.identity().audiences()).containsExactly("other");
  }

  @Test
  void precedenceIsFlagThenEnvironmentThenFileThenDefault() throws Exception {
    Path f = write(MINIMAL + "listen: 127.0.0.1:8001\nlimits: {max-headers: 50}\n");
    env.put("FHIRWALL_LISTEN", "127.0.0.1:8002");
    env.put("FHIRWALL_LIMITS_MAX_HEADERS", "60");
    env.put("FHIRWALL_UPSTREAM_CIRCUIT_BREAKER_FAILURE_RATE", "25");
    env.put("FHIRWALL_IDENTITY_AUDIENCE", "fhirwall, billing");
    env.put("FHIRWALL_ADMIN_ENABLED", "false");
    DeploymentConfig fromEnv = loader.load(f, DeploymentLoader.Overrides.NONE);
    assertThat(fromEnv.listen().port()).isEqualTo(8002);
    assertThat(fromEnv.limits().maxHeaders()).isEqualTo(60);
    assertThat(fromEnv.upstream().circuitBreaker().failureRatePercent()).isEqualTo(25);
    assertThat(fromEnv.identity().audiences()).containsExactlyInAnyOrder("fhirwall", "billing");
    assertThat(fromEnv.admin()).isNull();
    assertThat(fromEnv.limits().maxInitialLine()).isEqualTo(8192);
    DeploymentConfig fromFlag = loader.load(f, DeploymentLoader.Overrides.of(Map.of("--listen", "127.0.0.1:8003")));
    assertThat(fromFlag.listen().port()).isEqualTo(8003);
  }

  @Test
  void aBadValueFromTheEnvironmentNamesTheVariable() throws Exception {
    env.put("FHIRWALL_UPSTREAM_MAX_CONCURRENT", "lots");
    assertThat(problems(write(MINIMAL), DeploymentLoader.Overrides.NONE)).containsExactly(
        "environment variable FHIRWALL_UPSTREAM_MAX_CONCURRENT: upstream.max-concurrent: lots (expected: a whole number 1..100000)");
    assertThat(problems(write(MINIMAL), DeploymentLoader.Overrides.of(Map.of("--listen", "localhost")))).contains(
        "flag --listen: listen: localhost (expected: host:port, e.g. 0.0.0.0:8080)");
  }

  @Test
  void everyKeyHasItsOwnEnvironmentVariable() {
    Set<String> names = new HashSet<>();
    List<String> keys = new ArrayList<>();
    for (Schema.Key k : Schema.DEPLOYMENT.scalarKeys()) {
      String name = Schema.envName("FHIRWALL_", k.path());
      assertThat(names.add(name)).as(name + " names one key only").isTrue();
      keys.add(k.display() + "=" + name);
    }
    assertThat(keys).contains("upstream.url=FHIRWALL_UPSTREAM_URL", "identity.issuer=FHIRWALL_IDENTITY_ISSUER",
        "identity.introspection.client-secret=FHIRWALL_IDENTITY_INTROSPECTION_CLIENT_SECRET",
        "policy-reload.allow-weakening=FHIRWALL_POLICY_RELOAD_ALLOW_WEAKENING", "break-glass-header=FHIRWALL_BREAK_GLASS_HEADER");
  }

  @Test
  void variablesExpandInListsNumbersBooleansAndDurations() throws Exception {
    env.putAll(Map.of("AUD", "fhirwall", "CLIENTS", "web", "CONCURRENT", "12", "ADMIN", "false", "TIMEOUT", "5s", "RATE", "75"));
    Path f = write("""
        upstream:
          url: http://epr/fhir
          max-concurrent: ${CONCURRENT}
          response-timeout: ${TIMEOUT}
          circuit-breaker: {failure-rate: "${RATE}"}
        identity:
          issuer: https://idp/realms/x
          audience: ["${AUD}", other]
          clients: ${CLIENTS}
        policies: roles
        admin:
          enabled: ${ADMIN}
        """);
    DeploymentConfig c = loader.load(f, DeploymentLoader.Overrides.NONE);
    assertThat(c.upstream().maxConcurrent()).isEqualTo(12);
    assertThat(c.upstream().responseTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.upstream().circuitBreaker().failureRatePercent()).isEqualTo(75);
    assertThat(c.identity().audiences()).containsExactlyInAnyOrder("fhirwall", "other");
    assertThat(c.identity().clients()).containsExactly("web");
    assertThat(c.admin()).isNull();
  }

  @Test
  void anUnsetVariableIsAnErrorWhereverItStands() throws Exception {
    Path f = write("""
        upstream:
          url: http://epr/fhir
          max-concurrent: ${NOT_SET}
          headers:
            X-Api-Key: ${ALSO_NOT_SET}
        identity: {issuer: https://idp/realms/x, audience: [fhirwall], clients: [web]}
        policies: roles
        """);
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).anySatisfy(p -> assertThat(p).startsWith(f + ":3:19: upstream.max-concurrent: "
        + "environment variable NOT_SET is not set")).anySatisfy(p -> assertThat(p).contains(":5:16: upstream.headers.X-Api-Key: "
        + "environment variable ALSO_NOT_SET is not set"));
  }

  @Test
  void aRequestBodyLimitAbove10MiBReachesTheRequestParser() throws Exception {
    DeploymentConfig c = loader.load(write(MINIMAL + "limits: {max-request-body: 12MiB}\n"), DeploymentLoader.Overrides.NONE);
    assertThat(c.parserSettings().maxBodyBytes()).isEqualTo(12 << 20);
    byte[] body = ("{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"" + "A".repeat(11 << 20) + "\"}")
        .getBytes(StandardCharsets.UTF_8);
    RawRequest post = new RawRequest("POST", "/fhir/Binary", List.of(new RawRequest.Header("Host", "fhir.example"),
        new RawRequest.Header("Content-Type", "application/fhir+json"), new RawRequest.Header("Content-Length", "" + body.length)), body);
    ParseResult r = new RequestParser(FhirContext.forR4Cached(), c.parserSettings()).parse(post);
    assertThat(r).isInstanceOf(ParseResult.Parsed.class);
  }

  /** An Observation of Patient/p1 whose extensions nest so that the whole body is {@code depth} objects and arrays deep. */
  private static String observationNested(int depth) {
    int levels = (depth - 2) / 2; // the Observation, then an array and an object per extension level, the innermost value
    return "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/p1\"},\"extension\":" + "[{\"url\":\"http://e\",\"extension\":".repeat(levels - 1)
        + "[{\"url\":\"http://e\",\"valueCodeableConcept\":{\"text\":\"v\"}}]" + "}]".repeat(levels - 1) + "}";
  }

  private static ParseResult create(DeploymentConfig c, String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return new RequestParser(FhirContext.forR4Cached(), c.parserSettings()).parse(new RawRequest("POST", "/fhir/Observation",
        List.of(new RawRequest.Header("Host", "fhir.example"), new RawRequest.Header("Content-Type", "application/fhir+json")),
        bytes));
  }

  @Test
  void whatARequestMayWriteTheInspectorReadsBack() throws Exception {
    // Adversarial sweep: a create nested 31 extensions deep was accepted and stored, then every answer holding it
    // (Observation?subject=..., $everything) was withheld (502) for everyone: the inspector stopped at 64 levels.
    DeploymentConfig c = loader.load(write(MINIMAL), DeploymentLoader.Overrides.NONE);
    FhirContext fhir = FhirContext.forR4Cached();
    String deepest = observationNested(ParserSettings.MAX_BODY_DEPTH);
    assertThat(create(c, deepest)).isInstanceOf(ParseResult.Parsed.class);
    ParseResult deeper = create(c, observationNested(ParserSettings.MAX_BODY_DEPTH + 2));
    assertThat(deeper).isInstanceOf(ParseResult.Rejected.class);
    assertThat(((ParseResult.Rejected) deeper).refusal().status()).isEqualTo(400);
    assertThat(((ParseResult.Rejected) deeper).refusal().diagnostics()).contains("deeper than " + ParserSettings.MAX_BODY_DEPTH);

    // The stored resource as the EPR gives it back at its deepest: in a searchset inside a batch-response.
    String stored = deepest.replaceFirst("\\{", "{\"id\":\"o1\",");
    String searchset = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[{\"resource\":" + stored + "}]}";
    String answer = "{\"resourceType\":\"Bundle\",\"type\":\"batch-response\",\"entry\":[{\"resource\":" + searchset + "}]}";
    Inspection read = new ResponseInspector(fhir, PatientCompartment.from(fhir), c.inspectorSettings())
        .inspect(new ResponseBody(answer.getBytes(StandardCharsets.UTF_8), "application/fhir+json", null));
    assertThat(read).isInstanceOf(Inspection.Read.class);
    assertThat(((Inspection.Read) read).patients()).hasSize(1);
  }

  @Test
  void missingEssentialsAreNamedWithTheirVariableAndFlag() throws Exception {
    assertThat(problems(write("listen: 127.0.0.1:8080\nidentity: {audience: [a]}\n"), DeploymentLoader.Overrides.NONE))
        .contains(dir.resolve("fhirwall.yaml") + ":1:1: upstream: missing (required)",
            dir.resolve("fhirwall.yaml") + ":1:1: policies: missing (required; or FHIRWALL_POLICIES, or --policies)",
            dir.resolve("fhirwall.yaml") + ":2:1: identity.issuer: missing (required; or FHIRWALL_IDENTITY_ISSUER, or --issuer)");
  }

  @Test
  void duplicateKeysAreRefusedAtAnyDepth() throws Exception {
    Path f = write(MINIMAL + """
        limits:
          max-headers: 50
          request-timeout: 10s
          max-headers: 500
        listen: 127.0.0.1:1
        """);
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).containsExactly(f + ":7:3: limits.max-headers: written twice "
        + "(first at line 5; the later value would silently replace the earlier one)");
  }

  @Test
  void theConnectionCapIsAPositiveWholeNumber() throws Exception {
    assertThat(loader.load(write(MINIMAL + "limits: {max-connections: 3}\n"), DeploymentLoader.Overrides.NONE).limits()
        .maxConnections()).isEqualTo(3);
    env.put("FHIRWALL_LIMITS_MAX_CONNECTIONS", "2500");
    assertThat(loader.load(write(MINIMAL), DeploymentLoader.Overrides.NONE).limits().maxConnections()).isEqualTo(2500);
    env.remove("FHIRWALL_LIMITS_MAX_CONNECTIONS");
    Path f = write(MINIMAL + "limits: {max-connections: 0}\n");
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).containsExactly(
        f + ":4:27: limits.max-connections: 0 (expected: 1..1000000)");
    f = write(MINIMAL + "limits: {max-connections: -5}\n");
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).singleElement().asString()
        .contains("limits.max-connections: -5 (expected: 1..1000000)");
    f = write(MINIMAL + "limits: {max-connections: lots}\n");
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).singleElement().asString()
        .contains("limits.max-connections: lots (expected: a whole number 1..1000000)");
    f = write(MINIMAL + "limits: {max-connections: 2.5}\n");
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).singleElement().asString()
        .contains("limits.max-connections: 2.5 (expected: a whole number 1..1000000)");
  }

  @Test
  void unknownKeysAreRefusedWithTheKeysThatExist() throws Exception {
    Path f = write(MINIMAL + "limits: {max-body: 1MiB}\n");
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).containsExactly(f + ":4:10: limits.max-body: unknown key "
        + "(expected one of: max-request-body, max-response-body, max-initial-line, max-header-size, max-headers, request-timeout, "
        + "idle-timeout, max-connections, shutdown-grace)");
  }

  @Test
  void hmacAlgorithmsTheClockSkewCapAndSizeBoundsAreTheSchemas() throws Exception {
    Path f = write("""
        upstream: {url: http://epr/fhir}
        identity:
          issuer: https://idp/realms/x
          audience: fhirwall
          algorithms: [RS256, HS256, none]
          clock-skew: 10m
        policies: roles
        limits: {max-request-body: 1GiB}
        """);
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).containsExactly(
        f + ":5:23: identity.algorithms[1]: HS256 (expected one of: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)",
        f + ":5:30: identity.algorithms[2]: none (expected one of: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)",
        f + ":6:15: identity.clock-skew: 10m (expected: at most 5m)",
        f + ":8:28: limits.max-request-body: 1GiB (expected: between 1KiB and 256MiB)");
  }

  @Test
  void aHeaderNameThatIsNoHeaderNameIsRefused() throws Exception {
    Path f = write(MINIMAL.replace("upstream: {url: http://epr/fhir}", "upstream: {url: http://epr/fhir, headers: {\"X Key\": k}}"));
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).containsExactly(
        f + ":1:44: upstream.headers.X Key: not an allowed name (expected: an HTTP header name: letters, digits and -)");
  }

  @Test
  void theAdminPortMayNotBeThePublicPort() throws Exception {
    Path f = write(MINIMAL + "listen: 127.0.0.1:8080\nadmin: {listen: 127.0.0.1:8080}\n");
    assertThat(problems(f, DeploymentLoader.Overrides.NONE)).singleElement().asString()
        .contains("admin.listen: 127.0.0.1:8080 (expected: a port other than the public one");
  }

  @Test
  void anEmptyClientListIsWarnedAbout() throws Exception {
    DeploymentConfig c = loader.load(write(MINIMAL.replace(", clients: [web]", "")), DeploymentLoader.Overrides.NONE);
    assertThat(c.identity().clients()).isEmpty();
    assertThat(c.warnings()).singleElement().asString().startsWith("identity.clients is empty: every client of https://idp/realms/x");
  }

  @Test
  void theFlagsAreTheSchemasAndEachSetsOneKey() {
    assertThat(Schema.DEPLOYMENT.flags()).containsExactly("--listen", "--public-base-url", "--upstream", "--issuer", "--audience",
        "--policies", "--redis", "--admin-listen");
    assertThat(Schema.DEPLOYMENT.keyOfFlag("--upstream").display()).isEqualTo("upstream.url");
    assertThatThrownBy(() -> DeploymentLoader.Overrides.of(Map.of("--upstream-url", "x"))).hasMessageContaining("--upstream-url");
  }
  @Test
  void theRedisStoreIsChosenInTheFileWithItsPasswordFromAFile() throws Exception {
    Files.writeString(dir.resolve("redis-password"), "s3cret-pw\n");
    Path f = write(MINIMAL + """
        quota:
          store: redis
          on-store-failure: local-fallback
          replicas: 2
          redis:
            url: rediss://redis.internal:6380/0
            username: fhirwall
            password-file: redis-password
            timeout: 250ms
        """);
    DeploymentConfig c = loader.load(f, DeploymentLoader.Overrides.NONE);
    assertThat(c.quota().store()).isEqualTo("redis");
    assertThat(c.quota().localFallback()).isTrue();
    assertThat(c.quota().replicas()).isEqualTo(2);
    DeploymentConfig.Redis r = c.quota().redis();
    assertThat(r.url()).isEqualTo("rediss://redis.internal:6380/0");
    assertThat(r.username()).isEqualTo("fhirwall");
    assertThat(r.password()).isEqualTo("s3cret-pw");
    assertThat(r.timeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(r.keyPrefix()).isEqualTo("fhirwall:");
    assertThat(r.toString()).doesNotContain("s3cret-pw");
  }

  @Test
  void theRedisFlagSwitchesToTheSharedStoreAndTheAdminFlagMovesTheAdminPort() throws Exception {
    DeploymentConfig c = loader.load(write(MINIMAL), DeploymentLoader.Overrides.of(Map.of("--redis", "redis://127.0.0.1:6390",
        "--admin-listen", "127.0.0.1:0")));
    assertThat(c.quota().store()).isEqualTo("redis");
    assertThat(c.quota().redis().url()).isEqualTo("redis://127.0.0.1:6390");
    assertThat(c.quota().localFallback()).as("fail closed by default").isFalse();
    assertThat(c.admin().listen().port()).isZero();
  }

  @Test
  void aRedisStoreWithoutARedisUrlIsRefused() throws Exception {
    assertThat(problems(write(MINIMAL + "quota: {store: redis}\n"), DeploymentLoader.Overrides.NONE))
        .anySatisfy(p -> assertThat(p).contains("quota.store").contains("quota.redis.url"));
    assertThat(problems(write(MINIMAL + "quota: {store: redis, redis: {url: 'http://host:6379'}}\n"),
        DeploymentLoader.Overrides.NONE)).anySatisfy(p -> assertThat(p).contains("quota.redis.url"));
  }

  @Test
  void credentialsInTheRedisUrlAreAcceptedAndNeverPrinted() throws Exception {
    env.put("FHIRWALL_QUOTA_STORE", "redis");
    env.put("FHIRWALL_QUOTA_REDIS_URL", "redis://fhirwall:s3cret-in-url@redis:6379");
    DeploymentConfig c = new DeploymentLoader(env::get).load(write(MINIMAL), DeploymentLoader.Overrides.NONE);
    assertThat(c.quota().redis().url()).isEqualTo("redis://fhirwall:s3cret-in-url@redis:6379");
    assertThat(c.quota().redis().toString()).doesNotContain("s3cret-in-url");
  }

  @Test
  void theLocalStoreKeepsItsStateWhereTheFileSays() throws Exception {
    DeploymentConfig c = loader.load(write(MINIMAL + "quota: {state-dir: state}\n"), DeploymentLoader.Overrides.NONE);
    assertThat(c.quota().store()).isEqualTo("local");
    assertThat(c.quota().stateDir()).isEqualTo(dir.resolve("state"));
    assertThat(c.quota().redis()).isNull();
  }
}
