package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.fhirwall.auth.Principal;
import org.jspecify.annotations.Nullable;

/**
 * One decision (or alert) on record. Written as a FHIR {@code AuditEvent} in the IHE BALP shape by
 * {@link AuditEventJson}.
 *
 * @param kind {@link Kind#DECISION} for a request, {@link Kind#ALERT} for a limit reached,
 *     {@link Kind#LOCK}/{@link Kind#UNLOCK} for operator-visible lock changes
 * @param outcome what the client got
 * @param principal who asked; null when no token could be verified
 * @param role the role policy that governed the request, null before one was selected
 * @param interaction the FHIR interaction code, null when the request could not be classified
 * @param target the canonical request target relative to the base, or the raw path when refused before parsing
 * @param patients the patients the released response disclosed (empty when nothing was released)
 * @param usage distinct patients per window after the decision, by window name
 * @param rule the policy rule or check that refused, null when allowed
 * @param reason a patient-free explanation (the refusal's diagnostics, or what an alert is about)
 * @param notes patient-free remarks (rewrites, report-only findings)
 * @param breakGlassReason the break-glass reason given, null when none
 * @param explainedBy for a role with {@code unexplained-limits}: each disclosed patient a care
 *     relationship explained, with that relationship ({@code encounter Encounter/e1}); every other
 *     patient of {@code patients} was unexplained. Null when the role has no such budget.
 */
public record AuditRecord(
    Kind kind,
    Instant time,
    String requestId,
    Outcome outcome,
    int status,
    @Nullable Principal principal,
    @Nullable String role,
    @Nullable String mode,
    String method,
    @Nullable String interaction,
    @Nullable String resourceType,
    @Nullable String operation,
    String target,
    List<String> patients,
    int newPatients,
    Map<String, Integer> usage,
    @Nullable String rule,
    String reason,
    List<String> notes,
    @Nullable String breakGlassReason,
    String remoteAddress,
    @Nullable String traceparent,
    long durationMicros,
    @Nullable Map<String, String> explainedBy) {

  /** What kind of event this is. */
  public enum Kind {
    DECISION,
    ALERT,
    LOCK,
    UNLOCK,
    /** The role policies were reloaded, or a reload was refused. */
    POLICY_RELOAD,
    /**
     * A write through fhirwall that makes or changes a care relationship (an Encounter, CareTeam,
     * EpisodeOfCare or PractitionerRole): it explains nobody before {@code relationships.write-delay}.
     */
    RELATIONSHIP_CHANGE
  }

  /** What the client got. */
  public enum Outcome {
    ALLOWED,
    REFUSED,
    THROTTLED,
    FAILED
  }

  /**
   * A change of the policy directory: applied, or refused (the policies in force stay). {@code detail}
   * names the roles changed and every weakening or problem, never patient data.
   */
  public static AuditRecord policyReload(Instant at, boolean applied, String directory, String detail) {
    return new AuditRecord(Kind.POLICY_RELOAD, at, "reload-" + Long.toHexString(System.nanoTime()),
        applied ? Outcome.ALLOWED : Outcome.REFUSED, applied ? 200 : 400, null, null, null, "RELOAD", null, null, null,
        directory, List.of(), 0, Map.of(), applied ? "policy-reload" : "policy-reload-refused", detail, List.of(), null,
        "fhirwall", null, 0);
  }

  /** An operator lifted an account's lock through the admin API. */
  public static AuditRecord unlock(Instant at, String account, String operator, String remoteAddress) {
    return new AuditRecord(Kind.UNLOCK, at, "admin-" + Long.toHexString(System.nanoTime()), Outcome.ALLOWED, 200, null, null,
        null, "DELETE", null, null, null, "/locks/" + account, List.of(), 0, Map.of(), "unlock",
        "lock lifted by operator " + operator + " for " + account, List.of(), null, remoteAddress, null, 0);
  }

  public AuditRecord {
    requireNonNull(kind, "kind");
    requireNonNull(time, "time");
    requireNonNull(requestId, "requestId");
    requireNonNull(outcome, "outcome");
    requireNonNull(method, "method");
    requireNonNull(target, "target");
    patients = List.copyOf(patients);
    usage = Map.copyOf(usage);
    requireNonNull(reason, "reason");
    notes = List.copyOf(notes);
    requireNonNull(remoteAddress, "remoteAddress");
    explainedBy = explainedBy == null ? null : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(explainedBy));
  }

  /** A record without care relationships (a role without {@code unexplained-limits}, or no release). */
  public AuditRecord(Kind kind, Instant time, String requestId, Outcome outcome, int status, @Nullable Principal principal,
      @Nullable String role, @Nullable String mode, String method, @Nullable String interaction, @Nullable String resourceType,
      @Nullable String operation, String target, List<String> patients, int newPatients, Map<String, Integer> usage,
      @Nullable String rule, String reason, List<String> notes, @Nullable String breakGlassReason, String remoteAddress,
      @Nullable String traceparent, long durationMicros) {
    this(kind, time, requestId, outcome, status, principal, role, mode, method, interaction, resourceType, operation, target,
        patients, newPatients, usage, rule, reason, notes, breakGlassReason, remoteAddress, traceparent, durationMicros, null);
  }
}
