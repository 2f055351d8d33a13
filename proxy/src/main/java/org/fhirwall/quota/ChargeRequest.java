package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * Charge one response's patients to an account: all or nothing, in one atomic step.
 *
 * @param enforce false in report-only mode: the patients are recorded even beyond a limit, and
 *     the result says which limit would have refused them
 */
public record ChargeRequest(String account, List<PatientWindow> windows, Set<String> patients, Instant now, boolean enforce) {
  public ChargeRequest {
    requireNonNull(account, "account");
    windows = List.copyOf(windows);
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("windows: empty (expected: at least one)");
    }
    patients = Set.copyOf(patients);
    requireNonNull(now, "now");
  }
}
