package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.resource.EventLoopGroupProvider;
import java.util.function.BooleanSupplier;

/**
 * One of fhirwall's event loops, lent to the Redis client so that a connection of its own is
 * served by it (see {@link QuotaStore#serveOn}): the loop as Lettuce takes it, and whether the
 * calling thread is that loop. The server builds them (it owns the loops; this package knows no
 * Netty type).
 */
public record ClientThread(EventLoopGroupProvider loop, BooleanSupplier current) {
  public ClientThread {
    requireNonNull(loop, "loop");
    requireNonNull(current, "current");
  }
}
