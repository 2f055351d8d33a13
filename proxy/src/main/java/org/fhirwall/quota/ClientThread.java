package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.resource.EventLoopGroupProvider;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.BooleanSupplier;

/**
 * One of fhirwall's event loops, lent to the Redis client so that a connection of its own is
 * served by it (see {@link QuotaStore#serveOn}): the loop as Lettuce takes it, and whether the
 * calling thread is that loop. The server builds them (it owns the loops; this package knows no
 * Netty type), and the loop as a scheduler: a task the loop schedules for itself is run by it,
 * without waking another thread.
 */
public record ClientThread(EventLoopGroupProvider loop, BooleanSupplier current, ScheduledExecutorService timers) {
  public ClientThread {
    requireNonNull(loop, "loop");
    requireNonNull(current, "current");
    requireNonNull(timers, "timers");
  }
}
