package org.fhirwall.respond;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fhirwall.fhir.Format;
import org.fhirwall.fhir.IssueType;
import org.fhirwall.fhir.OperationOutcomes;
import org.fhirwall.fhir.Refusal;
import org.fhirwall.policy.Decision;
import org.fhirwall.quota.Lock;
import org.fhirwall.upstream.UpstreamResult;
import org.jspecify.annotations.Nullable;

/**
 * Every refusal fhirwall sends, and the one mapping from a kind of refusal to its HTTP status and
 * FHIR issue code. Diagnostics never carry patient data or secrets. Stateless.
 */
public final class Refusals {
  private Refusals() {}

  /** A policy refusal: FORBIDDEN and TOO_COSTLY are 403, INVALID 400, STEP_UP 401 with its RFC 9470 challenge. */
  public static Refusal of(Decision.Deny deny) {
    return switch (deny.kind()) {
      case FORBIDDEN -> Refusal.of(403, IssueType.FORBIDDEN, deny.reason());
      case TOO_COSTLY -> Refusal.of(403, IssueType.TOO_COSTLY, deny.reason());
      case INVALID -> Refusal.of(400, IssueType.REQUIRED, deny.reason());
      case STEP_UP -> java.util.Objects.requireNonNull(deny.shortfall(), "shortfall").refusal();
      case UNBOUND_TOKEN -> java.util.Objects.requireNonNull(deny.challenge(), "challenge");
    };
  }

  /** 429 with {@code Retry-After} in whole seconds (at least 1). */
  public static Refusal throttled(String message, Duration retryAfter) {
    long seconds = Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    return Refusal.of(429, IssueType.THROTTLED, message).withHeader("Retry-After", Long.toString(seconds));
  }

  /** Over the role's request rate or concurrency. */
  public static Refusal rate(String role, String reason, Duration retryAfter) {
    return throttled("Too many requests: " + reason + " for role " + role, retryAfter);
  }

  /** A locked account: 429 until the lock ends. */
  public static Refusal locked(Lock lock, Instant now) {
    return throttled("Account locked until " + lock.until() + " (" + lock.reason() + "); contact your security officer",
        Duration.between(now, lock.until()));
  }

  /** A response that would take the account over a limit: 429 until it fits again, or until the lock ends. */
  public static Refusal overLimit(String role, org.fhirwall.quota.Enforcement.Charged.OverLimit over, Instant now) {
    String detail = "This response would take you over " + org.fhirwall.quota.Enforcement.limitText(over.result().breached())
        + " for role " + role;
    Lock lock = over.lock();
    return lock == null ? throttled(detail, over.result().retryAfter())
        : throttled(detail + "; your account is locked until " + lock.until(), Duration.between(now, lock.until()));
  }

  /**
   * A request of a principal at its limit ({@code at-limit.action: refuse}), refused before the EPR is asked: until
   * the window has room again, only requests that name patients already counted go to the EPR.
   */
  public static Refusal held(String role, org.fhirwall.quota.QuotaStore.Held held, Instant now) {
    String why = held.full() == null ? "A response was refused over a patient limit of role " + role
        : "You have reached " + org.fhirwall.quota.Enforcement.limitText(new org.fhirwall.quota.WindowUsage(held.full(),
            held.full().max())) + " for role " + role;
    return throttled(why + "; until " + held.until() + " only requests that name patients already counted (such as "
        + "Patient/{id} or Observation?patient={id}) are forwarded", Duration.between(now, held.until()));
  }

  /** The quota store could not answer: nothing is released until it can (fail closed). */
  public static Refusal storeUnavailable() {
    return Refusal.of(503, IssueType.TRANSIENT, "Patient limits cannot be checked right now; nothing is released until they can")
        .withHeader("Retry-After", "5");
  }

  /** The token could not be checked at all (the authenticator failed). */
  public static Refusal authenticationUnavailable() {
    return Refusal.of(503, IssueType.TRANSIENT, "Token verification unavailable, try again shortly")
        .withHeader("Retry-After", "5");
  }

  /** fhirwall is shutting down: another replica (or this one, restarted) will answer. */
  public static Refusal shuttingDown() {
    return Refusal.of(503, IssueType.TRANSIENT, "fhirwall is shutting down, try again").withHeader("Retry-After", "1");
  }

