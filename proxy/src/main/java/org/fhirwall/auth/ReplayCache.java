package org.fhirwall.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;

/**
 * Remembers values that may be used once (DPoP proof {@code jti}s): the quota store's
 * {@code seenOnce}, so that a proof used on one replica is refused on every other.
 */
@FunctionalInterface
public interface ReplayCache {

  /** True the first time {@code key} is presented within {@code ttl}; false afterwards. */
  CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now);
}
