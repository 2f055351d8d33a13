package org.fhirwall.demo;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.FifoMemoryPagingProvider;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.RestfulServer;
import java.util.List;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Practitioner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's EPR: a plain HAPI FHIR R4 {@link RestfulServer} over a {@link DemoStore}, on an
 * embedded Jetty bound to 127.0.0.1 only, at {@code /fhir}. It serves Patient, Observation,
 * Condition, MedicationRequest, Encounter, Practitioner, Organization, Group, DocumentReference
 * and Binary (read, vread, search, create, update, delete, history), Patient compartment searches
 * and {@code $everything}, batch/transaction, system history, and FHIR Bulk Data export (the
 * asynchronous kick-off, poll and download of {@link BulkExportProvider}, files stored as Binary
 * resources). Paging is HAPI's own
 * ({@code ?_getpages=...&_getpagesoffset=...}, 20 per page by default, at most 500), the result
 * lists kept in a FIFO of the last 250 searches. Answers JSON unless asked for XML. Logs nothing
 * per request.
 *
 * <p>Thread-safe; {@link #close()} stops it (idempotent).
 */
public final class DemoFhirServer implements AutoCloseable {

  /** Default page size when a search has no {@code _count}. */
  public static final int DEFAULT_PAGE_SIZE = 20;
  /** The largest {@code _count} honoured. */
  public static final int MAXIMUM_PAGE_SIZE = 500;
  private static final int REMEMBERED_SEARCHES = 250;
  private static final Logger LOG = LoggerFactory.getLogger(DemoFhirServer.class);

  private final Server jetty;
  private final ExportJobs exports;
  private final String baseUrl;

  private DemoFhirServer(Server jetty, ExportJobs exports, String baseUrl) {
    this.jetty = jetty;
    this.exports = exports;
    this.baseUrl = baseUrl;
  }

  /**
   * Starts a server over {@code store} on 127.0.0.1:{@code port} (0 picks a free port).
   *
   * @throws IllegalStateException when Jetty cannot start (port in use, ...)
   */
  public static DemoFhirServer start(DemoStore store, int port) {
    requireNonNull(store, "store");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
    }
    FifoMemoryPagingProvider paging = new FifoMemoryPagingProvider(REMEMBERED_SEARCHES);
    paging.setDefaultPageSize(DEFAULT_PAGE_SIZE);
    paging.setMaximumPageSize(MAXIMUM_PAGE_SIZE);

    RestfulServer fhir = new RestfulServer(store.context());
    fhir.setServerName("fhirwall demo EPR");
    fhir.setDefaultResponseEncoding(EncodingEnum.JSON);
    fhir.setPagingProvider(paging);
    fhir.setResourceProviders(providers(store));
    fhir.registerProvider(new SystemProvider(store, new TransactionProcessor(store, paging)));
    ExportJobs exports = ExportJobs.onOwnThread(store);
    fhir.registerProvider(new BulkExportProvider(store, exports));
    fhir.registerInterceptor(new QuietClientErrors());

    QueuedThreadPool threads = new QueuedThreadPool(32, 2);
    threads.setName("demo-epr");
    threads.setDaemon(true);
    Server jetty = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(jetty, 1, 1, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/fhir");
    // The base itself (POST /fhir for batch/transaction) goes to HAPI, not to a redirect to /fhir/.
    context.setAllowNullPathInContext(true);
    context.addServlet(new ServletHolder("fhir", fhir), "/*");
    jetty.setHandler(context);
    jetty.setStopTimeout(0);
    try {
      jetty.start();
    } catch (Exception e) {
      stopQuietly(jetty);
      exports.close();
      throw new IllegalStateException("Demo FHIR server could not start on 127.0.0.1:" + port + ": " + e.getMessage(), e);
    }
    return new DemoFhirServer(jetty, exports, "http://127.0.0.1:" + connector.getLocalPort() + "/fhir");
  }

  /** {@code http://127.0.0.1:PORT/fhir}, without a trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  public int port() {
    return ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
  }

  @Override
  public void close() {
    stopQuietly(jetty);
    exports.close();
  }

  private static List<IResourceProvider> providers(DemoStore store) {
    return List.of(
        new PatientProvider(store),
        new ObservationProvider(store),
        new CodedClinicalProvider<>(store, Condition.class),
        new CodedClinicalProvider<>(store, MedicationRequest.class),
        new EncounterProvider(store),
        new DirectoryProvider<>(store, Practitioner.class),
        new DirectoryProvider<>(store, Organization.class),
        new GroupProvider(store),
        new CareProvider<>(store, org.hl7.fhir.r4.model.CareTeam.class),
        new CareProvider<>(store, org.hl7.fhir.r4.model.EpisodeOfCare.class),
        new CareProvider<>(store, org.hl7.fhir.r4.model.PractitionerRole.class),
        new CareProvider<>(store, org.hl7.fhir.r4.model.Location.class),
        new DocumentReferenceProvider(store),
        new BinaryProvider(store));
  }

  private static void stopQuietly(Server jetty) {
    try {
      jetty.stop();
    } catch (Exception e) {
      LOG.warn("Demo FHIR server did not stop cleanly", e);
    }
  }
}