  /**
   * The audit trail does not take records and the deployment chose {@code audit.on-failure: refuse}:
   * nothing is served unaudited.
   */
  public static Refusal auditUnavailable() {
    return Refusal.of(503, IssueType.TRANSIENT, "The audit trail is unavailable; fhirwall serves no request it cannot record")
        .withHeader("Retry-After", "5");
  }

  /**
   * The public port holds {@code limits.max-connections} connections already: this one is answered
   * and closed before its request is read.
   */
  public static Refusal tooManyConnections(int max) {
    return new Refusal(503, IssueType.TRANSIENT, "fhirwall has " + max + " client connections open (limits.max-connections) "
        + "and takes no more for now; try again shortly", Map.of("Retry-After", "1"), true);
  }

  /** fhirwall's bounded work queue is full. */
  public static Refusal busy() {
    return Refusal.of(503, IssueType.TRANSIENT, "fhirwall is busy, try again shortly").withHeader("Retry-After", "2");
  }

  /** The EPR gave no usable answer: 502 unreachable or broken, 503 breaker open or bulkhead full, 504 timeout. */
  public static Refusal upstream(UpstreamResult.Failure failure) {
    int status = switch (failure.kind()) {
      case UNREACHABLE, TOO_LARGE, PROTOCOL -> 502;
      case TIMEOUT -> 504;
      case CIRCUIT_OPEN, BUSY -> 503;
    };
    Refusal r = Refusal.of(status, status == 504 ? IssueType.TIMEOUT : IssueType.TRANSIENT,
        "The EPR did not answer properly: " + failure.detail());
    return status == 503 ? r.withHeader("Retry-After", "5") : r;
  }

  /**
   * The client's {@code If-Match} names another version of the record than the one fhirwall read before an update or
   * delete by id under a launch context: 412, as the EPR would answer, without the EPR being asked.
   */
  public static Refusal versionChanged() {
    return Refusal.of(412, IssueType.CONFLICT, "The record is not at the version If-Match names; read it again");
  }

  /** An EPR answer fhirwall could not read through (fail closed: it may carry patients). */
  public static Refusal unreadable() {
    return Refusal.of(502, IssueType.PROCESSING, "The EPR's response could not be inspected and was withheld");
  }

  /**
   * A bulk export answer handing out a job or file fhirwall cannot bind to the account (a status URL
   * or file URL in a form it does not read): withheld, as nobody but that account may have it.
   */
  public static Refusal unbindable() {
    return Refusal.of(502, IssueType.PROCESSING, "The EPR's bulk export answer names a job or file fhirwall cannot bind "
        + "to your account; it was withheld");
  }

  /** An EPR answer fhirwall read but could not convert into the form the client asked for. */
  public static Refusal unshapeable() {
    return Refusal.of(502, IssueType.PROCESSING, "The EPR's response could not be converted for this client");
  }

  /** An unexpected failure inside fhirwall: nothing was released. */
  public static Refusal internal(String requestId) {
    return Refusal.of(500, IssueType.EXCEPTION, "Internal error in fhirwall; nothing was released (request " + requestId + ")");
  }

  /** A request whose body exceeds the limit (413, connection closed). */
  public static Refusal bodyTooLarge(long limit) {
    return new Refusal(413, IssueType.TOO_LONG, "Request body exceeds limits.max-request-body (" + limit + " bytes)",
        Map.of(), true);
  }

  /** The client's connection broke before its request arrived whole (recorded; nobody is left to read it). */
  public static Refusal connectionLost() {
    return new Refusal(400, IssueType.INCOMPLETE, "The request did not arrive whole: the connection closed", Map.of(), true);
  }

  /** The refusal as an answer: an OperationOutcome in {@code format}, its headers, the standard ones. */
  public static Answer answer(Refusal refusal, Format format, @Nullable String requestId) {
    List<Map.Entry<String, String>> headers = new ArrayList<>(refusal.headers().size() + 4);
    headers.add(Map.entry("Content-Type", format.contentType()));
    headers.addAll(refusal.headers().entrySet());
    Headers.standard(headers, requestId);
    return new Answer(refusal.status(), headers, OperationOutcomes.render(refusal, format), refusal.closeConnection());
  }
}
