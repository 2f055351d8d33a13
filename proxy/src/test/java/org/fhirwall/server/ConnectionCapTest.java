package org.fhirwall.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirwall.auth.AuthOutcome;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.DeploymentLoader;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.Refusal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code limits.max-connections} on a running fhirwall, with real sockets: idle connections up to
 * the cap are held; one more is answered 503 with an OperationOutcome before it sends a byte, and
 * closed; once a connection closes, a new one is served. The admin port's {@code /metrics} shows
 * the open connections and the refusals. No timing is asserted: the tests wait (with a generous
 * deadline) for what the server reports.
 */
class ConnectionCapTest {
  /** Refuses every request as unauthenticated: these tests are about connections, not requests. */
  static final Authenticator NOBODY = (header, now) -> CompletableFuture.completedFuture(new AuthOutcome.Refused(
      new Refusal(401, IssueType.LOGIN, "no token here", Map.of("WWW-Authenticate", "Bearer realm=\"fhirwall\""), false)));

  @TempDir
  Path dir;
  Fhirwall fhirwall;
  final List<Socket> sockets = new ArrayList<>();
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void stop() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    if (fhirwall != null) {
      fhirwall.close();
    }
  }

  void start(int maxConnections) throws Exception {
    Files.createDirectories(dir.resolve("roles"));
    Path policies = Path.of(System.getProperty("fhirwall.policies.dir", "../policies")).resolve("roles").toAbsolutePath();
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:0
        upstream: {url: http://127.0.0.1:9/fhir}
        identity: {issuer: https://idp.invalid/realms/x, audience: [fhirwall], clients: [web]}
        policies: %s
        audit: {file: %s}
        admin: {listen: 127.0.0.1:0}
        limits: {max-connections: %d}
        """.formatted(policies, dir.resolve("audit.jsonl"), maxConnections), UTF_8);
    DeploymentConfig c = new DeploymentLoader(n -> null).load(config, DeploymentLoader.Overrides.NONE);
    fhirwall = Fhirwall.start(c, new Fhirwall.Options(Clock.systemUTC(), NOBODY, 2, 0));
  }

  @Test
  void aConnectionOverTheCapIsAnswered503AndClosedAndOneClosedMakesRoomForANewOne() throws Exception {
    start(3);
    List<Socket> idle = List.of(connect(), connect(), connect());
    awaitMetric("fhirwall_connections_open", 3);

    Socket extra = connect();
    String refused = new String(extra.getInputStream().readAllBytes(), UTF_8); // the client sent nothing
    assertThat(refused).startsWith("HTTP/1.1 503 ");
    Map<String, String> headers = headers(refused);
    assertThat(headers).containsEntry("retry-after", "1").containsEntry("connection", "close");
    assertThat(headers.get("content-type")).startsWith("application/fhir+json");
    String body = refused.substring(refused.indexOf("\r\n\r\n") + 4);
    assertThat(body).contains("\"resourceType\":\"OperationOutcome\"", "\"code\":\"transient\"", "limits.max-connections");
    assertThat(body.getBytes(UTF_8)).hasSize(Integer.parseInt(headers.get("content-length")));
    awaitMetric("fhirwall_connections_refused_total", 1);

    assertThat(statusOf(idle.get(0))).as("a connection held under the cap is still served").isEqualTo(401);
    idle.get(1).close();
    awaitMetric("fhirwall_connections_open", 2);
    assertThat(statusOf(connect())).as("a new connection once one has closed").isEqualTo(401);
    assertThat(metric("fhirwall_connections_refused_total")).isEqualTo(1);
  }

  @Test
  void connectionsOpenedAllAtOnceFromManyThreadsAreCountedExactly() throws Exception {
    start(20);
    ExecutorService clients = Executors.newFixedThreadPool(8);
    try {
      List<Future<Socket>> opening = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        opening.add(clients.submit(this::connect));
      }
      for (Future<Socket> f : opening) {
        f.get();
      }
    } finally {
      clients.shutdown();
    }
    awaitMetric("fhirwall_connections_refused_total", 30);
    awaitMetric("fhirwall_connections_open", 20);
    for (Socket s : sockets) {
      s.close();
    }
    awaitMetric("fhirwall_connections_open", 0);
    assertThat(metric("fhirwall_connections_refused_total")).isEqualTo(30);
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    synchronized (sockets) {
      sockets.add(s);
    }
    s.connect(fhirwall.publicAddress(), 5_000);
    s.setSoTimeout(10_000); // a guard against hanging, not an assertion on time
    return s;
  }

  /** Sends one request on the connection and reads the status of its answer (the connection stays open). */
  private static int statusOf(Socket s) throws IOException {
    s.getOutputStream().write("GET /fhir/Patient/p1 HTTP/1.1\r\nHost: proxy\r\n\r\n".getBytes(ISO_8859_1));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      assertThat(b).as("an answer before the connection closed: " + head.toString(ISO_8859_1)).isNotNegative();
      head.write(b);
    }
    String text = head.toString(ISO_8859_1);
    in.readNBytes(Integer.parseInt(headers(text).get("content-length")));
    return Integer.parseInt(text.substring(9, 12));
  }

  private static Map<String, String> headers(String response) {
    Map<String, String> out = new java.util.HashMap<>();
    String head = response.substring(0, response.indexOf("\r\n\r\n"));
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
      }
    }
    return out;
  }

  private double metric(String name) throws Exception {
    InetSocketAddress admin = fhirwall.adminAddress();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.getPort() + "/metrics"))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? (\\S+)$").matcher(r.body());
    assertThat(m.find()).as(name + " in /metrics").isTrue();
    return Double.parseDouble(m.group(1));
  }

  /** Waits until the metric shows {@code expected} (the server has seen the connections come and go). */
  private void awaitMetric(String name, double expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    double seen = metric(name);
    while (seen != expected && System.nanoTime() < deadline) {
      Thread.sleep(20);
      seen = metric(name);
    }
    assertThat(seen).as(name).isEqualTo(expected);
  }
}
