package org.fhirwall.it;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditTrail;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The audit trail to a FHIR audit repository: a real HAPI FHIR {@link RestfulServer} (on Jetty, as
 * the demo EPR) that takes batch Bundles of AuditEvents, parses them with HAPI and answers a
 * batch-response, once for the whole class.
 */
class AuditRepositoryIT {
  static Server jetty;
  static URI base;
  static final List<AuditEvent> stored = new CopyOnWriteArrayList<>();
  static final List<String> authorizations = new CopyOnWriteArrayList<>();
  static final AtomicBoolean down = new AtomicBoolean();

  /** The repository's system-level batch: every entry must be a POST of an AuditEvent. */
  public static final class Repository {
    @Transaction
    public Bundle batch(@TransactionParam Bundle bundle, jakarta.servlet.http.HttpServletRequest request) {
      if (down.get()) {
        throw new InternalErrorException("repository down for maintenance");
      }
      authorizations.add(String.valueOf(request.getHeader("Authorization")));
      Bundle response = new Bundle().setType(Bundle.BundleType.BATCHRESPONSE);
      for (Bundle.BundleEntryComponent e : bundle.getEntry()) {
        boolean ok = e.getResource() instanceof AuditEvent && e.getRequest().getMethod() == Bundle.HTTPVerb.POST
            && e.getRequest().getUrl().equals("AuditEvent");
        if (ok) {
          stored.add((AuditEvent) e.getResource());
        }
        response.addEntry().getResponse().setStatus(ok ? "201 Created" : "400 Bad Request");
      }
      return response;
    }
  }

  @BeforeAll
  static void start() throws Exception {
    RestfulServer fhir = new RestfulServer(FhirContext.forR4Cached());
    fhir.setDefaultResponseEncoding(EncodingEnum.JSON);
    fhir.registerProvider(new Repository());
    jetty = new Server();
    ServerConnector connector = new ServerConnector(jetty);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/fhir");
    context.setAllowNullPathInContext(true);
    context.addServlet(new ServletHolder("fhir", fhir), "/*");
    jetty.setHandler(context);
    jetty.start();
    base = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/fhir");
  }

  @AfterAll
  static void stop() throws Exception {
    jetty.stop();
  }

  @BeforeEach
  void clear() {
    stored.clear();
    authorizations.clear();
    down.set(false);
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  AuditTrail trail() throws Exception {
    return AuditTrail.open(null, null, null, new AuditTrail.RepositorySettings(base, "repository-token", Duration.ofSeconds(10)),
        10_000, AuditTrail.OnFailure.ALARM, Clock.systemUTC());
  }

  @Test
  void everyRecordIsStoredAsAnAuditEventThroughBatchBundles() throws Exception {
    AuditTrail trail = trail();
    for (int i = 0; i < 1200; i++) {
      trail.write(AuditSyslogIT.record(i, AuditRecord.Outcome.ALLOWED));
    }
    trail.close();
    assertThat(stored).hasSize(1200);
    assertThat(stored).extracting(e -> e.getIdElement().getIdPart())
        .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 1200).mapToObj(i -> "req-" + i).toList());
    assertThat(stored.get(7).getEntity()).extracting(x -> x.getWhat().getReference()).contains("Patient/7");
    assertThat(authorizations).hasSizeLessThan(1200).allMatch(a -> a.equals("Bearer repository-token"));
    assertThat(trail.dropped()).isZero();
  }

  @Test
  void recordsHeldWhileTheRepositoryFailsReachItWhenItRecovers() throws Exception {
    down.set(true);
    AuditTrail trail = trail();
    for (int i = 0; i < 20; i++) {
      trail.write(AuditSyslogIT.record(i, AuditRecord.Outcome.REFUSED));
    }
    // the records are owed to the repository as soon as they are queued for it, before its first answer (500) is heard
    await("the repository failing", () -> trail.owed() == 20 && trail.problem() != null);
    assertThat(trail.problem()).contains("fhir-repository").contains("500");
    down.set(false);
    await("the held records stored", () -> stored.size() == 20);
    trail.close();
    assertThat(trail.dropped()).isZero();
    assertThat(trail.problem()).isNull();
  }

  /**
   * Through a real fhirwall: with {@code audit.on-failure: refuse}, a repository that stops taking
   * records makes {@code /ready} fail (naming the audit trail) and every new request a 503
   * OperationOutcome; once the repository takes records again, the held
   * records reach it and fhirwall is ready and serving, without a restart.
   */
  @Test
  void aFailingRepositoryMakesServeUnreadyAndRefusingUntilItRecovers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    org.fhirwall.demo.DemoStore store = org.fhirwall.demo.DemoStore.withSyntheticData(5, 20, Clock.systemUTC());
    try (org.fhirwall.demo.DemoFhirServer epr = org.fhirwall.demo.DemoFhirServer.start(store, 0);
        ItEnvironment it = ItEnvironment.inFrontOf(epr.baseUrl(), """
            audit:
              file: %s
              fhir-repository:
                url: %s
                timeout: 2s
              on-failure: refuse
            admin:
              listen: 127.0.0.1:0
            """.formatted(dir.resolve("audit.jsonl"), base))) {
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      String admin = "http://127.0.0.1:" + it.fhirwall().adminAddress().getPort();
      java.util.function.IntSupplier ready = () -> {
        try {
          return http.send(java.net.http.HttpRequest.newBuilder(URI.create(admin + "/ready")).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (Exception e) {
          return -1;
        }
      };
      String token = it.token("auditor.test", "counted");
      String patient = store.samplePatientIds(1, 3).get(0);
      String read = "Patient/" + patient;
      assertThat(it.get(read, token).statusCode()).isEqualTo(200);
      assertThat(ready.getAsInt()).isEqualTo(200);

      down.set(true);
      it.get(read, token); // its record is the one the repository refuses
      await("/ready fails while the repository refuses records", () -> ready.getAsInt() == 503);
      assertThat(http.send(java.net.http.HttpRequest.newBuilder(URI.create(admin + "/ready")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body()).containsIgnoringCase("audit");
      java.net.http.HttpResponse<String> refused = it.get(read, token);
      ItEnvironment.assertOperationOutcome(refused, 503);
      assertThat(refused.body()).containsIgnoringCase("audit");

      down.set(false);
      await("ready again once the repository takes records", () -> ready.getAsInt() == 200);
      assertThat(it.get(read, token).statusCode()).isEqualTo(200);
      await("the held records reach the repository", () -> stored.stream()
          .anyMatch(e -> e.getEntity().stream().anyMatch(x -> ("Patient/" + patient).equals(x.getWhat().getReference()))));
    }
  }
}
