package org.fhirwall.server;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The requests under way, so that an orderly shutdown can stop taking new ones and wait for the
 * ones it took: {@link #drain} refuses new exchanges (they get 503) and waits, up to a deadline,
 * until every exchange under way has answered. Thread-safe.
 */
final class InFlight {
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicBoolean draining = new AtomicBoolean();

  /** A request starts; false when fhirwall is draining (the request must be refused). */
  boolean enter() {
    running.incrementAndGet();
    if (draining.get()) {
      running.decrementAndGet();
      return false;
    }
    return true;
  }

  /** A request has answered. */
  void exit() {
    running.decrementAndGet();
  }

  boolean draining() {
    return draining.get();
  }

  int running() {
    return running.get();
  }

  /** Refuses new requests and waits until those under way have answered; false when the deadline passed first. */
  boolean drain(Duration deadline) throws InterruptedException {
    draining.set(true);
    long until = System.nanoTime() + deadline.toNanos();
    while (running.get() > 0 && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    return running.get() == 0;
  }
}
