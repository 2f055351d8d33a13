package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.nio.file.Files;
import java.time.Clock;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.demo.DemoEnvironment;
import org.fhirwall.demo.DemoIssuer;
import org.fhirwall.it.jpa.JpaEpr;
import org.fhirwall.server.Fhirwall;
import org.jspecify.annotations.Nullable;

/**
 * The real parts an integration test talks to: an EPR with synthetic patients (the demo's HAPI FHIR
 * server, or the run's HAPI FHIR JPA server), the demo token issuer, and fhirwall between them,
 * started with the test policies in {@code src/test/resources/it-policies}. One per test class;
 * close it in {@code @AfterAll} (closing never stops the shared JPA server).
 */
final class ItEnvironment implements AutoCloseable {
  static final FhirContext FHIR = FhirContext.forR4Cached();

  /** The demo environment, when the EPR is the demo's; null in front of the JPA server. */
  final @Nullable DemoEnvironment env;
  private final @Nullable JpaEpr jpa;
  private final @Nullable Front front;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** fhirwall and the demo issuer started by this class in front of an EPR. */
  private record Front(Path dir, DemoIssuer issuer, Fhirwall fhirwall, DeploymentConfig config, String eprBase) {}

  private ItEnvironment(@Nullable DemoEnvironment env, @Nullable JpaEpr jpa, @Nullable Front front) {
    this.env = env;
    this.jpa = jpa;
    this.front = front;
  }

  static ItEnvironment start(int patients) throws Exception {
    return new ItEnvironment(DemoEnvironment.start(new DemoEnvironment.Settings(patients, 7, policies())), null, null);
  }

  /** fhirwall with the test policies in front of the run's JPA server. */
  static ItEnvironment inFrontOf(JpaEpr epr) throws Exception {
    return inFrontOf(epr, "");
  }

  /** fhirwall with the test policies in front of the run's JPA server, {@code extraYaml} appended to its deployment file. */
  static ItEnvironment inFrontOf(JpaEpr epr, String extraYaml) throws Exception {
    return inFrontOf(epr.baseUrl(), epr, Clock.systemUTC(), extraYaml, policies(), 0, null);
  }

  /**
   * fhirwall with the test policies in front of the EPR at {@code eprBase}, with {@code auditAndAdmin}
   * (the deployment file's {@code audit:} and {@code admin:} sections) instead of an audit file in
   * the environment's directory and no admin listener.
   */
  static ItEnvironment inFrontOf(String eprBase, String auditAndAdmin) throws Exception {
    return inFrontOf(eprBase, null, Clock.systemUTC(), "", policies(), 0, auditAndAdmin);
  }

  /** fhirwall in front of the run's JPA server with the role policies in {@code policies}, checked every {@code reloadMillis}. */
  static ItEnvironment inFrontOf(JpaEpr epr, Path policies, long reloadMillis) throws Exception {
    return inFrontOf(epr.baseUrl(), epr, Clock.systemUTC(), "", policies, reloadMillis, null);
  }

  /**
   * A fhirwall of its own (and a demo issuer) in front of this environment's EPR, on {@code clock}, with
   * {@code extraYaml} appended to its deployment file; the EPR stays this environment's.
   */
  ItEnvironment anotherFhirwall(Clock clock, String extraYaml) throws Exception {
    return inFrontOf(eprBase(), jpa, clock, extraYaml, policies(), 0, null);
  }

