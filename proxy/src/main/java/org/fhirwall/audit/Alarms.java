package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.fhirwall.policy.Decision;
import org.fhirwall.auth.SessionTermination;
import org.fhirwall.quota.Enforcement;
import org.fhirwall.quota.EventWatch;
import org.jspecify.annotations.Nullable;

/**
 * What a security officer must hear about while a request is served, each written to the audit
 * trail as its own record and, where the policy says so (always for break-glass, an id walk and
 * EPR failures), sent as an alert: a lock at a patient limit, a limit reached, a signal from the
 * quota stage, a break-glass access. Never blocks (the sinks queue). Thread-safe.
 */
public final class Alarms {
  private final AuditSink audit;
  private final AlertSink alerts;
  private final Clock clock;
  private final EventWatch refusals;
  private final int burst;
  private final Duration burstWindow;
  private final @Nullable SessionTermination idpSessions;

  /**
   * @param burst more refusals than this for one principal within {@code burstWindow} raise an alert
   */
  public Alarms(AuditSink audit, AlertSink alerts, Clock clock, int burst, Duration burstWindow) {
    this(audit, alerts, clock, burst, burstWindow, null);
  }

  /**
   * @param idpSessions when set, every lock of a user also ends the user's sessions at the IdP
   *     (a failure there is alerted on; the lock stands either way)
   */
  public Alarms(AuditSink audit, AlertSink alerts, Clock clock, int burst, Duration burstWindow,
      @Nullable SessionTermination idpSessions) {
    this.idpSessions = idpSessions;
    this.audit = requireNonNull(audit, "audit");
    this.alerts = requireNonNull(alerts, "alerts");
    this.clock = requireNonNull(clock, "clock");
    this.refusals = new EventWatch(100_000);
    this.burst = burst;
    this.burstWindow = requireNonNull(burstWindow, "burstWindow");
  }

  /**
   * A request of a known principal was refused (401, 403, 429): past the burst threshold — someone
   * probing what the policy allows — an alert is raised.
   */
  public void refused(Trail t) {
    var p = t.principal();
    if (p != null && refusals.record(p.accountKey(), 1, burstWindow, burst, clock.instant())) {
      raise(t, AuditRecord.Kind.ALERT, AuditRecord.Outcome.REFUSED, "refusal-burst", "more than " + burst
          + " requests of this principal refused within " + burstWindow, null, true);
    }
  }

  /**
   * A response refused at a patient limit: the lock it caused, or the limit reached when the role alerts, or under
   * break-glass (never held at the limit because every break-glass answer is alerted on: a refused one too, else each
   * 429 would tell, unalerted, that an answer held a patient not counted).
   */
  public void overLimit(Trail t, Enforcement.Charged.OverLimit over) {
    Decision.Allow allow = requireNonNull(t.allow(), "allow");
    boolean alert = allow.role().atLimit().alert() || allow.breakGlass();
    String what = Enforcement.limitText(over.result().breached()) + " reached"
        + (allow.breakGlass() ? " under break-glass: " + t.breakGlassReason() : "");
    if (over.lock() != null) {
      raise(t, AuditRecord.Kind.LOCK, AuditRecord.Outcome.THROTTLED, "account-locked", what, over.lock().until(), alert);
    } else if (alert) {
      raise(t, AuditRecord.Kind.ALERT, AuditRecord.Outcome.THROTTLED, "patient-limit-reached", what, null, true);
    }
  }

  /** A quota signal that crossed its threshold (an id walk, EPR failures): always alerted. */
  public void signal(Trail t, Enforcement.Signal s) {
    var lock = s.lock();
    raise(t, lock != null ? AuditRecord.Kind.LOCK : AuditRecord.Kind.ALERT, AuditRecord.Outcome.THROTTLED,
        lock != null ? "account-locked" : s.kind(), s.detail(), lock == null ? null : lock.until(), true);
  }

  /** A response released under break-glass: every one is alerted on. */
  public void breakGlass(Trail t, int patients) {
    raise(t, AuditRecord.Kind.ALERT, AuditRecord.Outcome.ALLOWED, "break-glass-access",
        "break-glass access to " + patients + " patient(s): " + t.breakGlassReason(), null, true);
  }

  /** Contain a locked user at the source: end its sessions at the IdP; a failure is itself an alarm. */
  private void endIdpSessions(Trail t) {
    var p = t.principal();
    if (idpSessions == null || p == null || p.kind() != org.fhirwall.auth.Principal.Kind.USER) {
      return;
    }
    idpSessions.endSessions(p.subject()).whenComplete((ok, e) -> {
      if (e == null) {
        audit.write(t.event(AuditRecord.Kind.ALERT, AuditRecord.Outcome.ALLOWED, 200, clock.instant(), "idp-sessions-ended",
            "the user's sessions at the identity provider were ended after the lock", null, System.nanoTime()));
      } else {
        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        raise(t, AuditRecord.Kind.ALERT, AuditRecord.Outcome.FAILED, "idp-session-termination-failed",
            "the locked user's sessions at the identity provider could not be ended: " + cause.getMessage(), null, true);
      }
    });
  }

  private void raise(Trail t, AuditRecord.Kind kind, AuditRecord.Outcome outcome, String event, String detail,
      @Nullable Instant lockedUntil, boolean alert) {
    if (kind == AuditRecord.Kind.LOCK) {
      endIdpSessions(t);
    }
    Instant at = clock.instant();
    if (alert) {
      alerts.alert(t.alert(at, event, detail, lockedUntil));
    }
    audit.write(t.event(kind, outcome, outcome == AuditRecord.Outcome.ALLOWED ? 200 : outcome == AuditRecord.Outcome.REFUSED
        ? 403 : outcome == AuditRecord.Outcome.FAILED ? 502 : 429, at, event, detail,
        lockedUntil, System.nanoTime()));
  }
}
