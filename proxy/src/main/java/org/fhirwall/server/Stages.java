package org.fhirwall.server;

import static java.util.Objects.requireNonNull;

import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.fhirwall.audit.Alarms;
import org.fhirwall.audit.AuditSink;
import org.fhirwall.auth.Authenticator;
import org.fhirwall.care.CareLookup;
import org.fhirwall.fhir.PageLinks;
import org.fhirwall.fhir.RequestParser;
import org.fhirwall.fhir.RequestPatients;
import org.fhirwall.inspect.ResponseInspector;
import org.fhirwall.policy.PolicyEngine;
import org.fhirwall.quota.Enforcement;
import org.fhirwall.respond.Responder;

/**
 * The stages a request passes, built once at start. All are thread-safe and free of Netty types;
 * {@code policy} is a supplier because policies are reloaded while the server runs.
 *
 * @param care the principals' care relationships (for roles with {@code unexplained-limits})
 * @param heavyWork a bounded executor for work too large for an event loop (big inspections,
 *     XML conversion); it rejects rather than queue without bound
 */
public record Stages(
    RequestParser parser,
    RequestPatients patients,
    Authenticator authenticator,
    PageLinks pageLinks,
    Supplier<PolicyEngine> policy,
    ResponseInspector inspector,
    Responder responder,
    Enforcement quota,
    CareLookup care,
    AuditSink audit,
    Alarms alarms,
    Clock clock,
    Executor heavyWork,
    PublicAccess publicAccess) {

  /** Stages without anything public (no CORS, no SMART discovery). */
  public Stages(RequestParser parser, RequestPatients patients, Authenticator authenticator, PageLinks pageLinks,
      Supplier<PolicyEngine> policy, ResponseInspector inspector, Responder responder, Enforcement quota, CareLookup care,
      AuditSink audit, Alarms alarms, Clock clock, Executor heavyWork) {
    this(parser, patients, authenticator, pageLinks, policy, inspector, responder, quota, care, audit, alarms, clock, heavyWork,
        PublicAccess.NONE);
  }

  public Stages {
    requireNonNull(parser, "parser");
    requireNonNull(patients, "patients");
    requireNonNull(authenticator, "authenticator");
    requireNonNull(pageLinks, "pageLinks");
    requireNonNull(policy, "policy");
    requireNonNull(inspector, "inspector");
    requireNonNull(responder, "responder");
    requireNonNull(quota, "quota");
    requireNonNull(care, "care");
    requireNonNull(audit, "audit");
    requireNonNull(alarms, "alarms");
    requireNonNull(clock, "clock");
    requireNonNull(heavyWork, "heavyWork");
    requireNonNull(publicAccess, "publicAccess");
  }
}
