package org.fhirwall.audit;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * Something a security officer must hear about now: an account reached a patient limit, was
 * locked, or used break-glass. Patient-free.
 *
 * @param account the account key (issuer|subject)
 * @param lockedUntil the end of the lock this alert reports, null when nothing was locked
 */
public record Alert(Instant time, String event, String account, String displayName, @Nullable String role,
    String detail, @Nullable Instant lockedUntil, String requestId) {
  public Alert {
    requireNonNull(time, "time");
    requireNonNull(event, "event");
    requireNonNull(account, "account");
    requireNonNull(displayName, "displayName");
    requireNonNull(detail, "detail");
    requireNonNull(requestId, "requestId");
  }
}
