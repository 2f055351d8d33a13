package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * Whether a read may go to the EPR while the shared store is still admitting it (see
 * {@link QuotaStore#admit}): only for a principal this replica saw admitted less than
 * {@code recent} ago, not refused since, with fewer of its requests under way here than its
 * concurrency allows. So a principal that is locked, over its rate or at its concurrency makes the
 * EPR answer at most one request per replica before its reads wait for the store again; and the
 * answer of a read sent ahead is released only once the store has admitted it (and charged its
 * patients). Time is {@code ticker}'s (nanoseconds; the system's in production). Thread-safe.
 */
final class AdmissionForecast {
  /** One principal as this replica sees it; guarded by its monitor. */
  private static final class Seen {
    long admittedNanos = Long.MIN_VALUE;
    boolean refused;
    int underWay;
  }

  private final Cache<String, Seen> principals;
  private final long recentNanos;
  private final Ticker ticker;

  AdmissionForecast(Duration recent, long maxPrincipals, Ticker ticker) {
    this.recentNanos = recent.toNanos();
    this.ticker = requireNonNull(ticker, "ticker");
    this.principals = Caffeine.newBuilder().maximumSize(maxPrincipals).expireAfterAccess(Duration.ofMinutes(5))
        .executor(Runnable::run).build();
  }

  /** Reserves a place for a read sent ahead; true when it may go (then {@link #settled} must follow). */
  boolean reserve(String account, int concurrent) {
    Seen s = principals.getIfPresent(account);
    if (s == null) {
      return false;
    }
    synchronized (s) {
      if (s.refused || ticker.read() - s.admittedNanos > recentNanos || s.underWay >= concurrent) {
        return false;
      }
      s.underWay++;
      return true;
    }
  }

  /** The store answered a read sent ahead (whatever it answered): its reservation ends. */
  void settled(String account) {
    Seen s = principals.getIfPresent(account);
    if (s != null) {
      synchronized (s) {
        s.underWay = Math.max(0, s.underWay - 1);
      }
    }
  }

  /** The store admitted a request of the account: it is under way until {@link #ended}. */
  void admitted(String account) {
    Seen s = principals.get(account, k -> new Seen());
    synchronized (s) {
      s.admittedNanos = ticker.read();
      s.refused = false;
      s.underWay++;
    }
  }

  /** An admitted request ended. */
  void ended(String account) {
    settled(account);
  }

  /** The store refused a request of the account (locked, rate, concurrency, or failed to answer). */
  void refused(String account) {
    Seen s = principals.get(account, k -> new Seen());
    synchronized (s) {
      s.refused = true;
    }
  }
}
