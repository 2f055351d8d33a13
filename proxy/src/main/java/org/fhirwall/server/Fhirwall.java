package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Optional;
import java.util.function.UnaryOperator;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.fhirwall.policy.RolePolicy;
import org.fhirwall.admin.AdminAccess;
import org.fhirwall.admin.AdminApi;
import org.fhirwall.admin.Metrics;
import org.fhirwall.admin.RequestMetrics;
import org.fhirwall.admin.Readiness;
import org.fhirwall.admin.Tracing;
import org.fhirwall.audit.Alarms;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.audit.AuditTrail;
import org.fhirwall.audit.WebhookAlertSink;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.auth.JwtAuthenticator;
import org.fhirwall.auth.SessionTermination;
import org.fhirwall.care.CareLookup;
import org.fhirwall.care.RelationshipSource;
import org.fhirwall.config.ConfigException;
import org.fhirwall.config.DeploymentConfig;
import org.fhirwall.config.PolicyReloader;
import org.fhirwall.config.ReloadOutcome;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.fhir.PatientCompartment;
import org.fhirwall.fhir.RequestParser;
import org.fhirwall.fhir.RequestPatients;
import org.fhirwall.inspect.ResponseInspector;
import org.fhirwall.quota.Enforcement;
import org.fhirwall.quota.QuotaStore;
import org.fhirwall.respond.Responder;
import org.fhirwall.upstream.Upstream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running fhirwall, assembled from a deployment file: every stage built once, the policy
 * reloader watching its directory, the server listening. Used by {@code serve}, by the demo and
 * by the integration tests, so all three run the same assembly. {@link #close()} shuts everything
 * down in order and writes out the audit log.
 *
 * <p>The audit trail, the quota store, the keys replicas share and the certificate watch are built
 * by {@link AuditTrails}, {@link QuotaStores}, {@link SharedKeys} and {@link CertificateWatch}.
 */
public final class Fhirwall implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Fhirwall.class);

  /**
   * Assembly choices that are not deployment settings.
   *
   * @param authenticator the token checker to use; null builds the JWT authenticator from the
   *     deployment's identity settings (the only choice {@code serve} has)
   * @param workerThreads event loops (0: one per core)
   * @param policyReloadMillis how often the policy directory is checked for changes (0: never)
   */
  public record Options(Clock clock, @Nullable Authenticator authenticator, int workerThreads, long policyReloadMillis) {
    public Options {
      requireNonNull(clock, "clock");
    }

    public static Options defaults() {
      return new Options(Clock.systemUTC(), null, 0, 2000);
    }
  }

  private final FhirwallServer server;
  private final PolicyReloader policies;
  private final QuotaStore quota;
  private final AuditSink audit;
  private final AuditTrail trail;
  private final WebhookAlertSink alerts;
  private final ExecutorService heavyWork;
  private final ExecutorService background;
  private final Metrics metrics;
  /** Watches the certificate files and reloads them when they change. */
  private final ScheduledExecutorService certificates;
  /** The quota store's periodic work: the local state file, the fallback's lock mirror and probe. */
  private final ScheduledExecutorService ticks;
  private final @Nullable SessionTermination idpSessions;
  private boolean closed;

  private Fhirwall(FhirwallServer server, PolicyReloader policies, QuotaStore quota, AuditSink audit, AuditTrail trail,
      WebhookAlertSink alerts,
      ExecutorService heavyWork, ExecutorService background, Metrics metrics,
      ScheduledExecutorService certificates, ScheduledExecutorService ticks, @Nullable SessionTermination idpSessions) {
    this.server = server;
    this.policies = policies;
    this.quota = quota;
    this.audit = audit;
    this.trail = trail;
    this.alerts = alerts;
    this.heavyWork = heavyWork;
    this.background = background;
    this.metrics = metrics;
    this.certificates = certificates;
    this.ticks = ticks;
    this.idpSessions = idpSessions;
  }

  public static Fhirwall start(DeploymentConfig config, Options options) throws ConfigException, IOException, InterruptedException {
    FhirContext fhir = FhirContext.forR4Cached();
    List<AutoCloseable> built = new ArrayList<>();
    try {
      ExecutorService background = executor("fhirwall-background", 2, 10_000);
      built.add(background::shutdownNow);
      int cores = Runtime.getRuntime().availableProcessors();
      ExecutorService heavyWork = executor("fhirwall-heavy", cores, 256);
      built.add(heavyWork::shutdownNow);
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).executor(background).build();

      Metrics metrics = new Metrics();
      built.add(metrics);
      AtomicReference<@Nullable PolicyReloader> inForce = new AtomicReference<>();
      AuditTrail trail = AuditTrails.auditTrail(config.audit(), options.clock());
      built.add(trail);
      AuditTrails.bindAuditMetrics(trail, metrics.registry());
      AuditSink counted = new RequestMetrics(trail, metrics.registry(),
          role -> Optional.ofNullable(inForce.get()).flatMap(p -> p.get().policies().byName(role)).map(RolePolicy::patientLimits),
          config.logging().access());
      built.add(counted);
      URI otlp = config.tracing().otlpEndpoint();
      Tracing tracing = otlp == null ? null : new Tracing(otlp, config.tracing().serviceName(), http);
      if (tracing != null) {
        built.add(tracing);
        FunctionCounter.builder("fhirwall.traces.dropped", tracing, Tracing::dropped)
            .description("Spans not sent: the queue was full or the collector failed").register(metrics.registry());
      }
      AuditSink audit = tracing == null ? counted : tracing.requests(counted);
      UnaryOperator<Upstream> eprCalls = tracing == null ? UnaryOperator.identity() : tracing::calls;
      AtomicLong policyVersion = new AtomicLong(1);
      PolicyReloader policies = PolicyReloader.start(config, fhir.getResourceTypes(), options.policyReloadMillis(), outcome -> {
        if (outcome instanceof ReloadOutcome.Applied) {
          policyVersion.incrementAndGet();
        }
        audit.write(AuditTrails.reloadRecord(options.clock().instant(), outcome));
      });
      built.add(policies);
      inForce.set(policies);
      Gauge.builder("fhirwall.policy.version", policyVersion, AtomicLong::get)
          .description("How many times the role policies in force were loaded (1 at start)").register(metrics.registry());
      Gauge.builder("fhirwall.policy.roles", policies, p -> p.get().policies().roles().size())
          .description("Role policies in force").register(metrics.registry());
      String upstreamBase = stripSlash(config.upstream().url().toString());
      String publicBase = stripSlash(config.publicBaseUrl().toString());
      ResponseInspector inspector = new ResponseInspector(fhir, PatientCompartment.from(fhir), config.inspectorSettings());
      ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fhirwall-quota-ticks");
        t.setDaemon(true);
        return t;
      });
      built.add(ticks::shutdownNow);
      QuotaStore quota = QuotaStores.quotaStore(config, options, background, ticks);
      built.add(quota);
      QuotaStores.bindQuotaMetrics(quota, metrics.registry());
      AtomicReference<String> quotaProblem = new AtomicReference<>();
      ticks.scheduleWithFixedDelay(() -> quota.probe().whenComplete((ok, e) -> quotaProblem.set(e == null ? null
          : "the quota store does not answer (" + e.getClass().getSimpleName() + "); every request is refused")),
          0, 2, TimeUnit.SECONDS);
      byte[] pagingKey = SharedKeys.pagingSecret(config.paging(), quota);
      PageLinks pageLinks = new PageLinks(pagingKey, config.paging().linkTtl());
      Authenticator authenticator = options.authenticator() != null ? options.authenticator()
          : JwtAuthenticator.create(config.identity(), new JwtAuthenticator.Binding(config.dpop(), quota::seenOnce,
              SharedKeys.derivedKey(pagingKey, "fhirwall dpop nonce")), http, background, options.clock());
      authenticator.bindMetrics(metrics.registry());
      DeploymentConfig.PerPrincipal share = config.upstream().perPrincipal();
      Enforcement enforcement = new Enforcement(quota, share.maxConcurrent(),
          new Enforcement.FailureRules(share.maxFailures(), share.failureWindow(), share.throttleFor()));
      DeploymentConfig.Alerts alerting = config.alerts();
      WebhookAlertSink alerts = new WebhookAlertSink(new WebhookAlertSink.Delivery(alerting.webhook(),
          alerting.secretFile() == null ? null : Files.readAllBytes(alerting.secretFile()), alerting.retries(),
          alerting.firstRetry()), http, background, options.clock());
      FunctionCounter.builder("fhirwall.alerts.delivered", alerts, WebhookAlertSink::delivered)
          .description("Alerts the webhook took").register(metrics.registry());
      FunctionCounter.builder("fhirwall.alerts.undelivered", alerts, WebhookAlertSink::failed)
          .description("Alerts given up on after every retry").register(metrics.registry());
      SessionTermination idpSessions = idpSessions(config, options.clock());
      if (idpSessions != null) {
        built.add(idpSessions);
        FunctionCounter.builder("fhirwall.idp.logouts", idpSessions, SessionTermination::ended)
            .description("Locked users whose sessions the IdP ended").register(metrics.registry());
        FunctionCounter.builder("fhirwall.idp.logout.retries", idpSessions, SessionTermination::retried)
            .description("Logouts at the IdP that failed and were tried again").register(metrics.registry());
        FunctionCounter.builder("fhirwall.idp.logout.failures", idpSessions, SessionTermination::failed)
            .description("Locked users whose sessions at the IdP could not be ended (alerted)").register(metrics.registry());
      }
      AtomicReference<org.fhirwall.care.@Nullable EprReader> eprReads = new AtomicReference<>();
      CareLookup care = careLookup(config, options, background, eprReads, metrics.registry());
      Stages stages = new Stages(
          new RequestParser(fhir, config.parserSettings()),
          RequestPatients.R4,
          authenticator,
          pageLinks,
          policies,
          inspector,
          new Responder(fhir, upstreamBase, publicBase, pageLinks),
          enforcement,
          care,
          audit,
          new Alarms(audit, alerts, options.clock(), alerting.refusalBurst(), alerting.refusalWindow(),
              idpSessions),
          options.clock(),
          heavyWork,
          new PublicAccess(new org.fhirwall.respond.Cors(config.cors().allowedOrigins(), config.cors().maxAge()),
              org.fhirwall.auth.SmartConfiguration.create(config.identity(), http, background, options.clock())));
      AtomicInteger ready = new AtomicInteger();
      authenticator.prepare(options.clock().instant());
      Readiness readiness = new Readiness()
          .check("listening", Readiness.when(() -> ready.get() == 1, "starting"))
          .check("audit", trail::problem)
          .check("quota-store", quotaProblem::get)
          .check("policies", () -> policies.get().policies().roles().isEmpty() ? "no role policy in force" : null)
          .check("identity-provider", () -> {
            if (authenticator.canVerify()) {
              return null;
            }
            authenticator.prepare(options.clock().instant());
            return "no usable signing key from the issuer (none fetched yet, or the cached ones are older than jwks-max-age)";
          });
      if (config.identity().clients().isEmpty()) {
        readiness.warn("identity.clients is empty: every client of the issuer whose tokens carry fhirwall's audience is "
            + "accepted; name the clients that may call fhirwall");
      }
      AdminApi admin = null;
      if (config.admin() != null) {
        if (config.admin().tokenFile() == null) {
          readiness.warn("admin.token-file is not set: the lock API is closed");
        }
        admin = new AdminApi(quota, audit, readiness, metrics, options.clock(), AdminAccess.of(config.admin().tokenFile(),
            config.admin().listen().host(), config.admin().hosts()));
      }
      FhirwallServer server = FhirwallServer.start(config, stages, admin, readiness, metrics.registry(), options.workerThreads(),
          eprCalls);
      eprReads.set(server.eprReader());
      ready.set(1);
      if (config.relationships() == null && policies.get().policies().roles().stream().anyMatch(RolePolicy::chargesUnexplained)) {
        LOG.warn("a role has unexplained-limits but the deployment file has no relationships section: every patient counts "
            + "as unexplained");
      }
      LOG.info("public base {} → upstream {}; policies {} from {}", publicBase, upstreamBase,
          policies.get().policies().roles().stream().map(r -> r.name()).toList(), config.policies());
      ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fhirwall-certificates");
        t.setDaemon(true);
        return t;
      });
      CertificateWatch.watchCertificates(config, server, watch);
      return new Fhirwall(server, policies, quota, audit, trail, alerts, heavyWork, background, metrics, watch, ticks, idpSessions);
    } catch (ConfigException | IOException | InterruptedException | RuntimeException e) {
      for (int i = built.size() - 1; i >= 0; i--) {
        try {
          built.get(i).close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /**
   * The principals' care relationships: learned from the EPR through the server's own EPR client
   * (bound once it listens; a read before that fails, so nobody is explained), or none without a
   * {@code relationships} section.
   */
  private static CareLookup careLookup(DeploymentConfig config, Options options, ExecutorService background,
      AtomicReference<org.fhirwall.care.@Nullable EprReader> eprReads, MeterRegistry registry) {
    if (config.relationships() == null) {
      return CareLookup.NONE;
    }
    RelationshipSource source = new RelationshipSource(config.relationships(), target -> {
      org.fhirwall.care.EprReader r = eprReads.get();
      return r == null ? java.util.concurrent.CompletableFuture.failedFuture(new IOException("fhirwall is still starting"))
          : r.get(target);
    }, background, com.github.benmanes.caffeine.cache.Ticker.systemTicker(), options.clock());
    FunctionCounter.builder("fhirwall.relationship.loads", source, RelationshipSource::loads)
        .description("Loads of a clinician's care relationships from the EPR (first requests and background refreshes)")
        .register(registry);
    FunctionCounter.builder("fhirwall.relationship.load.failures", source, RelationshipSource::failures)
        .description("Loads that failed: the clinician's patients counted as unexplained meanwhile").register(registry);
    return source;
  }

  /**
   * Ending a locked user's sessions at the IdP, when the deployment asks for it: on a thread and an
   * HTTP client of its own, so that nothing on the background pool holds up a stolen session's end.
   */
  private static @Nullable SessionTermination idpSessions(DeploymentConfig config, Clock clock) throws IOException {
    DeploymentConfig.Containment c = config.containment();
    if (!c.endIdpSessions() || c.clientId() == null || c.clientSecretFile() == null) {
      return null;
    }
    String secret = Files.readString(c.clientSecretFile()).strip();
    SessionTermination.Settings keycloak = SessionTermination.Settings.keycloak(config.identity().issuer(), c.clientId(), secret);
    return SessionTermination.start(c.adminUrl() == null ? keycloak
        : new SessionTermination.Settings(keycloak.tokenEndpoint(), c.adminUrl(), c.clientId(), secret), clock);
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  private static ExecutorService executor(String name, int threads, int queue) {
    AtomicInteger n = new AtomicInteger();
    return new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue), r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.AbortPolicy());
  }

  public InetSocketAddress publicAddress() {
    return server.publicAddress();
  }

  public @Nullable InetSocketAddress adminAddress() {
    return server.adminAddress();
  }

  public QuotaStore quota() {
    return quota;
  }

  public PolicyReloader policies() {
    return policies;
  }

  /**
   * What {@code SIGHUP} does: reopens the audit file (after an external rotation), checks the policy directory now, and reads the certificates again
   * (the public port's and the EPR client's); whatever cannot be read leaves what is in force.
   */
  public void reload() {
    trail.reopen();
    LOG.info("reload requested: audit files, policies and certificates");
    policies.check();
    server.reloadCertificates();
  }

  /** Blocks until the public port closes (the {@code serve} command's main thread). */
  public void awaitClose() throws InterruptedException {
    server.awaitClose();
  }

  /**
   * Stops accepting, lets the requests under way finish (up to {@code limits.shutdown-grace}), then
   * closes every stage in order; the audit trail is written out before it returns. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    certificates.shutdownNow();
    server.close();
    policies.close();
    alerts.close();
    audit.close();
    ticks.shutdownNow();
    quota.close();
    heavyWork.shutdownNow();
    background.shutdownNow();
    if (idpSessions != null) {
      idpSessions.close();
    }
    metrics.close();
  }
}
