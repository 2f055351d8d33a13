package org.fhirwall.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;

/**
 * Counts, per principal, events in a sliding window, and says when they cross a threshold. Two
 * signals use it: the enumeration watch (reads and bundle entries that found nothing: a principal
 * walking record ids meets many "not found" answers) and the EPR-failure watch (requests of one
 * principal that made the EPR fail or time out). What crossing does (lock, alert) is the caller's.
 * Bounded: at most {@code maxAccounts} principals are tracked, each with at most {@code max + n}
 * timestamps. Thread-safe.
 */
public final class EventWatch {
  private final Cache<String, ArrayDeque<Instant>> events;

  public EventWatch(long maxAccounts) {
    this.events = Caffeine.newBuilder().maximumSize(maxAccounts).expireAfterAccess(Duration.ofHours(1))
        .executor(Runnable::run) // upkeep in the caller: no pool hand-off per request
        .build();
  }

  /**
   * Records {@code n} events for {@code account}; true when they make more than {@code max} in
   * the last {@code window} (the signal fires once per crossing, then counting starts over).
   */
  public boolean record(String account, int n, Duration window, int max, Instant now) {
    if (n < 1) {
      return false;
    }
    ArrayDeque<Instant> seen = events.get(account, k -> new ArrayDeque<>());
    synchronized (seen) {
      Instant horizon = now.minus(window);
      while (!seen.isEmpty() && !seen.peekFirst().isAfter(horizon)) {
        seen.pollFirst();
      }
      for (int i = 0; i < n; i++) {
        seen.addLast(now);
      }
      if (seen.size() > max) {
        seen.clear();
        return true;
      }
      return false;
    }
  }
}
