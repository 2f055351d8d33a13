package org.fhirwall.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.Optional;

/**
 * Per-principal request rate and concurrency: one Resilience4j {@link RateLimiter} (a bucket of
 * {@code burst} permits refilled at {@code perSecond}) and one {@link Bulkhead} per principal,
 * held in a bounded Caffeine cache. Never waits: a request over the rate or the concurrency is
 * refused at once with the time after which a retry can succeed.
 */
public final class RateGate {
  private final Cache<Key, Gate> gates;

  private record Key(String account, RateLimit limit) {}

  private record Gate(RateLimiter rate, Bulkhead concurrency) {}

  /** The outcome of {@link #tryEnter}: entered (call {@link Ticket#exit()} once done) or refused. */
  public sealed interface Entry {
    record Entered(Ticket ticket) implements Entry {}

    record Refused(String reason, Duration retryAfter) implements Entry {}
  }

  /** A request in flight; {@link #exit()} releases its concurrency slot (idempotent). */
  public static final class Ticket {
    private final Bulkhead bulkhead;
    private boolean exited;

    private Ticket(Bulkhead bulkhead) {
      this.bulkhead = bulkhead;
    }

    public synchronized void exit() {
      if (!exited) {
        exited = true;
        bulkhead.onComplete();
      }
    }
  }

  private final int maxConcurrentShare;

  /**
   * @param maxConcurrentShare the most requests one principal may have in flight whatever its
   *     role says: a share of the EPR's bulkhead, so that one principal can never take it all
   */
  public RateGate(long maxPrincipals, int maxConcurrentShare) {
    if (maxConcurrentShare < 1) {
      throw new IllegalArgumentException("maxConcurrentShare: " + maxConcurrentShare + " (expected: >= 1)");
    }
    this.maxConcurrentShare = maxConcurrentShare;
    this.gates = Caffeine.newBuilder().maximumSize(maxPrincipals).expireAfterAccess(Duration.ofMinutes(30)).build();
  }

  /**
   * Admits a request that counts as {@code permits} requests against the rate (a batch counts
   * each of its entries) and one against the concurrency.
   */
  public Entry tryEnter(String account, RateLimit limit, int permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits: " + permits + " (expected: >= 1)");
    }
    RateLimit bounded = limit.concurrent() <= maxConcurrentShare ? limit
        : new RateLimit(limit.perSecond(), limit.burst(), maxConcurrentShare);
    Gate gate = gates.get(new Key(account, bounded), k -> newGate(k.account(), k.limit()));
    if (!gate.concurrency().tryAcquirePermission()) {
      return new Entry.Refused("more than " + bounded.concurrent() + " requests at once", Duration.ofSeconds(1));
    }
    if (permits > bounded.burst() || !gate.rate().acquirePermission(permits)) {
      gate.concurrency().onComplete();
      long millis = (long) Math.ceil(1000.0 * Math.min(permits, bounded.burst()) / bounded.perSecond());
      return new Entry.Refused(permits > bounded.burst()
          ? permits + " requests in one (a bundle's entries each count) is more than the burst of " + bounded.burst()
          : "more than " + bounded.perSecond() + " requests per second", Duration.ofMillis(Math.max(1, millis)));
    }
    return new Entry.Entered(new Ticket(gate.concurrency()));
  }

  private static Gate newGate(String account, RateLimit limit) {
    // A bucket of `burst` permits that refills completely every burst/perSecond: the sustained
    // rate is perSecond, with bursts up to `burst`.
    Duration refill = Duration.ofNanos(Math.max(1_000_000L, (long) (limit.burst() / limit.perSecond() * 1e9)));
    RateLimiter rate = RateLimiter.of("rate:" + account, RateLimiterConfig.custom()
        .limitForPeriod(limit.burst())
        .limitRefreshPeriod(refill)
        .timeoutDuration(Duration.ZERO)
        .build());
    Bulkhead concurrency = Bulkhead.of("concurrency:" + account, BulkheadConfig.custom()
        .maxConcurrentCalls(limit.concurrent())
        .maxWaitDuration(Duration.ZERO)
        .build());
    return new Gate(rate, concurrency);
  }
}
