package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.CanonicalForm;
import org.fhirwall.fhir.FhirRequest;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.policy.Decision;
import org.fhirwall.quota.ChargeResult;
import org.fhirwall.quota.WindowUsage;
import org.jspecify.annotations.Nullable;

/**
 * What is known of one request so far, for its audit record: where it came from, then (as the
 * request moves through the stages) who asked, what, and what the policy allowed. Immutable: each
 * stage that learns something returns a new trail; every ending of a request turns the trail into
 * exactly one {@link AuditRecord} ({@link #released} or {@link #refused}), and alerts and locks
 * raised on the way into their own records ({@link #event}). Never holds the token or clinical content.
 *
 * @param startNanos {@link System#nanoTime()} at arrival, for the record's duration
 * @param rawTarget the request-target as received (used when no canonical form exists)
 */
public record Trail(
    String requestId,
    Instant start,
    long startNanos,
    String remoteAddress,
    String method,
    String rawTarget,
    @Nullable String traceparent,
    @Nullable Principal principal,
    @Nullable FhirRequest request,
    @Nullable String pageTarget,
    Decision.@Nullable Allow allow,
    @Nullable String breakGlassReason) {

  public Trail {
    requireNonNull(requestId, "requestId");
    requireNonNull(start, "start");
    requireNonNull(remoteAddress, "remoteAddress");
    requireNonNull(method, "method");
    requireNonNull(rawTarget, "rawTarget");
  }

  /**
   * The target with the value of every {@code access_token} query parameter replaced: a client that
   * sends its token in the URL (RFC 6750 §2.3, refused by fhirwall) must not leave it in the audit
   * trail and the access log.
   */
  static String withoutAccessToken(String target) {
    int q = target.indexOf('?');
    if (q < 0 || !mayNameToken(target, q)) {
      return target;
    }
    StringBuilder out = new StringBuilder(target.length()).append(target, 0, q + 1);
    String[] pairs = target.substring(q + 1).split("&", -1);
    for (int i = 0; i < pairs.length; i++) {
      String pair = pairs[i];
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      out.append(i == 0 ? "" : "&").append(decodedName(name).contains("access_token") ? name + "=REDACTED" : pair);
    }
    return out.toString();
  }

  /** A parameter's name percent-decoded and in lower case; as it is when it does not decode. */
  private static String decodedName(String name) {
    try {
      return URLDecoder.decode(name, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT);
    } catch (IllegalArgumentException malformed) {
      return name.toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Whether a parameter of the query (from {@code q}) may name a token: a name ending in "token" in
   * any case, or any percent-encoding; the common case answers without allocating.
   */
  private static boolean mayNameToken(String target, int q) {
    if (target.indexOf('%', q) >= 0) {
      return true;
    }
    for (int i = target.indexOf('=', q); i >= 0; i = target.indexOf('=', i + 1)) {
      if (i >= 5 && target.regionMatches(true, i - 5, "token", 0, 5)) {
        return true;
      }
    }
    return false;
  }

  /** A request that has just arrived. */
  public static Trail arrived(String requestId, Instant start, long startNanos, String remoteAddress, String method,
      String rawTarget, @Nullable String traceparent) {
    return new Trail(requestId, start, startNanos, remoteAddress, method, withoutAccessToken(rawTarget), traceparent, null,
        null, null, null, null);
  }

  /** The principal, once authenticated (a trail without one has not got that far). */
  public Principal who() {
    return requireNonNull(principal, "principal: not authenticated yet");
  }

  public Trail by(Principal p) {
    return new Trail(requestId, start, startNanos, remoteAddress, method, rawTarget, traceparent, p, request, pageTarget,
        allow, breakGlassReason);
  }

  public Trail asked(FhirRequest r, @Nullable String breakGlass) {
    return new Trail(requestId, start, startNanos, remoteAddress, method, rawTarget, traceparent, principal, r, pageTarget,
        allow, breakGlass);
  }

  /** The request is the next page of a search: {@code opened} is the request the link was made for. */
  public Trail paging(FhirRequest opened, String upstreamTarget) {
    return new Trail(requestId, start, startNanos, remoteAddress, method, rawTarget, traceparent, principal, opened,
        upstreamTarget, allow, breakGlassReason);
  }

  public Trail allowed(Decision.Allow a) {
    return new Trail(requestId, start, startNanos, remoteAddress, method, rawTarget, traceparent, principal, request,
        pageTarget, a, breakGlassReason);
  }

  /** The record of a released answer: the patients it disclosed and the windows after the charge. */
  public AuditRecord released(int status, Set<String> patients, ChargeResult.Admitted charge, long nowNanos) {
    return released(status, patients, charge, null, nowNanos);
  }

  /**
   * The record of a released answer of a role with {@code unexplained-limits}: also which patients
   * a care relationship explained, and by which ({@code explainedBy}; the others were unexplained).
   */
  public AuditRecord released(int status, Set<String> patients, ChargeResult.Admitted charge,
      @Nullable Map<String, String> explainedBy, long nowNanos) {
    List<String> notes = new ArrayList<>(allow == null ? List.of() : allow.notes());
    WindowUsage would = charge.wouldRefuse();
    if (would != null) {
      notes.add("report-only: over the " + would.window().name() + " limit (" + would.distinct() + "/"
          + would.window().max() + ")");
    }
    AuditRecord r = record(AuditRecord.Kind.DECISION, start, AuditRecord.Outcome.ALLOWED, status, List.copyOf(patients),
        charge.newPatients(), usage(charge.usage()), null, "", notes, nowNanos);
    return explainedBy == null ? r : new AuditRecord(r.kind(), r.time(), r.requestId(), r.outcome(), r.status(), r.principal(),
        r.role(), r.mode(), r.method(), r.interaction(), r.resourceType(), r.operation(), r.target(), r.patients(),
        r.newPatients(), r.usage(), r.rule(), r.reason(), r.notes(), r.breakGlassReason(), r.remoteAddress(), r.traceparent(),
        r.durationMicros(), explainedBy);
  }

  /** The record of a refusal: what was refused, by which rule, and the windows as they stand. */
  public AuditRecord refused(Refusal refusal, AuditRecord.Outcome outcome, String rule, List<WindowUsage> windows,
      long nowNanos) {
    return record(AuditRecord.Kind.DECISION, start, outcome, refusal.status(), List.of(), 0, usage(windows), rule,
        refusal.diagnostics(), allow == null ? List.of() : allow.notes(), nowNanos);
  }

  /**
   * The record of an answer refused after its patients were charged (a resolved count whose page was
   * full, an answer outside the app's launch context): who was charged, though nothing was released.
   */
  public AuditRecord refusedAfterCharge(Refusal refusal, String rule, Set<String> patients, ChargeResult.Admitted charge,
      long nowNanos) {
    return record(AuditRecord.Kind.DECISION, start, AuditRecord.Outcome.REFUSED, refusal.status(), List.copyOf(patients),
        charge.newPatients(), usage(charge.usage()), rule, refusal.diagnostics(), allow == null ? List.of() : allow.notes(),
        nowNanos);
  }

  /** The record of a lock, an alert or a break-glass access raised while serving this request. */
  public AuditRecord event(AuditRecord.Kind kind, AuditRecord.Outcome outcome, int status, Instant at, String event,
      String detail, @Nullable Instant lockedUntil, long nowNanos) {
    return record(kind, at, outcome, status, List.of(), 0, Map.of(), event,
        detail + (lockedUntil != null ? "; locked until " + lockedUntil : ""), List.of(), nowNanos);
  }

  /** The alert a security officer receives about this request's principal. */
  public Alert alert(Instant at, String event, String detail, @Nullable Instant lockedUntil) {
    Principal p = requireNonNull(principal, "principal");
    return new Alert(at, event, p.accountKey(), p.displayName(), allow == null ? null : allow.role().name(), detail,
        lockedUntil, requestId);
  }

  private AuditRecord record(AuditRecord.Kind kind, Instant at, AuditRecord.Outcome outcome, int status,
      List<String> patients, int newPatients, Map<String, Integer> usage, @Nullable String rule, String reason,
      List<String> notes, long nowNanos) {
    return new AuditRecord(kind, at, requestId, outcome, status, principal, allow == null ? null : allow.role().name(),
        allow == null ? null : allow.role().mode().code(), method, request == null ? null : request.interaction().code(),
        request == null ? null : request.resourceType(), request == null ? null : request.operation(), target(),
        patients, newPatients, usage, rule, reason, notes, breakGlassReason, remoteAddress, traceparent,
        TimeUnit.NANOSECONDS.toMicros(nowNanos - startNanos));
  }

  private String target() {
    if (pageTarget != null) {
      return pageTarget;
    }
    if (request != null && request.interaction() != Interaction.PAGE) {
      try {
        return CanonicalForm.of(request).target();
      } catch (RuntimeException e) {
        return rawTarget;
      }
    }
    return rawTarget;
  }

  private static Map<String, Integer> usage(List<WindowUsage> windows) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (WindowUsage u : windows) {
      out.put(u.window().name(), u.distinct());
    }
    return out;
  }
}
