package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.demo.DemoIssuer;
import org.fhirwall.server.Fhirwall;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenTelemetry traces through the real server: a collector (an OTLP/HTTP receiver) gets one
 * span per request and one per EPR call, the client's trace is continued and passed on to the EPR,
 * and no span carries a patient or the caller's identity.
 */
class TracingIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static DemoIssuer issuer;
  @TempDir Path dir;
  Fhirwall fhirwall;
  HttpServer epr;
  HttpServer collector;
  final BlockingQueue<String> eprTraceparents = new LinkedBlockingQueue<>();
  final BlockingQueue<JsonNode> spans = new LinkedBlockingQueue<>();
  final HttpClient client = HttpClient.newHttpClient();
  String base;

  @BeforeAll
  static void startIssuer() {
    issuer = DemoIssuer.start();
  }

  @AfterAll
  static void stopIssuer() {
    issuer.close();
  }

  @BeforeEach
  void start() throws Exception {
    epr = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    epr.createContext("/fhir", exchange -> {
      try (exchange) {
        String tp = exchange.getRequestHeaders().getFirst("traceparent");
        eprTraceparents.add(tp == null ? "" : tp);
        byte[] body = "{\"resourceType\":\"Patient\",\"id\":\"p-secret-1\"}".getBytes(UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/fhir+json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
      }
    });
    epr.start();
    collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    collector.createContext("/v1/traces", exchange -> {
      try (exchange) {
        JsonNode body = JSON.readTree(exchange.getRequestBody());
        for (JsonNode rs : body.path("resourceSpans")) {
          assertThat(rs.path("resource").toString()).contains("\"service.name\"").contains("fhirwall-test");
          for (JsonNode ss : rs.path("scopeSpans")) {
            ss.path("spans").forEach(spans::add);
          }
        }
        exchange.sendResponseHeaders(200, -1);
      }
    });
    collector.start();
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:%d
        upstream: {url: 'http://127.0.0.1:%d/fhir', response-timeout: 5s}
        identity: {issuer: %s, audience: [fhirwall], clients: [fhirwall-web]}
        policies: %s
        audit: {file: %s}
        admin: {enabled: false}
        tracing: {otlp-endpoint: 'http://127.0.0.1:%d/v1/traces', service-name: fhirwall-test}
        """.formatted(port, epr.getAddress().getPort(), issuer.issuer(), ItEnvironment.policies(),
        dir.resolve("audit.jsonl"), collector.getAddress().getPort()), UTF_8);
    DeploymentConfig c = new DeploymentLoader(n -> null).load(config, DeploymentLoader.Overrides.NONE);
    fhirwall = Fhirwall.start(c, new Fhirwall.Options(Clock.systemUTC(), null, 1, 0));
    base = "http://127.0.0.1:" + port;
  }

  @AfterEach
  void stop() {
    if (fhirwall != null) {
      fhirwall.close();
    }
    epr.stop(0);
    collector.stop(0);
  }

  String token() {
    return issuer.mint(DemoIssuer.Claims.builder("sub-trace", "fhirwall", "fhirwall-web").username("dr-trace")
        .roles(Set.of("physician")).amr(List.of("pwd", "otp")).authTime(Instant.now()).build());
  }

  HttpResponse<String> read(String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20)).GET();
    headers.forEach(b::header);
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits for {@code n} spans (the exporter sends in batches from its own thread). */
  List<JsonNode> spans(int n) throws InterruptedException {
    List<JsonNode> out = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (out.size() < n && System.nanoTime() < deadline) {
      JsonNode s = spans.poll(1, TimeUnit.SECONDS);
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  static Map<String, String> attributes(JsonNode span) {
    Map<String, String> out = new HashMap<>();
    for (JsonNode a : span.path("attributes")) {
      JsonNode v = a.path("value");
      out.put(a.path("key").asText(), v.has("intValue") ? v.path("intValue").asText() : v.path("stringValue").asText());
    }
    return out;
  }

  @Test
  void aClientsTraceIsContinuedThroughFhirwallToTheEpr() throws Exception {
    String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    String clientSpan = "00f067aa0ba902b7";
    HttpResponse<String> r = read("/fhir/Patient/p-secret-1", Map.of("Authorization", "Bearer " + token(),
        "traceparent", "00-" + traceId + "-" + clientSpan + "-01"));
    assertThat(r.statusCode()).isEqualTo(200);
    String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();

    String atEpr = eprTraceparents.poll(10, TimeUnit.SECONDS);
    assertThat(atEpr).matches("00-" + traceId + "-[0-9a-f]{16}-01").doesNotContain(clientSpan);
    String eprSpan = atEpr.split("-")[2];

    List<JsonNode> got = spans(2);
    assertThat(got).hasSize(2);
    JsonNode server = got.stream().filter(s -> s.path("kind").asInt() == 2).findFirst().orElseThrow();
    JsonNode call = got.stream().filter(s -> s.path("kind").asInt() == 3).findFirst().orElseThrow();
    assertThat(server.path("traceId").asText()).isEqualTo(traceId);
    assertThat(server.path("parentSpanId").asText()).isEqualTo(clientSpan);
    assertThat(server.path("spanId").asText()).isEqualTo(requestId.substring(0, 16));
    assertThat(attributes(server)).containsEntry("fhirwall.outcome", "allowed").containsEntry("http.response.status_code", "200")
        .containsEntry("fhirwall.request_id", requestId).containsEntry("fhirwall.patients", "1");
    assertThat(call.path("traceId").asText()).isEqualTo(traceId);
    assertThat(call.path("spanId").asText()).isEqualTo(eprSpan);
    assertThat(call.path("parentSpanId").asText()).isEqualTo(server.path("spanId").asText());
    assertThat(attributes(call)).containsEntry("http.response.status_code", "200");
    for (JsonNode s : got) {
      assertThat(s.toString()).doesNotContain("p-secret-1").doesNotContain("sub-trace").doesNotContain("dr-trace");
    }
  }

  @Test
  void aRefusalIsTracedWithItsRuleAndNeverReachesTheEpr() throws Exception {
    HttpResponse<String> r = read("/fhir/Patient/p-secret-1", Map.of());
    assertThat(r.statusCode()).isEqualTo(401);
    String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();

    List<JsonNode> got = spans(1);
    assertThat(got).hasSize(1);
    JsonNode server = got.get(0);
    assertThat(server.path("traceId").asText()).as("a request without a trace starts one named by its request id")
        .isEqualTo(requestId);
    assertThat(server.has("parentSpanId")).isFalse();
    assertThat(attributes(server)).containsEntry("http.response.status_code", "401").containsKey("fhirwall.rule")
        .doesNotContainEntry("fhirwall.outcome", "allowed");
    assertThat(spans.poll(2, TimeUnit.SECONDS)).as("no EPR call, so no EPR span").isNull();
    assertThat(eprTraceparents).isEmpty();
  }
}
