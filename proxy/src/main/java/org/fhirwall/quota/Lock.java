package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/** An account refused everything until {@code until} (or until an operator lifts it). */
public record Lock(String account, String reason, Instant since, Instant until) {
  public Lock {
    requireNonNull(account, "account");
    requireNonNull(reason, "reason");
    requireNonNull(since, "since");
    requireNonNull(until, "until");
  }

  public boolean activeAt(Instant now) {
    return now.isBefore(until);
  }
}
