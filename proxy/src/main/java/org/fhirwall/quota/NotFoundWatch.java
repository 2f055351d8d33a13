package org.fhirwall.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;

/**
 * The enumeration signal: a principal that walks record ids one by one (sequential or dictionary
 * ids) meets many "not found" answers. This counts, per principal, the reads that found nothing in
 * a sliding window; the policy decides what crossing its threshold does (lock or alert). Bounded:
 * at most {@code maxAccounts} principals are tracked, each with at most {@code max + 1} timestamps.
 */
public final class NotFoundWatch {
  private final Cache<String, ArrayDeque<Instant>> misses;

  public NotFoundWatch(long maxAccounts) {
    this.misses = Caffeine.newBuilder().maximumSize(maxAccounts).expireAfterAccess(Duration.ofHours(1)).build();
  }

  /**
   * Records one "not found" for {@code account}; true when it makes more than {@code max} in the
   * last {@code window} (the signal fires once per crossing, then counting starts over).
   */
  public boolean notFound(String account, Duration window, int max, Instant now) {
    ArrayDeque<Instant> seen = misses.get(account, k -> new ArrayDeque<>());
    synchronized (seen) {
      Instant horizon = now.minus(window);
      while (!seen.isEmpty() && !seen.peekFirst().isAfter(horizon)) {
        seen.pollFirst();
      }
      seen.addLast(now);
      if (seen.size() > max) {
        seen.clear();
        return true;
      }
      return false;
    }
  }
}
