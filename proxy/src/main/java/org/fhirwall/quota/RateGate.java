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

  public RateGate(long maxPrincipals) {
    this.gates = Caffeine.newBuilder().maximumSize(maxPrincipals).expireAfterAccess(Duration.ofMinutes(30)).build();
  }

  public Entry tryEnter(String account, RateLimit limit) {
    Gate gate = gates.get(new Key(account, limit), k -> newGate(k.account(), k.limit()));
    if (!gate.concurrency().tryAcquirePermission()) {
      return new Entry.Refused("more than " + limit.concurrent() + " requests at once", Duration.ofSeconds(1));
    }
    if (!gate.rate().acquirePermission()) {
      gate.concurrency().onComplete();
      Duration retry = Duration.ofMillis(Math.max(1, (long) Math.ceil(1000 / limit.perSecond())));
      return new Entry.Refused("more than " + limit.perSecond() + " requests per second", retry);
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
