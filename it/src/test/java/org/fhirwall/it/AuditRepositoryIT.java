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
    await("the repository failing", () -> trail.owed() == 20);
    assertThat(trail.problem()).contains("fhir-repository").contains("500");
    down.set(false);
    await("the held records stored", () -> stored.size() == 20);
    trail.close();
    assertThat(trail.dropped()).isZero();
    assertThat(trail.problem()).isNull();
  }
}
