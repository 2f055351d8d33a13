package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.demo.DemoIssuer;
import org.fhirwall.server.Fhirwall;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the EPR fails or a client is slow, every request still ends, with a FHIR OperationOutcome and
 * the right status: 502 when the EPR cannot be reached, 504 when it does not answer in time, 503 once
 * the circuit breaker has opened, 408 for a client that never finishes its request.
 */
@ExtendWith(LeakWatch.class)
class UpstreamFailureIT {
  @TempDir Path dir;
  static DemoIssuer issuer;
  Fhirwall fhirwall;
  HttpServer slowEpr;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeAll
  static void startIssuer() {
    issuer = DemoIssuer.start();
  }

  @AfterAll
  static void stopIssuer() {
    issuer.close();
  }

  @AfterEach
  void stop() {
    if (fhirwall != null) {
      fhirwall.close();
    }
    if (slowEpr != null) {
      slowEpr.stop(0);
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  String start(String upstream, String extra) throws Exception {
    int port = freePort();
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:%d
        upstream:
          url: %s
          connect-timeout: 1s
          response-timeout: 1s
          circuit-breaker: {failure-rate: 50, minimum-calls: 4, open-for: 30s}
        identity: {issuer: %s, audience: [fhirwall]}
        policies: %s
        audit: {file: %s}
        admin: {enabled: false}
        %s
        """.formatted(port, upstream, issuer.issuer(), ItEnvironment.policies(), dir.resolve("audit.jsonl"), extra), UTF_8);
    DeploymentConfig c = new DeploymentLoader(n -> null).load(config, DeploymentLoader.Overrides.NONE);
    fhirwall = Fhirwall.start(c, new Fhirwall.Options(Clock.systemUTC(), null, 1, 0));
    return c.publicBaseUrl().toString();
  }

  String token() {
    return token("sub-ops");
  }

  String token(String subject) {
    return issuer.mint(DemoIssuer.Claims.builder(subject, "fhirwall", "fhirwall-web").username(subject)
        .roles(Set.of("physician")).amr(java.util.List.of("pwd", "otp")).authTime(Instant.now()).build());
  }

  HttpResponse<String> get(String url) throws Exception {
    return get(url, token());
  }

  HttpResponse<String> get(String url, String token) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
        .timeout(Duration.ofSeconds(20)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aPrincipalWhoseRequestsMakeTheEprFailIsThrottledBeforeTheBreakerOpensForEveryone() throws Exception {
    slowEpr = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
    slowEpr.createContext("/", exchange -> {
      try (exchange) {
        if (exchange.getRequestURI().getPath().contains("Observation")) {
          Thread.sleep(2500); // an expensive query: longer than fhirwall's 1 s response timeout
        }
        byte[] body = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}".getBytes(UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.io.IOException e) {
        // fhirwall gave up on the slow answer and closed the connection
      }
    });
    slowEpr.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(8));
    slowEpr.start();
    String base = startWithBreaker("http://127.0.0.1:" + slowEpr.getAddress().getPort() + "/fhir");
    String attacker = token("sub-attacker");
    String clinician = token("sub-clinician");
    for (int i = 0; i < 6; i++) {
      assertThat(get(base + "/Observation?subject=Patient/p1", attacker).statusCode()).isEqualTo(504);
    }
    HttpResponse<String> throttled = get(base + "/Patient/p1", attacker);
    assertThat(throttled.statusCode()).as(throttled.body()).isEqualTo(429);
    assertThat(throttled.body()).contains("made the EPR fail or time out");
    HttpResponse<String> others = get(base + "/Patient/p1", clinician);
    assertThat(others.statusCode()).as("the EPR-wide breaker stayed closed for everyone else").isEqualTo(200);
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).contains("\"account-locked\"").contains("made the EPR fail or time out");
  }

  /** fhirwall with the default breaker (20 calls before it may open), for the per-principal test. */
  String startWithBreaker(String upstream) throws Exception {
    int port = freePort();
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:%d
        upstream:
          url: %s
          response-timeout: 1s
        identity: {issuer: %s, audience: [fhirwall]}
        policies: %s
        audit: {file: %s}
        admin: {enabled: false}
        """.formatted(port, upstream, issuer.issuer(), ItEnvironment.policies(), dir.resolve("audit.jsonl")), UTF_8);
    DeploymentConfig c = new DeploymentLoader(n -> null).load(config, DeploymentLoader.Overrides.NONE);
    fhirwall = Fhirwall.start(c, new Fhirwall.Options(Clock.systemUTC(), null, 1, 0));
    return c.publicBaseUrl().toString();
  }

  @Test
  void anUnreachableEprGives502ThenTheBreakerOpensAnd503() throws Exception {
    String base = start("http://127.0.0.1:" + freePort() + "/fhir", "");
    HttpResponse<String> first = get(base + "/Patient/p1");
    assertThat(first.statusCode()).isEqualTo(502);
    assertThat(first.body()).contains("OperationOutcome");
    int last = 0;
    for (int i = 0; i < 6; i++) {
      last = get(base + "/Patient/p1").statusCode();
    }
    assertThat(last).as("circuit breaker open").isEqualTo(503);
  }

  @Test
  void aRequestBodyOverTenMibUnderTheConfiguredLimitIsForwarded() throws Exception {
    String base = start("http://127.0.0.1:" + freePort() + "/fhir", "limits: {max-request-body: 12MiB}");
    String observation = "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"note\"},"
        + "\"valueString\":\"" + "x".repeat(11 << 20) + "\"}";
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/Observation"))
        .header("Authorization", "Bearer " + token()).header("Content-Type", "application/fhir+json")
        .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(observation)).build(),
        HttpResponse.BodyHandlers.ofString());
    // past the request parser's own 10 MiB default: forwarded, and the unreachable EPR gives 502, not 413
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
  }

  @Test
  void anEprThatDoesNotAnswerInTimeGives504() throws Exception {
    slowEpr = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    slowEpr.createContext("/", exchange -> {
      try (exchange) {
        Thread.sleep(3000);
        exchange.sendResponseHeaders(200, -1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    slowEpr.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    slowEpr.start();
    String base = start("http://127.0.0.1:" + slowEpr.getAddress().getPort() + "/fhir", "");
    // the EPR would answer 200 after 3 s; a 504 shows fhirwall gave up at its 1 s response timeout
    HttpResponse<String> r = get(base + "/Patient/p1");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(r.body()).contains("OperationOutcome");
  }

  @Test
  void aClientThatNeverFinishesItsRequestGets408AndIsDisconnected() throws Exception {
    String base = start("http://127.0.0.1:" + freePort() + "/fhir", "limits: {request-timeout: 1s, idle-timeout: 2s}");
    URI u = URI.create(base);
    try (Socket s = new Socket(u.getHost(), u.getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write("GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\nX-Slow: ".getBytes(ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      String answer = new String(in.readAllBytes(), ISO_8859_1);
      assertThat(answer).startsWith("HTTP/1.1 408").contains("OperationOutcome");
    }
  }
}
