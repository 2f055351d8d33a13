package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code quota.on-store-failure: local-fallback}: the shared store while it answers; when a call to
 * it fails or times out, this replica serves from a store of its own in which every limit (patients,
 * rate, concurrency, event thresholds) is divided by the number of replicas, so that all replicas
 * together stay within the policy, and each such charge carries a note for the audit record. It
 * still refuses accounts locked in the shared store when the outage began (their locks are mirrored
 * every few seconds by {@link #refreshLocks}). Every second it asks the shared store again; as soon
 * as it answers, what this replica charged and locked meanwhile is written into it (with the
 * original times) and the shared store is used again, without a restart.
 *
 * <p>Never unlimited: a replica in fallback enforces 1/{@code replicas} of each limit on top of
 * nothing it could not see — the patients disclosed before the outage are not known locally, so
 * an account may receive up to its limit again during an outage (documented in the README). An
 * operator's unlock and the bindings (whose bulk export a job or file is) need the shared store
 * (they fail while Redis is down). Thread-safe.
 */
public final class FallbackQuotaStore implements QuotaStore {
  private static final Logger LOG = LoggerFactory.getLogger(FallbackQuotaStore.class);
  private static final long PROBE_EVERY_NANOS = Duration.ofSeconds(1).toNanos();

  private final RedisQuotaStore shared;
  private final int replicas;
  private final int maxAccounts;
  private final Executor maintenance;
  private final String note;
  private final Map<String, Lock> knownLocks = new ConcurrentHashMap<>();
  private final List<ChargeRequest> chargedMeanwhile = new ArrayList<>();
  private final List<Lock> lockedMeanwhile = new ArrayList<>();
  /** Accounts held during the outage (at-limit: refuse), until when; guarded like {@link #chargedMeanwhile}. */
  private final Map<String, Instant> heldMeanwhile = new LinkedHashMap<>();
  private final AtomicBoolean probing = new AtomicBoolean();
  private final AtomicLong fallbackCharges = new AtomicLong();
  private volatile LocalQuotaStore local;
  private volatile boolean degraded;
  private volatile long nextProbeNanos;

  public FallbackQuotaStore(RedisQuotaStore shared, int replicas, int maxAccounts, Executor maintenance) {
    if (replicas < 1) {
      throw new IllegalArgumentException("replicas: " + replicas + " (expected: >= 1)");
    }
    this.shared = requireNonNull(shared, "shared");
    this.replicas = replicas;
    this.maxAccounts = maxAccounts;
    this.maintenance = requireNonNull(maintenance, "maintenance");
    this.local = new LocalQuotaStore(maxAccounts, maintenance);
    this.note = "quota store unreachable: charged by this replica alone against 1/" + replicas
        + " of each limit (quota.on-store-failure: local-fallback)";
  }

  /** True while this replica enforces its share of the limits alone. */
  public boolean degraded() {
    return degraded;
  }

  /** Responses charged by this replica alone so far. */
  public long fallbackCharges() {
    return fallbackCharges.get();
  }

  // --- the shared store first, this replica's share when it fails --------------------------------

  private <T> CompletionStage<T> either(Function<QuotaStore, CompletionStage<T>> call, Supplier<CompletionStage<T>> fallback) {
    if (degraded) {
      probeSoon();
      return fallback.get();
    }
    return recovered(call.apply(shared), fallback);
  }

  /** {@code asked} of the shared store; when it fails, this replica falls back and answers {@code fallback}. */
  private <T> CompletionStage<T> recovered(CompletionStage<T> asked, Supplier<CompletionStage<T>> fallback) {
    return asked.toCompletableFuture().handle((value, error) -> {
      if (error == null) {
        return CompletableFuture.completedFuture(value);
      }
      fallBack(error);
      return fallback.get().toCompletableFuture();
    }).thenCompose(Function.identity());
  }

  private void fallBack(Throwable error) {
    if (!degraded) {
      synchronized (this) {
        if (!degraded) {
          degraded = true;
          nextProbeNanos = System.nanoTime() + PROBE_EVERY_NANOS;
          LOG.warn("quota store unreachable ({}): this replica now enforces 1/{} of every limit alone "
              + "(quota.on-store-failure: local-fallback) until Redis answers again", error.toString(), replicas);
        }
      }
    }
  }

  @Override
  public CompletionStage<ChargeResult> charge(ChargeRequest request) {
    return either(s -> s.charge(request), () -> {
      ChargeRequest.Unexplained u = request.unexplained();
      ChargeRequest share = new ChargeRequest(request.account(), request.limits().stream().map(this::share).toList(),
          request.tracked(), request.patients(), request.now(), request.enforce(),
          new ChargeRequest.Unexplained(u.limits().stream().map(this::share).toList(), u.tracked(), u.patients(), u.enforce()),
          request.hold());
      fallbackCharges.incrementAndGet();
      return local.charge(share).thenApply(r -> {
        if (r instanceof ChargeResult.Admitted a) {
          if (!request.patients().isEmpty()) {
            meanwhile(() -> chargedMeanwhile.add(request));
          }
          return a.noted(note);
        }
        if (r instanceof ChargeResult.Held h) {
          return h.noted(note);
        }
        return ((ChargeResult.Refused) r).noted(note);
      });
    });
  }

  @Override
  public CompletionStage<Optional<Lock>> lockOf(String account, Instant now) {
    return either(s -> s.lockOf(account, now).thenApply(l -> {
      l.ifPresent(lock -> knownLocks.put(account, lock));
      return l;
    }), () -> local.lockOf(account, now).thenApply(l -> l.isPresent() ? l
        : Optional.ofNullable(knownLocks.get(account)).filter(k -> k.activeAt(now))));
  }

  @Override
  public CompletionStage<Lock> lock(String account, String reason, Duration lockFor, Instant now) {
    return either(s -> s.lock(account, reason, lockFor, now).thenApply(l -> {
      knownLocks.put(account, l);
      return l;
    }), () -> local.lock(account, reason, lockFor, now).thenApply(l -> {
      meanwhile(() -> lockedMeanwhile.add(l));
      return l;
    }));
  }

  /** Needs the shared store: a lock lifted on one replica only would still hold on the others. */
  @Override
  public CompletionStage<Boolean> unlock(String account) {
    return shared.unlock(account).thenApply(had -> {
      knownLocks.remove(account);
      local.unlock(account);
      return had;
    });
  }

  @Override
  public CompletionStage<List<Lock>> locks(Instant now) {
    return either(s -> s.locks(now), () -> local.locks(now).thenApply(mine -> {
      Map<String, Lock> all = new ConcurrentHashMap<>();
      knownLocks.values().stream().filter(l -> l.activeAt(now)).forEach(l -> all.put(l.account(), l));
      mine.forEach(l -> all.put(l.account(), l));
      return all.values().stream().sorted(Comparator.comparing(Lock::since)).toList();
    }));
  }

  @Override
  public CompletionStage<List<WindowUsage>> usage(String account, List<PatientWindow> windows, Instant now) {
    return either(s -> s.usage(account, windows, now), () -> local.usage(account, windows.stream().map(this::share).toList(), now));
  }

  @Override
  public CompletionStage<RateGate.Entry> enter(String account, RateLimit limit, int permits, Instant now) {
    return either(s -> lockNoted(account, s.enter(account, limit, permits, now)), () -> enterShare(account, limit, permits, now));
  }

  /**
   * While Redis answers, the Redis store's admission: a request of a role that refuses at its limit is admitted and
   * checked for a hold in one call, a read it foresees admitted goes ahead ({@code forwardNow}). When that call fails,
   * the admission and the check are answered from this replica's share, as {@link #enter} and {@link #held} are; on the
   * fallback, from it at once (never sent ahead).
   */
  @Override
  public Admission admit(String account, RateLimit limit, int permits, boolean mayGoAhead, @Nullable HoldCheck hold,
      Instant now) {
    if (degraded) {
      probeSoon();
      return new Admission(enterShare(account, limit, permits, now), false,
          hold == null ? null : heldShare(account, hold.limits(), hold.named(), now));
    }
    Admission asked = shared.admit(account, limit, permits, mayGoAhead, hold, now);
    CompletionStage<RateGate.Entry> entry = recovered(lockNoted(account, asked.entry()),
        () -> enterShare(account, limit, permits, now));
    if (hold == null) {
      return new Admission(entry, asked.forwardNow());
    }
    CompletionStage<Optional<Held>> check = asked.held() != null ? asked.held() // never skipped, whatever the store answered
        : shared.held(account, hold.limits(), hold.named(), now);
    return new Admission(entry, asked.forwardNow(), recovered(check, () -> heldShare(account, hold.limits(), hold.named(), now)));
  }

  /** The shared store's admission, remembering a lock it reports for use during an outage. */
  private CompletionStage<RateGate.Entry> lockNoted(String account, CompletionStage<RateGate.Entry> entry) {
    return entry.thenApply(e -> {
      if (e instanceof RateGate.Entry.Locked l) {
        knownLocks.put(account, l.lock());
      }
      return e;
    });
  }

  /** An admission against this replica's share of the rate and concurrency, refused while a mirrored lock is in force. */
  private CompletionStage<RateGate.Entry> enterShare(String account, RateLimit limit, int permits, Instant now) {
    Lock known = knownLocks.get(account);
    if (known != null && known.activeAt(now)) {
      return CompletableFuture.completedFuture(new RateGate.Entry.Locked(known));
    }
    return local.enter(account, new RateLimit(limit.perSecond() / replicas, share(limit.burst()), share(limit.concurrent())),
        permits, now);
  }

  @Override
  public CompletionStage<Optional<Held>> held(String account, List<PatientWindow> limits, Set<String> named, Instant now) {
    return either(s -> s.held(account, limits, named, now), () -> heldShare(account, limits, named, now));
  }

  /** {@link #held} against this replica's share of each window. */
  private CompletionStage<Optional<Held>> heldShare(String account, List<PatientWindow> limits, Set<String> named, Instant now) {
    return local.held(account, limits.stream().map(this::share).toList(), named, now);
  }

  @Override
  public CompletionStage<Void> hold(String account, Instant until, Instant now) {
    return either(s -> s.hold(account, until, now), () -> local.hold(account, until, now).thenApply(v -> {
      meanwhile(() -> heldMeanwhile.merge(account, until, (a, b) -> a.isAfter(b) ? a : b));
      return v;
    }));
  }

  @Override
  public CompletionStage<Boolean> recordEvents(String watch, String account, int n, Duration window, int max, Instant now) {
    return either(s -> s.recordEvents(watch, account, n, window, max, now),
        () -> local.recordEvents(watch, account, n, window, share(max), now));
  }

  @Override
  public CompletionStage<byte[]> sharedSecret(String name, byte[] proposed) {
    return shared.sharedSecret(name, proposed);
  }

  /** During an outage, each replica remembers the keys it was shown itself (a replay to another replica is not seen). */
  @Override
  public CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now) {
    return either(s -> s.seenOnce(key, ttl, now), () -> local.seenOnce(key, ttl, now));
  }

  /**
   * Needs the shared store: every replica's bindings are there, so this replica alone cannot tell
   * whose a job or file is (answering "nobody's" would hand another account's export out). While
   * Redis is down it fails, and the request asking is refused (503), as under {@code deny}.
   */
  @Override
  public CompletionStage<Boolean> bind(String key, String owner, Duration ttl, Instant now) {
    return shared.bind(key, owner, ttl, now);
  }

  /** Needs the shared store, like {@link #bind}. */
  @Override
  public CompletionStage<Optional<String>> ownerOf(String key, Instant now) {
    return shared.ownerOf(key, now);
  }

  private PatientWindow share(PatientWindow w) {
    return new PatientWindow(w.name(), w.length(), share(w.max()));
  }

  private int share(int max) {
    return Math.max(1, max / replicas);
  }

  // --- mirror, probe, reconciliation ------------------------------------------------------------

  /** Mirrors the shared store's locks (called every few seconds), for use during an outage. */
  public void refreshLocks(Instant now) {
    if (degraded) {
      probeSoon();
      return;
    }
    shared.locks(now).whenComplete((all, e) -> {
      if (e == null) {
        knownLocks.keySet().retainAll(all.stream().map(Lock::account).toList());
        all.forEach(l -> knownLocks.put(l.account(), l));
      }
    });
  }

  private void meanwhile(Runnable add) {
    synchronized (chargedMeanwhile) {
      add.run();
    }
    if (!degraded) {
      reconcile();
    }
  }

  private void probeSoon() {
    if (System.nanoTime() < nextProbeNanos || !probing.compareAndSet(false, true)) {
      return;
    }
    nextProbeNanos = System.nanoTime() + PROBE_EVERY_NANOS;
    shared.ping().whenComplete((ok, e) -> {
      probing.set(false);
      if (e == null) {
        reconcile();
      }
    });
  }

  /** Writes what this replica charged, locked and held during the outage into the shared store, then uses it again. */
  private void reconcile() {
    List<ChargeRequest> charges;
    List<Lock> locks;
    Map<String, Instant> holds;
    synchronized (chargedMeanwhile) {
      charges = List.copyOf(chargedMeanwhile);
      locks = List.copyOf(lockedMeanwhile);
      holds = new LinkedHashMap<>(heldMeanwhile);
      chargedMeanwhile.clear();
      lockedMeanwhile.clear();
      heldMeanwhile.clear();
    }
    List<CompletableFuture<?>> writes = new ArrayList<>();
    Instant now = Instant.now();
    charges.forEach(c -> writes.add(shared.record(c.account(), c.tracked(), c.patients(), c.unexplained(), c.now())
        .toCompletableFuture()));
    locks.forEach(l -> writes.add(shared.restoreLock(l, now).toCompletableFuture()));
    holds.forEach((account, until) -> writes.add(shared.hold(account, until, now).toCompletableFuture()));
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
      if (e != null) {
        synchronized (chargedMeanwhile) {
          chargedMeanwhile.addAll(0, charges);
          lockedMeanwhile.addAll(0, locks);
          holds.forEach((account, until) -> heldMeanwhile.merge(account, until, (a, b) -> a.isAfter(b) ? a : b));
        }
        LOG.warn("quota store: reconciliation with Redis failed ({}); still enforcing this replica's share", e.toString());
        return;
      }
      boolean more;
      synchronized (chargedMeanwhile) {
        more = !chargedMeanwhile.isEmpty() || !lockedMeanwhile.isEmpty() || !heldMeanwhile.isEmpty();
        if (!more && degraded) {
          degraded = false;
          LocalQuotaStore old = local;
          local = new LocalQuotaStore(maxAccounts, maintenance);
          maintenance.execute(old::close);
          LOG.warn("quota store: Redis answers again; {} charge(s), {} lock(s) and {} hold(s) made meanwhile written into "
              + "it; the shared limits apply again", charges.size(), locks.size(), holds.size());
        }
      }
      if (more) {
        reconcile();
      }
    });
  }

  @Override
  public void serveOn(List<ClientThread> loops) {
    shared.serveOn(loops);
  }

  @Override
  public void leaveLoops() {
    shared.leaveLoops();
  }

  @Override
  public void close() {
    local.close();
    shared.close();
  }
}
