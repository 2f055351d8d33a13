package org.fhirwall.admin;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import org.fhirwall.audit.AuditRecord;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.quota.PatientWindow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts what the audit trail records, on its way to the real sinks: every request by interaction,
 * outcome and status, its latency, the patients disclosed, the principals near a limit, locks,
 * alerts, unlocks and policy reloads — all from the one record each decision already produces, so
 * the metrics and the trail can never tell different stories. With {@code accessLog}, also one
 * access line per request on the {@code fhirwall.access} logger (patient-free). Forwards every
 * record to {@code delegate} unchanged. Thread-safe; never blocks.
 */
public final class RequestMetrics implements AuditSink {
  private static final Logger ACCESS = LoggerFactory.getLogger("fhirwall.access");
  /** A principal is "near its limit" once a window holds this share of its maximum. */
  static final double NEAR = 0.8;

  private final AuditSink delegate;
  private final MeterRegistry registry;
  private final Function<String, Optional<java.util.List<PatientWindow>>> limitsOfRole;
  private final boolean accessLog;
  private final Timer.Builder latency;
  /** Meters by their tags: registering a meter is a lookup, a map hit is cheaper on every request. */
  private final java.util.concurrent.ConcurrentHashMap<RequestKey, Counter> requests = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentHashMap<String, Timer> durations = new java.util.concurrent.ConcurrentHashMap<>();

  private record RequestKey(String interaction, String outcome, int status, String rule) {}
  private final Cache<String, Boolean> nearLimit =
      Caffeine.newBuilder().expireAfterWrite(Duration.ofHours(1)).maximumSize(100_000).executor(Runnable::run).build();

  /**
   * @param limitsOfRole the patient windows of a role policy by name (empty when it no longer exists)
   */
  public RequestMetrics(AuditSink delegate, MeterRegistry registry,
      Function<String, Optional<java.util.List<PatientWindow>>> limitsOfRole, boolean accessLog) {
    this.delegate = requireNonNull(delegate, "delegate");
    this.registry = requireNonNull(registry, "registry");
    this.limitsOfRole = requireNonNull(limitsOfRole, "limitsOfRole");
    this.accessLog = accessLog;
    this.latency = Timer.builder("fhirwall.request.duration").description("Time from a request's arrival to its answer")
        .publishPercentileHistogram().serviceLevelObjectives(Duration.ofMillis(5), Duration.ofMillis(50), Duration.ofMillis(500))
        .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60));
    Gauge.builder("fhirwall.principals.near.limit", nearLimit, c -> {
      c.cleanUp();
      return c.estimatedSize();
    }).description("Principals whose last answer left a patient window at 80 % of its maximum or more (last hour)")
        .register(registry);
    Gauge.builder("fhirwall.audit.dropped", delegate, AuditSink::dropped)
        .description("Audit records accepted but not written").register(registry);
    // The event counters exist from the start (at 0), so dashboards and alert rules see them before the first event.
    locks("account-locked");
    for (String event : new String[] {"patient-limit-reached", "break-glass-access", "enumeration-suspected",
        "refusal-burst", "idp-session-termination-failed"}) {
      alerts(event);
    }
    unlocks();
    reloads("applied");
    reloads("refused");
  }

  private Counter locks(String event) {
    return Counter.builder("fhirwall.locks").description("Accounts locked (patient limit, id walk, EPR failures)")
        .tag("event", event).register(registry);
  }

  private Counter alerts(String event) {
    return Counter.builder("fhirwall.alerts").description("Alerts raised").tag("event", event).register(registry);
  }

  private Counter unlocks() {
    return Counter.builder("fhirwall.unlocks").description("Locks lifted by an operator").register(registry);
  }

  private Counter reloads(String result) {
    return Counter.builder("fhirwall.policy.reloads").description("Policy reloads, applied or refused")
        .tag("result", result).register(registry);
  }

  @Override
  public void write(AuditRecord r) {
    try {
      count(r);
    } catch (RuntimeException e) {
      // metrics must never cost a record
    }
    delegate.write(r);
  }

  private void count(AuditRecord r) {
    String outcome = r.outcome().name().toLowerCase(Locale.ROOT);
    switch (r.kind()) {
      case DECISION -> {
        String interaction = r.interaction() == null ? "unclassified" : r.interaction();
        String rule = r.rule() == null ? "" : ruleFamily(r.rule());
        requests.computeIfAbsent(new RequestKey(interaction, outcome, r.status(), rule), k -> Counter.builder("fhirwall.requests")
            .description("Requests by interaction, outcome and status").tag("interaction", k.interaction())
            .tag("outcome", k.outcome()).tag("status", Integer.toString(k.status())).tag("rule", k.rule()).register(registry))
            .increment();
        durations.computeIfAbsent(outcome, o -> latency.tag("outcome", o).register(registry))
            .record(r.durationMicros(), java.util.concurrent.TimeUnit.MICROSECONDS);
        if (r.newPatients() > 0) {
          Counter.builder("fhirwall.patients.disclosed").description("Patients disclosed, new to the principal's longest window")
              .tag("role", r.role() == null ? "" : r.role()).register(registry).increment(r.newPatients());
        }
        near(r);
        if (accessLog && ACCESS.isInfoEnabled()) {
          ACCESS.info("{} {} {} {} {} {}us patients={} rule={}", r.method(), r.target(), r.status(), outcome, interaction,
              r.durationMicros(), r.patients().size(), r.rule() == null ? "-" : r.rule());
        }
      }
      case LOCK -> locks(r.rule() == null ? "" : r.rule()).increment();
      case ALERT -> alerts(r.rule() == null ? "" : r.rule()).increment();
      case UNLOCK -> unlocks().increment();
      case POLICY_RELOAD -> reloads(r.outcome() == AuditRecord.Outcome.ALLOWED ? "applied" : "refused").increment();
      case RELATIONSHIP_CHANGE -> Counter.builder("fhirwall.relationship.changes")
          .description("Writes through fhirwall that make or change a care relationship").register(registry).increment();
    }
  }

  private void near(AuditRecord r) {
    if (r.principal() == null || r.role() == null || r.usage().isEmpty()) {
      return;
    }
    Optional<java.util.List<PatientWindow>> limits = limitsOfRole.apply(r.role());
    if (limits.isEmpty()) {
      return;
    }
    String account = r.principal().accountKey();
    for (PatientWindow w : limits.get()) {
      Integer used = r.usage().get(w.name());
      if (used != null && used >= NEAR * w.max()) {
        nearLimit.put(account, Boolean.TRUE);
        return;
      }
    }
    nearLimit.invalidate(account);
  }

  /** {@code patient-limit:1h} → {@code patient-limit}; {@code inspect:malformed JSON ...} → {@code inspect}. */
  static String ruleFamily(String rule) {
    int colon = rule.indexOf(':');
    return colon < 0 ? rule : rule.substring(0, colon);
  }

  @Override
  public long dropped() {
    return delegate.dropped();
  }

  @Override
  public boolean accepting() {
    return delegate.accepting();
  }

  @Override
  public void close() {
    delegate.close();
  }

}
