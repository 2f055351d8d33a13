package org.fhirwall.server;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client connections open on the public port, against {@code limits.max-connections}: one
 * instance per server, shared by every event loop. {@link #open} counts a connection the moment it
 * is accepted (those about to be refused too, until they close), so the count is exact however
 * many loops accept at once. Thread-safe, without locks.
 */
final class OpenConnections {
  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  /** Set at the first refusal, cleared once the count is well under the cap again: what is logged. */
  private final AtomicBoolean full = new AtomicBoolean();

  OpenConnections(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max: " + max + " (expected: > 0)");
    }
    this.max = max;
  }

  /** What became of a connection just accepted. */
  enum Admission {
    /** Within the cap: served. */
    ADMITTED,
    /** Over the cap: refused (503), and the first refusal since the cap was last left (worth a log line). */
    REFUSED_FIRST,
    /** Over the cap: refused (503). */
    REFUSED
  }

  /** A connection was accepted; every call must be followed, once, by {@link #closed} when it closes. */
  Admission open() {
    if (open.incrementAndGet() <= max) {
      return Admission.ADMITTED;
    }
    refused.incrementAndGet();
    return full.compareAndSet(false, true) ? Admission.REFUSED_FIRST : Admission.REFUSED;
  }

  /** A connection counted by {@link #open} has closed; true when this ends a period of refusals (worth a log line). */
  boolean closed() {
    int now = open.decrementAndGet();
    // hysteresis: a count that hovers at the cap does not log a line per connection
    return now <= max - Math.max(1, max / 10) && full.compareAndSet(true, false);
  }

  int max() {
    return max;
  }

  /** Connections open now (accepted and not yet closed). */
  int count() {
    return open.get();
  }

  /** Connections refused since start. */
  long refused() {
    return refused.get();
  }
}