  private static ItEnvironment inFrontOf(String eprBase, @Nullable JpaEpr epr, Clock clock, String extraYaml,
      Path policies, long reloadMillis, @Nullable String auditAndAdmin) throws Exception {
    Path dir = Files.createTempDirectory("fhirwall-it");
    DemoIssuer issuer = DemoIssuer.start();
    try {
      int port;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      }
      Path deployment = Files.writeString(dir.resolve("fhirwall.yaml"), """
          listen: 127.0.0.1:%d
          upstream:
            url: %s
          identity:
            issuer: %s
            audience: [fhirwall]
            clients: [fhirwall-web, research-export]
          policies: %s
          %s
          %s
          """.formatted(port, eprBase, issuer.issuer(), policies, auditAndAdmin != null ? auditAndAdmin.strip()
              : "audit:\n  file: " + dir.resolve("audit.jsonl") + "\nadmin: {enabled: false}", extraYaml));
      DeploymentConfig config = new DeploymentLoader(name -> null).load(deployment, DeploymentLoader.Overrides.NONE);
      Fhirwall fhirwall = Fhirwall.start(config, new Fhirwall.Options(clock, null, 0, reloadMillis));
      return new ItEnvironment(null, epr, new Front(dir, issuer, fhirwall, config, eprBase));
    } catch (Exception | Error e) {
      issuer.close();
      throw e;
    }
  }

  /** Which EPR this is, for test names and messages. */
  Fhirwall fhirwall() {
    return front != null ? front.fhirwall() : demo().fhirwall();
  }

  String eprName() {
    return jpa != null ? "HAPI FHIR JPA server" : "demo EPR";
  }

  boolean isJpa() {
    return jpa != null;
  }

  DemoIssuer issuer() {
    return front != null ? front.issuer() : demo().issuer();
  }

  String eprBase() {
    return front != null ? front.eprBase() : demo().eprBase();
  }

  Path auditFile() {
    return front != null ? front.dir().resolve("audit.jsonl") : demo().auditFile();
  }

  /**
   * The audit trail's complete lines so far. The writer appends in batches off the request path, so a reader may
   * catch a line half written: only text up to the last newline counts.
   */
  List<String> auditLines() throws java.io.IOException {
    Path file = auditFile();
    if (!java.nio.file.Files.exists(file)) {
      return List.of();
    }
    String text = java.nio.file.Files.readString(file);
    int end = text.lastIndexOf('\n');
    return end < 0 ? List.of() : text.substring(0, end).lines().toList();
  }

  /** The audit line of the exchange that answered {@code r} (by its {@code X-Request-Id}), waiting as {@link #awaitAuditLine} does. */
  String auditLineOf(java.net.http.HttpResponse<?> r) throws Exception {
    return awaitAuditLine(r.headers().firstValue("X-Request-Id").orElseThrow());
  }

  /** The first complete audit line that contains {@code text}, waiting up to 5 s for the writer. */
  String awaitAuditLine(String text) throws Exception {
    for (int i = 0; i < 200; i++) {
      for (String line : auditLines()) {
        if (line.contains(text)) {
          return line;
        }
      }
      Thread.sleep(25);
    }
    throw new AssertionError("the audit trail never contained " + text);
  }

  /** {@code n} distinct ids of patients the EPR holds, drawn with {@code seed}. */
  List<String> samplePatientIds(int n, long seed) {
    return jpa != null ? jpa.samplePatientIds(n, seed) : demo().store().samplePatientIds(n, seed);
  }

  /** How many patients the EPR holds. */
  int patientCount() {
    return jpa != null ? jpa.data().patients() : demo().store().count("Patient");
  }

  /** The JPA server's request log; only in front of the JPA server. */
  org.fhirwall.it.jpa.EprRequestLog eprRequestLog() {
    if (jpa == null) {
      throw new IllegalStateException("the demo EPR keeps no request log");
    }
    return jpa.requestLog();
  }

  private DemoEnvironment demo() {
    if (env == null) {
      throw new IllegalStateException("not the demo EPR");
    }
    return env;
  }

  static Path policies() throws URISyntaxException {
    return Path.of(ItEnvironment.class.getResource("/it-policies/writer.yaml").toURI()).getParent();
  }

  String proxyBase() {
    return front != null ? front.config().publicBaseUrl().toString() : demo().proxyBase();
  }

  /** An MFA-backed user token with these token roles, for a fresh session. */
  String token(String user, String... roles) {
    return token(user, List.of("pwd", "otp"), roles);
  }

  String token(String user, List<String> amr, String... roles) {
    return issuer().mint(new DemoIssuer.Claims("sub-" + user, user, Set.of(roles), "1", amr,
        Instant.now().minusSeconds(600), UUID.randomUUID().toString(), "fhirwall", "fhirwall-web", Duration.ofMinutes(20)));
  }

  /** An MFA-backed user token whose SMART {@code fhirUser} claim names the clinician behind it. */
  String tokenWithFhirUser(String user, String fhirUser, String... roles) {
    return issuer().mint(new DemoIssuer.Claims("sub-" + user, user, Set.of(roles), "1", List.of("pwd", "otp"),
        Instant.now().minusSeconds(600), UUID.randomUUID().toString(), "fhirwall", "fhirwall-web", Duration.ofMinutes(20)),
        null, java.util.Map.of("fhirUser", fhirUser));
  }

  IGenericClient client(String token) {
    FHIR.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.NEVER);
    FHIR.getRestfulClientFactory().setSocketTimeout(30_000);
    IGenericClient client = FHIR.newRestfulGenericClient(proxyBase());
    client.registerInterceptor(new BearerTokenAuthInterceptor(token));
    return client;
  }

  /** A raw GET through fhirwall (path relative to its base, or an absolute URL). */
  HttpResponse<String> get(String pathOrUrl, String token) throws Exception {
    return send(HttpRequest.newBuilder(uri(pathOrUrl)).GET(), token);
  }

  HttpResponse<String> send(HttpRequest.Builder request, String token) throws Exception {
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  URI uri(String pathOrUrl) {
    return URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : proxyBase() + "/" + pathOrUrl);
  }

  /** A GET straight to the EPR, bypassing fhirwall: the suite's view of the unprojected truth. */
  HttpResponse<String> sendDirect(String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(eprBase() + "/" + path))
        .header("Accept", "application/fhir+json").timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r;
  }

  static void assertOperationOutcome(HttpResponse<String> r, int status) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"");
  }

  @Override
  public void close() {
    if (env != null) {
      env.close();
    }
    if (front != null) {
      front.fhirwall().close();
      front.issuer().close();
      try (java.util.stream.Stream<Path> files = Files.walk(front.dir())) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (java.io.IOException e) {
        // a temporary directory left behind
      }
    }
  }
}
