package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import ca.uhn.fhir.context.FhirContext;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
import org.fhirwall.audit.AuditRecord;
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
import org.fhirwall.quota.FallbackQuotaStore;
import org.fhirwall.quota.LocalQuotaStore;
import org.fhirwall.quota.QuotaStore;
import org.fhirwall.quota.RedisQuotaStore;
import org.fhirwall.quota.StateFile;
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
  private boolean closed;

  private Fhirwall(FhirwallServer server, PolicyReloader policies, QuotaStore quota, AuditSink audit, AuditTrail trail,
      WebhookAlertSink alerts,
      ExecutorService heavyWork, ExecutorService background, Metrics metrics,
      ScheduledExecutorService certificates, ScheduledExecutorService ticks) {
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
      AuditTrail trail = auditTrail(config.audit(), options.clock());
      built.add(trail);
      bindAuditMetrics(trail, metrics.registry());
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
        audit.write(reloadRecord(options.clock().instant(), outcome));
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
      QuotaStore quota = quotaStore(config, options, background, ticks);
      built.add(quota);
      bindQuotaMetrics(quota, metrics.registry());
      AtomicReference<String> quotaProblem = new AtomicReference<>();
      ticks.scheduleWithFixedDelay(() -> quota.probe().whenComplete((ok, e) -> quotaProblem.set(e == null ? null
          : "the quota store does not answer (" + e.getClass().getSimpleName() + "); every request is refused")),
          0, 2, TimeUnit.SECONDS);
      byte[] pagingKey = pagingSecret(config.paging(), quota);
      PageLinks pageLinks = new PageLinks(pagingKey, config.paging().linkTtl());
      Authenticator authenticator = options.authenticator() != null ? options.authenticator()
          : JwtAuthenticator.create(config.identity(), new JwtAuthenticator.Binding(config.dpop(), quota::seenOnce,
              derivedKey(pagingKey, "fhirwall dpop nonce")), http, background, options.clock());
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
              idpSessions(config, http, background, options.clock())),
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
      watchCertificates(config, server, watch);
      return new Fhirwall(server, policies, quota, audit, trail, alerts, heavyWork, background, metrics, watch, ticks);
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

  /** Reloads the certificates when one of their files changes (checked every 30 s, off the event loops). */
  private static void watchCertificates(DeploymentConfig config, FhirwallServer server, ScheduledExecutorService watch) {
    List<Path> files = new ArrayList<>();
    if (config.tls() != null) {
      files.add(config.tls().certificate());
      files.add(config.tls().privateKey());
      if (config.tls().clientCa() != null) {
        files.add(config.tls().clientCa());
      }
    }
    DeploymentConfig.UpstreamTls u = config.upstream().tls();
    for (Path p : new Path[] {u.ca(), u.certificate(), u.privateKey()}) {
      if (p != null) {
        files.add(p);
      }
    }
    if (files.isEmpty()) {
      return;
    }
    AtomicReference<String> seen = new AtomicReference<>(stamp(files));
    watch.scheduleWithFixedDelay(() -> {
      String now = stamp(files);
      if (!now.equals(seen.getAndSet(now))) {
        LOG.info("a certificate file changed: reloading");
        server.reloadCertificates();
      }
    }, 30, 30, TimeUnit.SECONDS);
  }

  private static String stamp(List<Path> files) {
    StringBuilder sb = new StringBuilder();
    for (Path p : files) {
      try {
        sb.append(Files.getLastModifiedTime(p).toMillis()).append(':').append(Files.size(p)).append(';');
      } catch (IOException e) {
        sb.append("missing;");
      }
    }
    return sb.toString();
  }

  /** Ending a locked user's sessions at the IdP, when the deployment asks for it. */
  private static @Nullable SessionTermination idpSessions(DeploymentConfig config, HttpClient http, ExecutorService background,
      Clock clock) throws IOException {
    DeploymentConfig.Containment c = config.containment();
    if (!c.endIdpSessions() || c.clientId() == null || c.clientSecretFile() == null) {
      return null;
    }
    String secret = Files.readString(c.clientSecretFile()).strip();
    SessionTermination.Settings keycloak = SessionTermination.Settings.keycloak(config.identity().issuer(), c.clientId(), secret);
    return new SessionTermination(c.adminUrl() == null ? keycloak
        : new SessionTermination.Settings(keycloak.tokenEndpoint(), c.adminUrl(), c.clientId(), secret), http, background, clock);
  }

  /** The audit record of a policy reload: what changed, every weakening, every problem. */
  private static AuditRecord reloadRecord(java.time.Instant at, ReloadOutcome outcome) {
    if (outcome instanceof ReloadOutcome.Applied a) {
      return AuditRecord.policyReload(at, true, a.directory().toString(),
          "applied; added " + a.added() + ", removed " + a.removed() + ", changed " + a.changed()
              + (a.weakenings().isEmpty() ? "" : "; weakened (allowed by policy-reload.allow-weakening): " + a.weakenings()));
    }
    ReloadOutcome.Refused r = (ReloadOutcome.Refused) outcome;
    return AuditRecord.policyReload(at, false, r.directory().toString(), "refused, the policies in force stay: " + r.problems());
  }

  private static String stripSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /**
   * The quota stage's store: this process's (kept in {@code quota.state-dir} when set), or Redis
   * (waiting for it at start up to {@code quota.redis.start-wait}), with this replica's share of the
   * limits as fallback when the deployment chose {@code local-fallback}.
   */
  private static QuotaStore quotaStore(DeploymentConfig config, Options options, ExecutorService background,
      ScheduledExecutorService ticks) throws InterruptedException {
    DeploymentConfig.Quota q = config.quota();
    DeploymentConfig.Redis r = q.redis();
    if (r == null) {
      LocalQuotaStore local = new LocalQuotaStore(q.maxAccounts(), background,
          q.stateDir() == null ? null : new StateFile(q.stateDir()));
      if (q.stateDir() != null) {
        ticks.scheduleWithFixedDelay(local::persist, 5, 5, TimeUnit.SECONDS);
      }
      return local;
    }
    // A slot of a request whose replica died is held until its lease ends: the longest a request may take.
    Duration lease = config.upstream().responseTimeout().plus(config.limits().requestTimeout()).plusSeconds(30);
    RedisQuotaStore redis = RedisQuotaStore.connect(new RedisQuotaStore.Settings(r.url(), r.cluster(), r.username(),
        r.password(), r.caFile(), r.timeout(), lease, r.replay(), r.keyPrefix()), r.startWait());
    if (!q.localFallback()) {
      return redis;
    }
    FallbackQuotaStore fallback = new FallbackQuotaStore(redis, q.replicas(), q.maxAccounts(), background);
    ticks.scheduleWithFixedDelay(() -> fallback.refreshLocks(options.clock().instant()), 0, 3, TimeUnit.SECONDS);
    return fallback;
  }

  /**
   * The quota store's metrics: whether this replica enforces its share of the limits alone because
   * Redis does not answer, and how many charges it made so.
   */
  private static void bindQuotaMetrics(QuotaStore quota, MeterRegistry registry) {
    if (quota instanceof FallbackQuotaStore fallback) {
      Gauge.builder("fhirwall.quota.store.fallback", fallback, f -> f.degraded() ? 1 : 0)
          .description("1 while Redis does not answer and this replica enforces 1/replicas of every limit alone")
          .register(registry);
      FunctionCounter.builder("fhirwall.quota.fallback.charges", fallback, FallbackQuotaStore::fallbackCharges)
          .description("Responses charged by this replica alone while Redis did not answer")
          .register(registry);
    }
  }

  /** The paging links' key: from {@code paging.secret-file}, else the one the quota store keeps (shared by replicas). */
  /** A key for another purpose derived from a shared one (HMAC-SHA256 of the purpose), so replicas agree on it too. */
  private static byte[] derivedKey(byte[] shared, String purpose) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new javax.crypto.spec.SecretKeySpec(shared, "HmacSHA256"));
      return mac.doFinal(purpose.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 missing from the JDK", e);
    }
  }

  private static byte[] pagingSecret(DeploymentConfig.Paging paging, QuotaStore quota) throws IOException, InterruptedException {
    if (paging.secretFile() == null) {
      byte[] proposed = new byte[32];
      new SecureRandom().nextBytes(proposed);
      // Retried for a while: a store just connected may still be settling (a reconnect, a failover).
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          return quota.sharedSecret("paging", proposed).toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
          if (System.nanoTime() > deadline) {
            throw new IOException("the paging key could not be read from the quota store: " + e.getMessage(), e);
          }
          LOG.warn("the paging key could not be read from the quota store yet ({}); retrying", e.getMessage());
          Thread.sleep(250);
        }
      }
    }
    byte[] secret = Files.readAllBytes(paging.secretFile());
    if (secret.length < 32) {
      throw new IOException("paging.secret-file " + paging.secretFile() + ": " + secret.length + " bytes (expected: at least 32)");
    }
    return secret;
  }

  /** The audit writer: the file (chained, rotated, synced) and standard output, each when configured. */
  private static AuditTrail auditTrail(DeploymentConfig.Audit audit, Clock clock) throws IOException {
    AuditTrail.FileSettings file = audit.file() == null ? null : new AuditTrail.FileSettings(audit.file(), audit.maxSize(),
        audit.rotateEvery(), audit.fsyncInterval(), audit.checkpointKey(), audit.checkpointRecords(), audit.checkpointEvery());
    OutputStream stdout = audit.stdout() ? new java.io.FilterOutputStream(System.out) {
      @Override
      public void close() throws IOException {
        flush();
      }
    } : null;
    DeploymentConfig.Syslog s = audit.syslog();
    AuditTrail.SyslogSettings syslog = s == null ? null
        : new AuditTrail.SyslogSettings(s.address().host(), s.address().port(), s.caFile(), s.timeout());
    DeploymentConfig.Repository r = audit.repository();
    AuditTrail.RepositorySettings repository = r == null ? null
        : new AuditTrail.RepositorySettings(r.url(), r.bearer(), r.timeout());
    AuditTrail.SpoolSettings spool = audit.spoolDir() == null ? null
        : new AuditTrail.SpoolSettings(audit.spoolDir(), audit.spoolMaxSize());
    return AuditTrail.open(file, stdout, syslog, repository, spool, audit.queue(),
        audit.onFailure().equals("refuse") ? AuditTrail.OnFailure.REFUSE : AuditTrail.OnFailure.ALARM, clock);
  }

  private static void bindAuditMetrics(AuditTrail trail, MeterRegistry registry) {
    Gauge.builder("fhirwall.audit.queue", trail, AuditTrail::queueDepth)
        .description("Audit records waiting for the writer").register(registry);
    Gauge.builder("fhirwall.audit.owed", trail, AuditTrail::owed)
        .description("Audit records a failing destination still owes (held in memory, written when it recovers)")
        .register(registry);
    FunctionCounter.builder("fhirwall.audit.written", trail, AuditTrail::written)
        .description("Audit records the writer took and handed to its destinations").register(registry);
    FunctionCounter.builder("fhirwall.audit.sink.failures", trail, AuditTrail::failures)
        .description("Failed writes to an audit destination (each retried)").register(registry);
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
    metrics.close();
  }
}
