package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's own charges and locks of the last {@code replay}, written again (idempotently:
 * {@code ZADD GT} with their original times, locks never shortened) shortly after every
 * reconnection to Redis: a failover may have lost writes the old primary acknowledged but had not
 * replicated. A connection just established may still refuse commands, so a failed replay is tried
 * again every 100 ms until {@code replay} has passed. Thread-safe.
 */
final class RedisReplay {
  private static final Logger LOG = LoggerFactory.getLogger(RedisQuotaStore.class);

  /** Disclosures to write again: no limit, their original time. */
  record Charge(String account, Set<Duration> tracked, Set<String> patients, ChargeRequest.Unexplained unexplained, Instant at) {}

  /** How the store writes a charge and a lock (the same scripts as on the request's way). */
  interface Writer {
    CompletionStage<?> charge(Charge c);

    CompletionStage<?> lock(Lock lock, Instant now);
  }

  private record Kept<T>(T what, long nanos) {}

  private final ArrayDeque<Kept<Charge>> charges = new ArrayDeque<>();
  private final ArrayDeque<Kept<Lock>> locks = new ArrayDeque<>();
  private final AtomicBoolean replaying = new AtomicBoolean();
  private final AtomicBoolean again = new AtomicBoolean();
  private final Duration replay;
  private final Redisclosures.Scheduler scheduler;
  private final Writer writer;

  RedisReplay(Duration replay, Redisclosures.Scheduler scheduler, Writer writer) {
    this.replay = requireNonNull(replay, "replay");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.writer = requireNonNull(writer, "writer");
  }

  void charged(Charge c) {
    synchronized (charges) {
      long now = System.nanoTime();
      charges.addLast(new Kept<>(c, now));
      long horizon = now - replay.toNanos();
      while (!charges.isEmpty() && charges.peekFirst().nanos() < horizon) {
        charges.pollFirst();
      }
      while (!locks.isEmpty() && locks.peekFirst().nanos() < horizon) {
        locks.pollFirst();
      }
    }
  }

  void locked(Lock l) {
    synchronized (charges) {
      locks.addLast(new Kept<>(l, System.nanoTime()));
    }
  }

  void unlocked(String account) {
    synchronized (charges) {
      locks.removeIf(k -> k.what().account().equals(account));
    }
  }

  /** The connection is back (or came up): write the recent charges and locks again. */
  void reconnected() {
    again.set(true);
    if (replaying.compareAndSet(false, true)) {
      schedule(System.nanoTime() + replay.toNanos());
    }
  }

  private void schedule(long deadline) {
    try {
      scheduler.after(Duration.ofMillis(100), () -> replayRecent(deadline));
    } catch (RuntimeException shuttingDown) {
      replaying.set(false);
    }
  }

  private void replayRecent(long deadline) {
    again.set(false);
    List<Charge> recentCharges = new ArrayList<>();
    List<Lock> recentLocks = new ArrayList<>();
    long horizon = System.nanoTime() - replay.toNanos();
    synchronized (charges) {
      charges.stream().filter(k -> k.nanos() >= horizon).forEach(k -> recentCharges.add(k.what()));
      locks.stream().filter(k -> k.nanos() >= horizon).forEach(k -> recentLocks.add(k.what()));
    }
    List<CompletableFuture<?>> writes = new ArrayList<>();
    recentCharges.forEach(c -> writes.add(writer.charge(c).toCompletableFuture()));
    Instant now = Instant.now();
    recentLocks.forEach(l -> writes.add(writer.lock(l, now).toCompletableFuture()));
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
      boolean retry = e != null || again.get();
      if (retry && System.nanoTime() < deadline) {
        schedule(deadline);
        return;
      }
      replaying.set(false);
      if (e != null) {
        LOG.warn("quota store: this replica's recent charges could not be written again after a reconnect: {}", e.toString());
      } else if (!writes.isEmpty()) {
        LOG.info("quota store: connection to Redis re-established; this replica's {} charge(s) and {} lock(s) of the last {} "
            + "written again", recentCharges.size(), recentLocks.size(), replay);
      }
    });
  }
}
