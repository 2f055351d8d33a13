package org.fhirwall.it;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLServerSocket;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditTrail;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit trail to a SIEM as syslog over TLS (RFC 5424 messages, RFC 5425 octet-counted frames),
 * received by a real TLS server the test runs with a CA of its own, beside the file.
 */
class AuditSyslogIT {
  @TempDir static Path certs;
  static TestCertificates ca;
  static TestCertificates.Identity server;
  @TempDir Path dir;
  SSLServerSocket listening;
  final List<String> received = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void certificates() throws Exception {
    ca = TestCertificates.ca(certs, "audit-test-ca");
    server = ca.issue("siem", true);
  }

  @AfterEach
  void stop() throws IOException {
    if (listening != null) {
      listening.close();
    }
  }

  /** A syslog receiver on {@code port} (0: any) reading octet-counted frames from every connection. */
  int receiver(int port) throws Exception {
    listening = (SSLServerSocket) ca.sslContext(server).getServerSocketFactory()
        .createServerSocket(port, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(() -> {
      while (!listening.isClosed()) {
        try {
          Socket s = listening.accept();
          Thread t = new Thread(() -> read(s), "syslog-reader");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return;
        }
      }
    }, "syslog-accept");
    accept.setDaemon(true);
    accept.start();
    return listening.getLocalPort();
  }

  void read(Socket s) {
    try (s; InputStream in = new BufferedInputStream(s.getInputStream())) {
      while (true) {
        int length = 0;
        int c;
        while ((c = in.read()) != ' ') {
          if (c < 0) {
            return;
          }
          assertThat((char) c).isBetween('0', '9');
          length = length * 10 + (c - '0');
        }
        received.add(new String(in.readNBytes(length), UTF_8));
      }
    } catch (IOException e) {
      // connection closed
    }
  }

  static AuditRecord record(int i, AuditRecord.Outcome outcome) {
    return new AuditRecord(AuditRecord.Kind.DECISION, Instant.now(), "req-" + i, outcome,
        outcome == AuditRecord.Outcome.ALLOWED ? 200 : 403, null, null, null, "GET", "read", "Patient", null, "Patient/" + i,
        List.of("Patient/" + i), 1, Map.of(), null, "", List.of(), null, "10.0.0.1", null, 5);
  }

  AuditTrail trail(int port, Path caFile) throws IOException {
    return AuditTrail.open(new AuditTrail.FileSettings(dir.resolve("audit.jsonl"), 1L << 30, Duration.ofDays(1),
        Duration.ofSeconds(1), null, 1000, Duration.ofMinutes(1)), null,
        new AuditTrail.SyslogSettings("127.0.0.1", port, caFile, Duration.ofSeconds(5)), 10_000, AuditTrail.OnFailure.ALARM,
        Clock.systemUTC());
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void everyRecordReachesTheSiemAsAnRfc5424MessageOverTlsAndTheFileToo() throws Exception {
    int port = receiver(0);
    AuditTrail trail = trail(port, ca.caPem);
    for (int i = 0; i < 300; i++) {
      trail.write(record(i, i % 3 == 0 ? AuditRecord.Outcome.REFUSED : AuditRecord.Outcome.ALLOWED));
    }
    trail.close();
    await("300 messages received", () -> received.size() == 300);
    assertThat(trail.dropped()).isZero();
    assertThat(Files.readAllLines(dir.resolve("audit.jsonl"))).hasSize(300);
    String first = received.get(0);
    assertThat(first).matches("<109>1 \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z \\S+ fhirwall - audit - \\{.*");
    assertThat(received.get(1)).startsWith("<110>1 ");
    String json = first.substring(first.indexOf(" - audit - ") + 11);
    AuditEvent e = FhirContext.forR4Cached().newJsonParser().setParserErrorHandler(new StrictErrorHandler())
        .parseResource(AuditEvent.class, json);
    assertThat(e.getIdElement().getIdPart()).isEqualTo("req-0");
    assertThat(received).extracting(m -> m.substring(m.indexOf("\"id\":\"") + 6, m.indexOf("\",\"type\"")))
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 300).mapToObj(i -> "req-" + i).toList());
  }

  @Test
  void aSiemWithACertificateOfAnotherCaIsRefusedAndTheFileGoesOn() throws Exception {
    int port = receiver(0);
    TestCertificates other = TestCertificates.ca(Files.createDirectories(dir.resolve("other")), "other-ca");
    AuditTrail trail = trail(port, other.caPem);
    trail.write(record(1, AuditRecord.Outcome.ALLOWED));
    await("the syslog destination failing", () -> trail.problem() != null);
    assertThat(trail.problem()).contains("syslog");
    trail.write(record(2, AuditRecord.Outcome.ALLOWED));
    await("the file written", () -> trail.written() == 2);
    assertThat(received).isEmpty();
    trail.close();
    assertThat(Files.readAllLines(dir.resolve("audit.jsonl"))).hasSize(2);
    assertThat(trail.dropped()).as("what syslog never took is counted at shutdown, not lost silently").isEqualTo(2);
  }

  @Test
  void recordsHeldWhileTheSiemIsDownReachItWhenItComesUp() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    AuditTrail trail = trail(port, ca.caPem);
    for (int i = 0; i < 50; i++) {
      trail.write(record(i, AuditRecord.Outcome.ALLOWED));
    }
    await("the syslog destination failing", () -> trail.owed() == 50);
    receiver(port);
    await("the held records delivered", () -> received.size() == 50);
    assertThat(trail.problem()).isNull();
    trail.close();
    assertThat(trail.dropped()).isZero();
  }
}
