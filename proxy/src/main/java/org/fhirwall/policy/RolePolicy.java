package org.fhirwall.policy;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirwall.auth.AuthenticationStrength;
import org.fhirwall.auth.Principal;
import org.fhirwall.fhir.Interaction;
import org.fhirwall.quota.PatientWindow;
import org.jspecify.annotations.Nullable;

/**
 * What one role may do, read from one role policy file. Immutable.
 *
 * @param name the policy's name (the {@code role} key), used in audit records and refusals
 * @param source the file it was read from, for operators
 * @param roles the token roles that select this policy
 * @param principalKind users or service accounts; a policy never accepts the other kind
 * @param priority when a principal's roles select several policies, the highest priority wins
 * @param resourceTypes allowed resource types; {@code *} allows every type
 * @param operations allowed operation names, without {@code $}
 * @param patientLimits the distinct-patient windows charged for every response
 * @param atLimit what happens when a response would break a limit
 * @param breakGlass the emergency allowance, or {@link BreakGlass#DISABLED}
 * @param search request-side search rules
 * @param batch batch and transaction rules
 * @param rate request rate and concurrency per principal (enforced by the request stage)
 * @param enumeration the id-walk signal (enforced by the request stage)
 * @param operationAuthentication sensitive operations (by name, without {@code $}) that ask for
 *     more, or a fresher, authentication than the role's ordinary requests
 * @param unexplainedLimits the windows charged with the patients outside the principal's care
 *     relationships only (empty: no such budget)
 * @param unexplainedMode whether that budget refuses or is only reported (never enforced when the
 *     role is report-only)
 */
public record RolePolicy(
    String name,
    String source,
    String description,
    Set<String> roles,
    Principal.Kind principalKind,
    int priority,
    Mode mode,
    AuthenticationStrength authentication,
    Set<Interaction> interactions,
    Set<String> resourceTypes,
    Set<String> operations,
    List<PatientWindow> patientLimits,
    AtLimit atLimit,
    BreakGlass breakGlass,
    SearchRules search,
    BatchRules batch,
    RateRules rate,
    EnumerationRules enumeration,
    Map<String, AuthenticationStrength> operationAuthentication,
    List<PatientWindow> unexplainedLimits,
    Mode unexplainedMode) {

  public static final String ANY_TYPE = "*";

  public RolePolicy {
    requireNonNull(name, "name");
    requireNonNull(source, "source");
    requireNonNull(description, "description");
    roles = Set.copyOf(roles);
    requireNonNull(principalKind, "principalKind");
    requireNonNull(mode, "mode");
    requireNonNull(authentication, "authentication");
    interactions = Set.copyOf(interactions);
    resourceTypes = Set.copyOf(resourceTypes);
    operations = Set.copyOf(operations);
    patientLimits = List.copyOf(patientLimits);
    if (patientLimits.isEmpty()) {
      throw new IllegalArgumentException("patientLimits: empty (expected: at least one window)");
    }
    requireNonNull(atLimit, "atLimit");
    requireNonNull(breakGlass, "breakGlass");
    requireNonNull(search, "search");
    requireNonNull(batch, "batch");
    requireNonNull(rate, "rate");
    requireNonNull(enumeration, "enumeration");
    operationAuthentication = Map.copyOf(operationAuthentication);
    unexplainedLimits = List.copyOf(unexplainedLimits);
    for (PatientWindow w : unexplainedLimits) {
      if (!w.unexplained()) {
        throw new IllegalArgumentException("unexplainedLimits: " + w.name() + " (expected: PatientWindow.unexplained windows)");
      }
    }
    requireNonNull(unexplainedMode, "unexplainedMode");
  }

  /** Whether the role has an unexplained budget (and so needs the principal's care relationships). */
  public boolean chargesUnexplained() {
    return !unexplainedLimits.isEmpty();
  }

  /** Whether the unexplained budget refuses (the role and the budget both enforce). */
  public boolean enforcesUnexplained() {
    return mode == Mode.ENFORCE && unexplainedMode == Mode.ENFORCE;
  }

  public boolean allowsType(@Nullable String type) {
    return type == null || resourceTypes.contains(ANY_TYPE) || resourceTypes.contains(type);
  }

  /** What happens when a response would take the account over one of its windows. */
  public record AtLimit(@Nullable Duration lockFor, boolean alert) {
    public static final AtLimit REFUSE_ONLY = new AtLimit(null, false);

    public boolean locks() {
      return lockFor != null;
    }
  }

  /**
   * The emergency access allowance: a request carrying the break-glass reason header is charged
   * to separate, larger windows and needs a fresher authentication; every such access is marked
   * in the audit record.
   */
  public record BreakGlass(boolean enabled, List<PatientWindow> patientLimits, AuthenticationStrength authentication) {
    public static final BreakGlass DISABLED = new BreakGlass(false, List.of(), AuthenticationStrength.NONE);

    public BreakGlass {
      patientLimits = List.copyOf(patientLimits);
      requireNonNull(authentication, "authentication");
      if (enabled && patientLimits.isEmpty()) {
        throw new IllegalArgumentException("break-glass patientLimits: empty (expected: at least one window when enabled)");
      }
    }
  }
}
