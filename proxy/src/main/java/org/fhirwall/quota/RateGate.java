package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;
import java.time.Instant;

/**
 * Per-principal request rate and concurrency in this process: a generic cell rate algorithm
 * (GCRA: a bucket of {@code burst} permits refilled at {@code perSecond}, kept as one
 * "theoretical arrival time") and a count of requests in flight, per principal, in a bounded
 * Caffeine cache. The Redis store runs the same algorithm in a script ({@code enter.lua}), so both
 * stores answer alike. Time is the caller's ({@code now}). Never waits: a request over the rate or
 * the concurrency is refused at once with the time after which a retry can succeed. Thread-safe.
 */
public final class RateGate {
  private final Cache<String, Gate> gates;

  /** One principal's state; guarded by its monitor. */
  private static final class Gate {
    private long theoreticalArrivalMicros;
    private int inFlight;
  }

  /**
   * The outcome of {@link #tryEnter} and of {@link QuotaStore#enter}: entered (call
   * {@link Ticket#exit()} once done), refused for rate or concurrency, or (from a store, which
   * checks the lock in the same step) refused because the account is locked.
   */
  public sealed interface Entry {
    record Locked(Lock lock) implements Entry {
      public Locked {
        requireNonNull(lock, "lock");
      }
    }

    record Entered(Ticket ticket) implements Entry {
      public Entered {
        requireNonNull(ticket, "ticket");
      }
    }

    record Refused(String reason, Duration retryAfter) implements Entry {}
  }

  /** A request in flight; {@link #exit()} gives back its concurrency slot (idempotent). */
  public static final class Ticket {
    private final Runnable release;
    private boolean exited;

    public Ticket(Runnable release) {
      this.release = requireNonNull(release, "release");
    }

    public void exit() {
      synchronized (this) {
        if (exited) {
          return;
        }
        exited = true;
      }
      release.run();
    }
  }

  public RateGate(long maxPrincipals) {
    this.gates = Caffeine.newBuilder().maximumSize(maxPrincipals).expireAfterAccess(Duration.ofMinutes(30))
        .executor(Runnable::run) // upkeep in the caller: no pool hand-off per request
        .build();
  }

  /**
   * Admits a request that counts as {@code permits} requests against the rate (a batch counts
   * each of its entries) and one against the concurrency.
   */
  public Entry tryEnter(String account, RateLimit limit, int permits, Instant now) {
    Entry refused = beyondBurst(limit, permits);
    if (refused != null) {
      return refused;
    }
    Gate gate = gates.get(account, k -> new Gate());
    long nowMicros = micros(now);
    synchronized (gate) {
      if (gate.inFlight >= limit.concurrent()) {
        return concurrencyRefusal(limit);
      }
      long interval = intervalMicros(limit);
      long tat = Math.max(gate.theoreticalArrivalMicros, nowMicros) + permits * interval;
      long allowAt = tat - limit.burst() * interval;
      if (allowAt > nowMicros) {
        return rateRefusal(limit, allowAt - nowMicros);
      }
      gate.theoreticalArrivalMicros = tat;
      gate.inFlight++;
    }
    return new Entry.Entered(new Ticket(() -> {
      synchronized (gate) {
        gate.inFlight--;
      }
    }));
  }

  /** The request counts for more than a whole burst: it can never enter. Null when it can. */
  static Entry.Refused beyondBurst(RateLimit limit, int permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits: " + permits + " (expected: >= 1)");
    }
    if (permits <= limit.burst()) {
      return null;
    }
    long millis = (long) Math.ceil(1000.0 * limit.burst() / limit.perSecond());
    return new Entry.Refused(permits + " requests in one (a bundle's entries each count) is more than the burst of "
        + limit.burst(), Duration.ofMillis(Math.max(1, millis)));
  }

  static Entry.Refused concurrencyRefusal(RateLimit limit) {
    return new Entry.Refused("more than " + limit.concurrent() + " requests at once", Duration.ofSeconds(1));
  }

  static Entry.Refused rateRefusal(RateLimit limit, long waitMicros) {
    return new Entry.Refused("more than " + limit.perSecond() + " requests per second",
        Duration.ofMillis(Math.max(1, (waitMicros + 999) / 1000)));
  }

  /** The time one permit takes to come back, in microseconds (at least 1). */
  static long intervalMicros(RateLimit limit) {
    return Math.max(1, Math.round(1_000_000.0 / limit.perSecond()));
  }

  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }
}
