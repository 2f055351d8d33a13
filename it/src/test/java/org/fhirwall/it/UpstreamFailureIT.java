package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
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
  OnePatientEpr slowEpr;
  RawEpr raw;
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
      slowEpr.close();
    }
    if (raw != null) {
      try {
        raw.close();
      } catch (java.io.IOException e) {
        // the port is closed either way
      }
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  String start(String upstream, String extra) throws Exception {
    return start(upstream, "response-timeout: 1s\n  circuit-breaker: {failure-rate: 50, minimum-calls: 4, open-for: 30s}",
        extra);
  }

  /** fhirwall in front of {@code upstream}, with {@code upstreamExtra} in its upstream block and {@code extra} after. */
  String start(String upstream, String upstreamExtra, String extra) throws Exception {
    int port = freePort();
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:%d
        upstream:
          url: %s
          connect-timeout: 1s
          %s
        identity: {issuer: %s, audience: [fhirwall]}
        policies: %s
        audit: {file: %s}
        admin: {enabled: false}
        %s
        """.formatted(port, upstream, upstreamExtra, issuer.issuer(), ItEnvironment.policies(), dir.resolve("audit.jsonl"),
        extra), UTF_8);
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
    slowEpr = OnePatientEpr.start(8, exchange -> {
      if (exchange.getRequestURI().getPath().contains("Observation")) {
        Thread.sleep(2500); // an expensive query: longer than fhirwall's 1 s response timeout
      }
    });
    String base = startWithBreaker(slowEpr.base());
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
    slowEpr = OnePatientEpr.start(4, exchange -> Thread.sleep(3000));
    String base = start(slowEpr.base(), "");
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

  /** A patient with a name no refusal would ever contain, so that a leak of the EPR's answer shows. */
  static final String MARKER = "Zyxwvutsrq";
  static final String PATIENT = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"family\":\"" + MARKER
      + "\"}],\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">"
      + "x".repeat(70_000) + "</div>\"}}";

  void assertWithheld(HttpResponse<String> r, String what) {
    assertThat(r.statusCode()).as(what + ": " + r.body()).isEqualTo(502);
    assertThat(r.body()).as(what).contains("OperationOutcome").doesNotContain(MARKER);
  }

  @Test
  void eprAnswersFhirwallCannotReadAreWithheldWith502() throws Exception {
    raw = new RawEpr(null);
    // the breaker stays out of it (it would answer 503 after four failures): each answer is judged on its own
    String base = start(raw.base(), "response-timeout: 5s\n  circuit-breaker: {minimum-calls: 100}", "limits: {max-response-body: 64KiB}");
    String small = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"family\":\"" + MARKER + "\"}]}";
    java.util.Map<String, String> answers = new java.util.LinkedHashMap<>();
    answers.put("an HTML page", RawEpr.response("200 OK", "text/html", "<html><body>Patient " + MARKER + "</body></html>"));
    answers.put("HTML labelled as FHIR JSON", RawEpr.response("200 OK", "application/fhir+json",
        "<html><body>Patient " + MARKER + "</body></html>"));
    answers.put("truncated JSON", RawEpr.response("200 OK", "application/fhir+json", small.substring(0, small.length() - 4)));
    answers.put("a body shorter than its Content-Length", "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
        + "Content-Length: 500\r\n\r\n" + small);
    answers.put("a body over max-response-body", RawEpr.response("200 OK", "application/fhir+json", PATIENT));
    answers.put("Content-Length and Transfer-Encoding", "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\n"
        + "Content-Length: " + small.length() + "\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(small.length())
        + "\r\n" + small + "\r\n0\r\n\r\n");
    answers.put("two Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: "
        + small.length() + "\r\nContent-Length: 5\r\n\r\n" + small);
    answers.put("a broken chunk size", "HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked"
        + "\r\n\r\nzz\r\n" + small + "\r\n0\r\n\r\n");
    answers.put("no status line", small);
    answers.put("silence", null);
    int i = 0;
    for (var answer : answers.entrySet()) {
      raw.answer.set(answer.getValue());
      // a principal each: the per-principal failure throttle is not what this test is about
      assertWithheld(get(base + "/Patient/p1", token("sub-raw-" + i++)), answer.getKey());
    }
    // the same EPR answering properly is released: the refusals above were about the answers
    raw.answer.set(RawEpr.response("200 OK", "application/fhir+json", small));
    HttpResponse<String> fine = get(base + "/Patient/p1", token("sub-raw-fine"));
    assertThat(fine.statusCode()).as(fine.body()).isEqualTo(200);
    assertThat(fine.body()).contains(MARKER);
  }

  @Test
  void theBulkheadRefusesWith503WhileTheEprIsFullAndLetsThroughOnceItIsNot() throws Exception {
    raw = new RawEpr(RawEpr.response("200 OK", "application/fhir+json", "{\"resourceType\":\"Patient\",\"id\":\"p1\"}"));
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
    raw.release.set(release);
    raw.arrived.set(arrived);
    String base = start(raw.base(), "max-concurrent: 1", "");
    java.util.concurrent.CompletableFuture<HttpResponse<String>> held = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return get(base + "/Patient/p1", token("sub-held"));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    assertThat(arrived.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("the first request reached the EPR").isTrue();
    HttpResponse<String> refused = get(base + "/Patient/p1", token("sub-second"));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
    assertThat(refused.body()).contains("OperationOutcome");
    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    assertThat(raw.requests.get()).as("the refused request never reached the EPR").isEqualTo(1);
    raw.release.set(null);
    release.countDown();
    assertThat(held.get(20, java.util.concurrent.TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    assertThat(get(base + "/Patient/p1", token("sub-third")).statusCode()).as("the bulkhead has room again").isEqualTo(200);
  }

  @Test
  void theBreakerOpensOnFailuresAndClosesAgainOnceTheEprRecovers() throws Exception {
    raw = new RawEpr(null);
    String base = start(raw.base(), "response-timeout: 5s\n  circuit-breaker: {failure-rate: 50, minimum-calls: 4, open-for: 1s}", "");
    int status = 0;
    int i = 0;
    for (; i < 20 && status != 503; i++) {
      status = get(base + "/Patient/p1", token("sub-breaker-" + i)).statusCode();
      assertThat(status).isIn(502, 503);
    }
    assertThat(status).as("the breaker opened").isEqualTo(503);
    int reached = raw.requests.get();
    assertThat(get(base + "/Patient/p1", token("sub-breaker-open")).statusCode()).isEqualTo(503);
    assertThat(raw.requests.get()).as("an open breaker sends nothing to the EPR").isEqualTo(reached);
    raw.answer.set(RawEpr.response("200 OK", "application/fhir+json", "{\"resourceType\":\"Patient\",\"id\":\"p1\"}"));
    // the breaker's open-for (1 s here) is its own clock; wait for the condition, not for a time
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    int recovered = 503;
    while (recovered != 200 && System.nanoTime() < deadline) {
      recovered = get(base + "/Patient/p1", token("sub-breaker-probe")).statusCode();
      assertThat(recovered).isIn(200, 503);
      if (recovered != 200) {
        Thread.onSpinWait();
      }
    }
    assertThat(recovered).as("the breaker let calls through again once the EPR answered").isEqualTo(200);
    for (int k = 0; k < 5; k++) {
      assertThat(get(base + "/Patient/p1", token("sub-after-" + k)).statusCode()).isEqualTo(200);
    }
  }
}
