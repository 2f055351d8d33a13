package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.fhirwall.demo.DemoIssuer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fhirwall serve} as a process, signalled as a platform would: {@code SIGTERM} lets the
 * request under way finish, writes its audit record and exits 0; {@code SIGHUP} reloads instead of
 * ending the process (the JVM's default for it).
 */
class ServeSignalsIT {
  static final Path PRODUCT_JAR = Path.of(System.getProperty("fhirwall.jar", "../proxy/target/fhirwall.jar"))
      .toAbsolutePath().normalize();

  @TempDir Path dir;
  DemoIssuer issuer;
  OnePatientEpr epr;
  Process serve;
  /** Counted down when a request reaches the EPR. */
  final java.util.concurrent.CountDownLatch reachedEpr = new java.util.concurrent.CountDownLatch(1);

  @AfterEach
  void stop() {
    if (serve != null) {
      serve.destroyForcibly();
    }
    if (epr != null) {
      epr.close();
    }
    if (issuer != null) {
      issuer.close();
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Starts an EPR whose answers take {@code delay}, and {@code fhirwall serve} in front of it; returns the public base. */
  String start(Duration delay) throws Exception {
    issuer = DemoIssuer.start();
    epr = OnePatientEpr.start(4, exchange -> {
      reachedEpr.countDown();
      Thread.sleep(delay.toMillis());
    });
    int port = freePort();
    Path config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:%d
        upstream: {url: http://127.0.0.1:%d/fhir}
        identity: {issuer: %s, audience: [fhirwall], clients: [fhirwall-web]}
        policies: %s
        audit: {file: %s}
        admin: {listen: 127.0.0.1:0}
        limits: {shutdown-grace: 20s}
        """.formatted(port, epr.port(), issuer.issuer(), ItEnvironment.policies(),
        dir.resolve("audit.jsonl")), UTF_8);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", PRODUCT_JAR.toString(), "serve", "--config", config.toString()));
    serve = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("serve.log").toFile()).start();
    String base = "http://127.0.0.1:" + port + "/fhir";
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.readString(dir.resolve("serve.log")).contains("fhirwall ready on")) {
      assertThat(serve.isAlive()).as(Files.readString(dir.resolve("serve.log"))).isTrue();
      assertThat(System.nanoTime()).as("serve did not start").isLessThan(deadline);
      Thread.sleep(100);
    }
    return base;
  }

  String token() {
    return issuer.mint(DemoIssuer.Claims.builder("sub-signals", "fhirwall", "fhirwall-web").username("signals")
        .roles(Set.of("physician")).amr(List.of("pwd", "otp")).authTime(Instant.now()).build());
  }

  @Test
  void sigtermFinishesTheRequestUnderWayWritesItsRecordAndExitsZero() throws Exception {
    String base = start(Duration.ofSeconds(3));
    CompletableFuture<HttpResponse<String>> underWay = HttpClient.newHttpClient().sendAsync(
        HttpRequest.newBuilder(URI.create(base + "/Patient/p1")).header("Authorization", "Bearer " + token())
            .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(reachedEpr.await(30, TimeUnit.SECONDS)).as("the request has reached the slow EPR").isTrue();
    serve.destroy(); // SIGTERM
    HttpResponse<String> r = underWay.get(30, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(serve.waitFor(30, TimeUnit.SECONDS)).as("exited").isTrue();
    assertThat(serve.exitValue()).as(Files.readString(dir.resolve("serve.log"))).isZero();
    String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).as("the record of the finished request is written out")
        .contains(requestId);
  }

  @Test
  void sighupReloadsInsteadOfEndingTheProcessAndReopensTheAuditFile() throws Exception {
    String base = start(Duration.ZERO);
    HttpResponse<String> before = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/Patient/p1"))
        .header("Authorization", "Bearer " + token()).timeout(Duration.ofSeconds(20)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    String first = before.headers().firstValue("X-Request-Id").orElseThrow();
    long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!Files.readString(dir.resolve("audit.jsonl")).contains(first) && System.nanoTime() < until) {
      Thread.sleep(50);
    }
    Files.move(dir.resolve("audit.jsonl"), dir.resolve("audit-moved.jsonl")); // as logrotate does
    Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(serve.pid())).start();
    assertThat(hup.waitFor(10, TimeUnit.SECONDS)).isTrue();
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!Files.readString(dir.resolve("serve.log")).contains("reload requested") && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(Files.readString(dir.resolve("serve.log"))).contains("reload requested");
    assertThat(serve.isAlive()).isTrue();
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/Patient/p1"))
        .header("Authorization", "Bearer " + token()).timeout(Duration.ofSeconds(20)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    String second = r.headers().firstValue("X-Request-Id").orElseThrow();
    serve.destroy();
    assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(Files.readString(dir.resolve("audit-moved.jsonl"))).contains(first).doesNotContain(second);
    assertThat(Files.readString(dir.resolve("audit.jsonl"))).as("a new file at the path after SIGHUP").contains(second);
    assertThat(org.fhirwall.audit.AuditVerifier.verify(List.of(dir.resolve("audit-moved.jsonl"), dir.resolve("audit.jsonl")),
        null).findings()).as("one chain across both").isEmpty();
  }
}
