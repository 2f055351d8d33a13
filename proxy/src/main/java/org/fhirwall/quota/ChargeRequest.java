package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * Charge one response's patients to an account: all or nothing, in one atomic step.
 *
 * @param limits the windows whose maxima this charge must respect (the ceiling)
 * @param tracked every window length the account's disclosures are recorded under, so that a
 *     later charge with another ceiling (break-glass) sees them; the lengths of {@code limits}
 *     are always recorded too
 * @param enforce false in report-only mode: the patients are recorded even beyond a limit, and
 *     the result says which limit would have refused them
 * @param unexplained the second budget: which of {@code patients} no care relationship explains,
 *     and the windows they are charged to besides ({@link Unexplained#NONE} when the role has none)
 * @param hold for a request of a role that refuses at its limit, the check it was let through before the EPR
 *     ({@link QuotaStore#held}), asked again in the charge's own atomic step (null: not asked) against this charge's
 *     {@code limits} and the check's named patients: an answer coming while the account is held (a window full, or
 *     a hold in force) is held too, whatever it holds, and nothing is counted; one refused over a limit holds the
 *     account in the same step. Else the answers of requests sent while there was room, coming after the last place
 *     went, would each tell by 429 or 200 whether they held a patient not yet counted.
 */
public record ChargeRequest(String account, List<PatientWindow> limits, Set<Duration> tracked, Set<String> patients,
    Instant now, boolean enforce, Unexplained unexplained, QuotaStore.@Nullable HoldCheck hold) {

  public ChargeRequest(String account, List<PatientWindow> limits, Set<Duration> tracked, Set<String> patients,
      Instant now, boolean enforce, Unexplained unexplained) {
    this(account, limits, tracked, patients, now, enforce, unexplained, null);
  }

  /**
   * The patients of a charge outside the principal's care relationships, charged to their own
   * windows ({@code unexplained-limits}) as well as to the ordinary ones, in the same atomic step.
   *
   * @param limits the windows whose maxima this charge must respect (empty: recorded, never refused)
   * @param tracked every window length unexplained disclosures are recorded under
   * @param patients the unexplained patients (a subset of the charge's patients)
   * @param enforce false when the budget is report-only: recorded beyond a limit, noted, never refused
   */
  public record Unexplained(List<PatientWindow> limits, Set<Duration> tracked, Set<String> patients, boolean enforce) {
    public static final Unexplained NONE = new Unexplained(List.of(), Set.of(), Set.of(), false);

    public Unexplained {
      limits = List.copyOf(limits);
      for (PatientWindow w : limits) {
        if (!w.unexplained()) {
          throw new IllegalArgumentException("limits: " + w.name() + " (expected: an unexplained window, PatientWindow.unexplained)");
        }
      }
      Set<Duration> all = new TreeSet<>(tracked);
      limits.forEach(w -> all.add(w.length()));
      tracked = Collections.unmodifiableSet(all);
      patients = Set.copyOf(patients);
    }

    public boolean isEmpty() {
      return tracked.isEmpty();
    }
  }

  public ChargeRequest(String account, List<PatientWindow> limits, Set<Duration> tracked, Set<String> patients,
      Instant now, boolean enforce) {
    this(account, limits, tracked, patients, now, enforce, Unexplained.NONE);
  }

  public ChargeRequest {
    requireNonNull(account, "account");
    limits = List.copyOf(limits);
    if (limits.isEmpty()) {
      throw new IllegalArgumentException("limits: empty (expected: at least one)");
    }
    Set<Duration> all = new TreeSet<>(tracked);
    limits.forEach(w -> all.add(w.length()));
    tracked = Collections.unmodifiableSet(all);
    patients = Set.copyOf(patients);
    requireNonNull(now, "now");
    requireNonNull(unexplained, "unexplained");
    if (!patients.containsAll(unexplained.patients())) {
      throw new IllegalArgumentException("unexplained.patients: not all among patients (expected: a subset)");
    }
  }

  /** The windows of both budgets, ordinary first: the order of a result's usage. */
  public List<PatientWindow> allLimits() {
    if (unexplained.limits().isEmpty()) {
      return limits;
    }
    List<PatientWindow> all = new java.util.ArrayList<>(limits);
    all.addAll(unexplained.limits());
    return List.copyOf(all);
  }

  public ChargeRequest(String account, List<PatientWindow> limits, Set<String> patients, Instant now, boolean enforce) {
    this(account, limits, Set.of(), patients, now, enforce);
  }

  /** The longest window recorded: how long the account's disclosures must be kept. */
  public Duration retention() {
    Duration longest = Duration.ZERO;
    Set<Duration> all = new TreeSet<>(tracked);
    all.addAll(unexplained.tracked());
    for (Duration d : all) {
      longest = d.compareTo(longest) > 0 ? d : longest;
    }
    return longest;
  }
}
