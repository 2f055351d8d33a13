package org.fhirwall.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link ReplayCache} of one process, for an authenticator built without the quota store (tests,
 * tools). Bounded: when full of unexpired keys it refuses new ones (fail closed). Thread-safe.
 */
final class InProcessReplayCache implements ReplayCache {
  private static final int MAX = 1_000_000;
  private final Map<String, Long> seen = new ConcurrentHashMap<>();

  @Override
  public CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now) {
    long nowMillis = now.toEpochMilli();
    if (seen.size() >= MAX) {
      seen.values().removeIf(until -> until <= nowMillis);
      if (seen.size() >= MAX) {
        return CompletableFuture.completedFuture(false);
      }
    }
    boolean[] first = {false};
    seen.compute(key, (k, old) -> {
      if (old == null || old <= nowMillis) {
        first[0] = true;
        return nowMillis + ttl.toMillis();
      }
      return old;
    });
    return CompletableFuture.completedFuture(first[0]);
  }
}
