package org.fhirwall.it.jpa;

import ca.uhn.fhir.batch2.jobs.export.BulkDataExportProvider;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.fhirwall.demo.SyntheticData;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * A real HAPI FHIR JPA server (8.8.0, H2 in memory) on Jetty at {@code http://127.0.0.1:PORT/fhir}, set up the way
 * HAPI's JPA server starter sets it up (resource providers from the DAO registry, the JPA system provider, bulk
 * export, database paging, HAPI's capability statement), and loaded with the demo's synthetic hospital through
 * transaction bundles. It is the EPR nobody here wrote: paging links, {@code _include} search modes,
 * {@code $everything}, totals, history and bulk export ({@code $export}, its status polls, its cancel) are HAPI JPA's
 * own. Every request that reaches it is written to its {@link EprRequestLog}.
 *
 * <p>Started once per integration run by {@link JpaEprExtension}; thread-safe.
 */
public final class JpaEpr implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(JpaEpr.class);
  /** Resources per transaction bundle when loading. */
  private static final int BUNDLE_SIZE = 500;

  private final AnnotationConfigApplicationContext spring;
  private final Server jetty;
  private final String baseUrl;
  private final SyntheticData data;
  private final EprRequestLog log;
  private final Duration startTime;

  private JpaEpr(AnnotationConfigApplicationContext spring, Server jetty, String baseUrl, SyntheticData data,
      EprRequestLog log, Duration startTime) {
    this.spring = spring;
    this.jetty = jetty;
    this.baseUrl = baseUrl;
    this.data = data;
    this.log = log;
    this.startTime = startTime;
  }

  /** Starts the server and loads {@code patients} synthetic patients (seed {@code seed}) with their records. */
  public static JpaEpr start(int patients, long seed) throws Exception {
    long began = System.nanoTime();
    AnnotationConfigApplicationContext spring = new AnnotationConfigApplicationContext(JpaEprConfig.class);
    long contextStarted = System.nanoTime();
    Server jetty = null;
    try {
      SyntheticData data = SyntheticData.generate(seed, patients);
      load(spring, data);
      LOG.info("HAPI FHIR JPA context started in {} ms, {} resources loaded in {} ms", (contextStarted - began) / 1_000_000,
          data.resources().size(), (System.nanoTime() - contextStarted) / 1_000_000);
      EprRequestLog log = new EprRequestLog();
      jetty = jetty(restfulServer(spring), log);
      jetty.start();
      String base = "http://127.0.0.1:" + ((ServerConnector) jetty.getConnectors()[0]).getLocalPort() + "/fhir";
      Duration took = Duration.ofNanos(System.nanoTime() - began);
      LOG.info("HAPI FHIR JPA server at {} with {} resources ({} patients), started and loaded in {} ms", base,
          data.resources().size(), patients, took.toMillis());
      return new JpaEpr(spring, jetty, base, data, log, took);
    } catch (Exception | Error e) {
      if (jetty != null) {
        jetty.stop();
      }
      spring.close();
      throw e;
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void load(AnnotationConfigApplicationContext spring, SyntheticData data) {
    IFhirSystemDao<Bundle, ?> system = spring.getBean(IFhirSystemDao.class);
    List<Resource> all = data.resources();
    for (int from = 0; from < all.size(); from += BUNDLE_SIZE) {
      Bundle tx = new Bundle().setType(Bundle.BundleType.TRANSACTION);
      for (Resource r : all.subList(from, Math.min(all.size(), from + BUNDLE_SIZE))) {
        String url = r.fhirType() + "/" + r.getIdElement().getIdPart();
        tx.addEntry().setFullUrl(url).setResource(r).getRequest().setMethod(Bundle.HTTPVerb.PUT).setUrl(url);
      }
      system.transaction(new SystemRequestDetails(), tx);
    }
  }

  private static RestfulServer restfulServer(AnnotationConfigApplicationContext spring) {
    FhirContext fhir = spring.getBean(FhirContext.class);
    IFhirSystemDao<?, ?> system = spring.getBean(IFhirSystemDao.class);
    RestfulServer server = new RestfulServer(fhir);
    server.setServerName("HAPI FHIR JPA server (fhirwall integration tests)");
    server.setDefaultResponseEncoding(EncodingEnum.JSON);
    server.registerProviders(spring.getBean(ResourceProviderFactory.class).createProviders());
    server.registerProvider(spring.getBean(JpaSystemProvider.class));
    server.registerProvider(spring.getBean(BulkDataExportProvider.class));
    server.setPagingProvider(spring.getBean(DatabaseBackedPagingProvider.class));
    server.setServerConformanceProvider(new JpaCapabilityStatementProvider(server, system,
        spring.getBean(JpaStorageSettings.class), spring.getBean(ISearchParamRegistry.class),
        spring.getBean(IValidationSupport.class)));
    return server;
  }

  private static Server jetty(RestfulServer fhir, EprRequestLog log) {
    QueuedThreadPool threads = new QueuedThreadPool(32, 2);
    threads.setName("jpa-epr");
    threads.setDaemon(true);
    Server jetty = new Server(threads);
    ServerConnector connector = new ServerConnector(jetty, 1, 1);
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    jetty.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler();
    context.setContextPath("/fhir");
    context.setAllowNullPathInContext(true);
    Filter recorder = (request, response, chain) -> {
      log.record((HttpServletRequest) request);
      chain.doFilter(request, response);
    };
    context.addFilter(new FilterHolder(recorder), "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder("fhir", fhir), "/*");
    jetty.setHandler(context);
    jetty.setStopTimeout(0);
    return jetty;
  }

  /** {@code http://127.0.0.1:PORT/fhir}, without a trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  public EprRequestLog requestLog() {
    return log;
  }

  /** How long starting the server and loading the data took. */
  public Duration startTime() {
    return startTime;
  }

  public SyntheticData data() {
    return data;
  }

  /** {@code n} distinct patient ids drawn with {@code seed}, as the demo store draws them. */
  public List<String> samplePatientIds(int n, long seed) {
    int population = data.patients();
    if (n > population) {
      throw new IllegalArgumentException("n: " + n + " (expected: <= " + population + " patients)");
    }
    Random random = new Random(seed);
    LinkedHashSet<String> ids = new LinkedHashSet<>();
    while (ids.size() < n) {
      ids.add("p" + (1 + random.nextInt(population)));
    }
    return new ArrayList<>(ids);
  }

  @Override
  public void close() throws Exception {
    try {
      jetty.stop();
    } finally {
      spring.close();
    }
  }
}
