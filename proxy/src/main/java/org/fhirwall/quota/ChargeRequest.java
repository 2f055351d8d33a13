package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Charge one response's patients to an account: all or nothing, in one atomic step.
 *
 * @param limits the windows whose maxima this charge must respect (the ceiling)
 * @param tracked every window length the account's disclosures are recorded under, so that a
 *     later charge with another ceiling (break-glass) sees them; the lengths of {@code limits}
 *     are always recorded too
 * @param enforce false in report-only mode: the patients are recorded even beyond a limit, and
 *     the result says which limit would have refused them
 */
public record ChargeRequest(String account, List<PatientWindow> limits, Set<Duration> tracked, Set<String> patients,
    Instant now, boolean enforce) {
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
  }

  public ChargeRequest(String account, List<PatientWindow> limits, Set<String> patients, Instant now, boolean enforce) {
    this(account, limits, Set.of(), patients, now, enforce);
  }

  /** The longest window recorded: how long the account's disclosures must be kept. */
  public Duration retention() {
    Duration longest = Duration.ZERO;
    for (Duration d : tracked) {
      longest = d.compareTo(longest) > 0 ? d : longest;
    }
    return longest;
  }
}
