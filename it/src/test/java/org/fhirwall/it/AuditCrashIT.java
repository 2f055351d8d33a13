package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.fhirwall.audit.AuditVerifier;
import org.fhirwall.demo.DemoIssuer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code fhirwall serve} as a process under load, ended the two ways a platform ends it: killed
 * ({@code SIGKILL}), it loses at most the records of requests answered within {@code
 * audit.fsync-interval} before the kill, and the next start cuts the torn line and goes on with the
 * chain; stopped ({@code SIGTERM}), every answered request's record is in the file.
 */
class AuditCrashIT {
  static final Path PRODUCT_JAR = ServeSignalsIT.PRODUCT_JAR;
  static final Duration FSYNC = Duration.ofMillis(500);

  @TempDir Path dir;
  DemoIssuer issuer;
  OnePatientEpr epr;
  Process serve;
  String base;
  Path config;

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

  void startEprAndConfig() throws Exception {
    issuer = DemoIssuer.start();
    epr = OnePatientEpr.start(4, OnePatientEpr.Before.NOTHING);
    int port = ServeSignalsIT.freePort();
    config = Files.writeString(dir.resolve("fhirwall.yaml"), """
        listen: 127.0.0.1:%d
        upstream: {url: http://127.0.0.1:%d/fhir}
        identity: {issuer: %s, audience: [fhirwall], clients: [fhirwall-web]}
        policies: %s
        audit: {file: %s, fsync-interval: %dms}
        admin: {listen: 127.0.0.1:0}
        limits: {shutdown-grace: 20s}
        """.formatted(port, epr.port(), issuer.issuer(), ItEnvironment.policies(),
        dir.resolve("audit.jsonl"), FSYNC.toMillis()), UTF_8);
    base = "http://127.0.0.1:" + port + "/fhir";
  }

  void startServe() throws Exception {
    Path log = dir.resolve("serve-" + System.nanoTime() + ".log");
    serve = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-jar",
        PRODUCT_JAR.toString(), "serve", "--config", config.toString()).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!Files.readString(log).contains("fhirwall ready on")) {
      assertThat(serve.isAlive()).as(Files.readString(log)).isTrue();
      assertThat(System.nanoTime()).as("serve did not start").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  String token() {
    return issuer.mint(DemoIssuer.Claims.builder("sub-crash", "fhirwall", "fhirwall-web").username("crash")
        .roles(Set.of("physician")).amr(List.of("pwd", "otp")).authTime(Instant.now()).build());
  }

  /** Answered requests: request id → {@link System#nanoTime()} when the answer arrived. */
  Map<String, Long> load(AtomicBoolean running, int clients) throws Exception {
    Map<String, Long> answered = new ConcurrentHashMap<>();
    String token = token();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
    List<Thread> threads = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      Thread t = new Thread(() -> {
        while (running.get()) {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/Patient/p1"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
            long at = System.nanoTime();
            if (r.statusCode() == 200) {
              answered.put(r.headers().firstValue("X-Request-Id").orElseThrow(), at);
            }
          } catch (Exception e) {
            // the process is gone or going: no answer, nothing owed
          }
        }
      }, "load-" + c);
      t.setDaemon(true);
      t.start();
      threads.add(t);
    }
    return answered;
  }

  Set<String> recordedIds() throws Exception {
    Set<String> ids = new HashSet<>();
    for (String line : Files.readAllLines(dir.resolve("audit.jsonl"), UTF_8)) {
      int at = line.indexOf("\"id\":\"");
      if (at >= 0) {
        ids.add(line.substring(at + 6, line.indexOf('"', at + 6)));
      }
    }
    return ids;
  }

  void awaitAnswers(Map<String, Long> answered, int n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (answered.size() < n) {
      assertThat(System.nanoTime()).as("load answered").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void aKilledProcessLosesAtMostTheRecordsOfTheLastFsyncIntervalAndTheNextStartContinuesTheChain() throws Exception {
    startEprAndConfig();
    startServe();
    AtomicBoolean running = new AtomicBoolean(true);
    Map<String, Long> answered = load(running, 8);
    awaitAnswers(answered, 600);
    serve.destroyForcibly(); // SIGKILL, under load
    long killedAt = System.nanoTime();
    assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
    running.set(false);
    Set<String> recorded = recordedIds();
    Map<String, Long> lost = new java.util.HashMap<>(answered);
    lost.keySet().removeAll(recorded);
    System.out.printf("AuditCrashIT: killed under load, %d requests answered, %d of their records not in the file%n",
        answered.size(), lost.size());
    assertThat(lost.values()).as("records lost (of %d answered): only requests answered within %s of the kill",
        answered.size(), FSYNC).allMatch(at -> killedAt - at <= FSYNC.toNanos());

    startServe(); // cuts a torn last line, resumes the chain
    serve.destroy();
    assertThat(serve.waitFor(30, TimeUnit.SECONDS)).isTrue();
    AuditVerifier.Report report = AuditVerifier.verify(List.of(dir.resolve("audit.jsonl")), null);
    assertThat(report.findings()).isEmpty();
    assertThat(report.records()).isGreaterThanOrEqualTo(recorded.size());
  }

  @Test
  void aTerminatedProcessHasTheRecordOfEveryAnsweredRequest() throws Exception {
    startEprAndConfig();
    startServe();
    AtomicBoolean running = new AtomicBoolean(true);
    Map<String, Long> answered = load(running, 8);
    awaitAnswers(answered, 600);
    serve.destroy(); // SIGTERM, under load
    assertThat(serve.waitFor(60, TimeUnit.SECONDS)).isTrue();
    running.set(false);
    assertThat(serve.exitValue()).isZero();
    Set<String> recorded = recordedIds();
    System.out.printf("AuditCrashIT: terminated under load, %d requests answered, %d recorded%n", answered.size(),
        recorded.size());
    assertThat(answered.keySet()).as("every answered request is recorded").isSubsetOf(recorded);
    assertThat(AuditVerifier.verify(List.of(dir.resolve("audit.jsonl")), null).findings()).isEmpty();
  }
}
