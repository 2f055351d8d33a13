package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
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
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The single-node store: distinct-patient windows, locks, rates and event watches in this
 * process's memory; with a state file, locks, holds, open windows, shared secrets and bindings also
 * survive a restart ({@link StateFile}: a lock, a secret or a binding is written out at once,
 * windows every few seconds by {@link #persist()}, and everything on {@link #close()}).
 *
 * <p>Each account keeps, per window length, its patients in order of last disclosure; a window is
 * exact (sliding, per patient, millisecond precision). A charge holds the account's monitor for
 * the few microseconds it takes, so concurrent responses of one account are charged one after
 * the other and can never both slip under a limit; a charge that finds the account busy is queued
 * for the thread charging it (event loops waited for the monitor for milliseconds when the OS
 * pre-empted its holder). Accounts idle for longer than their longest
 * window hold nothing and expire from the cache. When {@code maxAccounts} accounts are active,
 * new accounts are refused (completed exceptionally) rather than evicting a live one, which would
 * forget patients: the store fails closed.
 *
 * <p>Thread-safe, no I/O, and no thread ever waits for another: every stage completes before
 * returning, but a charge that finds its account being charged by another thread, which then does
 * it and completes it there (callers continue on their own thread: see {@code Steps.await}).
 */
public final class LocalQuotaStore implements QuotaStore {

  private final Cache<String, LocalAccount> accounts;
  private final Map<String, Lock> locks = new ConcurrentHashMap<>();
  private final Map<String, byte[]> secrets = new ConcurrentHashMap<>();
  /** Accounts held after an answer was refused over a limit ({@link #hold}). */
  private final LocalHolds holds;
  /** Keys presented once ({@link #seenOnce}), with when they may be presented again (epoch ms). */
  private final Map<String, Long> seen = new ConcurrentHashMap<>();
  /** Keys bound to an owner ({@link #bind}): a bulk export's job and files. */
  private final LocalBindings bindings;
  private final int maxAccounts;
  private final RateGate rates;
  private final EventWatch notFound;
  private final EventWatch failures;
  private final Executor maintenance;
  private final @Nullable StateFile state;
  private final AtomicBoolean writeQueued = new AtomicBoolean();

  public LocalQuotaStore(int maxAccounts, Executor maintenance) {
    this(maxAccounts, maintenance, null);
  }

  /**
   * @param state where locks, open windows and secrets are kept across restarts (read here, at
   *     construction), or null to keep them in memory only
   */
  public LocalQuotaStore(int maxAccounts, Executor maintenance, @Nullable StateFile state) {
    this(maxAccounts, maintenance, state, MAX_BINDINGS);
  }

  /** Most bindings in force at once ({@link #bind}); beyond, new ones are refused: fail closed. */
  static final int MAX_BINDINGS = 100_000;

  LocalQuotaStore(int maxAccounts, Executor maintenance, @Nullable StateFile state, int maxBindings) {
    if (maxAccounts < 1) {
      throw new IllegalArgumentException("maxAccounts: " + maxAccounts + " (expected: >= 1)");
    }
    this.maxAccounts = maxAccounts;
    this.maintenance = requireNonNull(maintenance, "maintenance");
    this.rates = new RateGate(maxAccounts);
    this.notFound = new EventWatch(maxAccounts);
    this.failures = new EventWatch(maxAccounts);
    this.state = state;
    this.bindings = new LocalBindings(maxBindings);
    this.holds = new LocalHolds(maxAccounts);
    this.accounts = Caffeine.newBuilder()
        .executor(Runnable::run) // upkeep in the caller (no I/O in it): no pool hand-off per charge
        .expireAfter(new Expiry<String, LocalAccount>() {
          @Override
          public long expireAfterCreate(String key, LocalAccount value, long currentTime) {
            return value.retentionNanos();
          }

          @Override
          public long expireAfterUpdate(String key, LocalAccount value, long currentTime, long currentDuration) {
            return value.retentionNanos();
          }

          @Override
          public long expireAfterRead(String key, LocalAccount value, long currentTime, long currentDuration) {
            return value.retentionNanos();
          }
        })
        .build();
    if (state != null) {
      state.read().restore(this);
    }
  }

  /** One budget's window as one charge sees it. */
  private record Budget(PatientWindow window, LinkedHashMap<String, Long> seen, Set<String> patients, boolean enforce) {}

  /** The key of an account's unexplained budget (patients outside its care relationships). */
  static String unexplainedKey(String account) {
    return account + "\u0000unexplained";
  }

  /**
   * Both budgets in one step: the account's monitor, then its unexplained budget's (always in this
   * order), so a response is admitted or refused against both at once. No thread waits for another:
   * a charge that finds its account being charged by another thread is left in the account's queue
   * and done by that thread, right after its own ({@link LocalAccount#run}); it completes there.
   */
  @Override
  public CompletionStage<ChargeResult> charge(ChargeRequest request) {
    LocalAccount account;
    LocalAccount unexplained;
    try {
      account = account(request.account());
      unexplained = request.unexplained().isEmpty() ? null : account(unexplainedKey(request.account()));
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<ChargeResult> out = new CompletableFuture<>();
    account.run(() -> {
      ChargeResult result;
      try {
        synchronized (account) {
          if (unexplained == null) {
            result = chargeLocked(request, account, null);
          } else {
            synchronized (unexplained) {
              result = chargeLocked(request, account, unexplained);
            }
          }
        }
      } catch (RuntimeException e) {
        return () -> out.completeExceptionally(e);
      }
      return () -> out.complete(result);
    });
    return out;
  }

  private ChargeResult chargeLocked(ChargeRequest request, LocalAccount account, @Nullable LocalAccount unexplained) {
    long now = request.now().toEpochMilli();
    QuotaStore.@Nullable HoldCheck hold = request.hold();
    if (hold != null) {
      Optional<Held> held = heldLocked(request.account(), account, request.limits(), hold.named(), now);
      if (held.isPresent()) {
        return new ChargeResult.Held(held.get(), null);
      }
    }
    List<Budget> budgets = new ArrayList<>();
    for (PatientWindow w : request.limits()) {
      budgets.add(new Budget(w, account.window(w, now), request.patients(), request.enforce()));
    }
    ChargeRequest.Unexplained u = request.unexplained();
    if (unexplained != null) {
      for (PatientWindow w : u.limits()) {
        budgets.add(new Budget(w, unexplained.window(w, now), u.patients(), u.enforce()));
      }
    }
    List<WindowUsage> after = new ArrayList<>(budgets.size());
    Budget refusing = null;
    WindowUsage refused = null;
    WindowUsage would = null;
    int newInLongest = 0;
    for (Budget b : budgets) {
      int fresh = 0;
      for (String p : b.patients()) {
        if (!b.seen().containsKey(p)) {
          fresh++;
        }
      }
      WindowUsage usage = new WindowUsage(b.window(), b.seen().size() + fresh);
      after.add(usage);
      if (!b.window().unexplained()) {
        newInLongest = Math.max(newInLongest, fresh);
      }
      if (usage.exceeded()) {
        if (b.enforce() && refusing == null) {
          refusing = b;
          refused = usage;
        } else if (!b.enforce() && would == null) {
          would = usage;
        }
      }
    }
    if (refusing != null) {
      List<WindowUsage> current = new ArrayList<>();
      for (Budget b : budgets) {
        current.add(new WindowUsage(b.window(), b.seen().size()));
      }
      Duration retry = LocalAccount.retryAfter(refused, refusing.seen(), refusing.patients(), now);
      if (hold != null) { // held in the same step: an answer charged next cannot tell by its refusal what it held
        holds.hold(request.account(), now + retry.toMillis(), now);
        persistSoon();
      }
      return new ChargeResult.Refused(refused, current, retry);
    }
    account.record(request.tracked(), request.patients(), now);
    accounts.put(request.account(), account);
    if (unexplained != null) {
      unexplained.record(u.tracked(), u.patients(), now);
      accounts.put(unexplainedKey(request.account()), unexplained);
    }
    return new ChargeResult.Admitted(after, newInLongest, would);
  }

  private LocalAccount account(String key) {
    LocalAccount a = accounts.getIfPresent(key);
    if (a != null) {
      return a;
    }
    if (accounts.estimatedSize() >= maxAccounts) {
      accounts.cleanUp();
      if (accounts.estimatedSize() >= maxAccounts) {
        throw new IllegalStateException("quota store full: " + maxAccounts + " active accounts (quota.max-accounts)");
      }
    }
    return accounts.get(key, k -> new LocalAccount());
  }

  /** Records a disclosure read back from the state file: {@code patients} (id → epoch ms) under {@code length}. */
  void restoreWindow(String account, Duration length, Map<String, Long> patients) {
    LocalAccount a = account(account);
    synchronized (a) {
      LinkedHashMap<String, Long> seen = a.window(length, 0);
      patients.entrySet().stream().sorted(Map.Entry.comparingByValue()).forEach(e -> {
        seen.remove(e.getKey());
        seen.put(e.getKey(), e.getValue());
      });
    }
    accounts.put(account, a);
  }

  void restoreLock(Lock lock) {
    locks.put(lock.account(), lock);
  }

  void restoreHold(String account, long untilMillis) {
    holds.hold(account, untilMillis, 0);
  }

  void restoreSecret(String name, byte[] secret) {
    secrets.put(name, secret.clone());
  }

  void restoreBinding(String key, LocalBindings.Binding binding) {
    bindings.restore(key, binding);
  }

  /**
   * Writes locks, holds, open windows, secrets and bindings to the state file (no-op without one). Blocking file
   * I/O: call it from a background thread, never an event loop.
   */
  public void persist() {
    if (state == null) {
      return;
    }
    StateFile.Snapshot snapshot = new StateFile.Snapshot();
    locks.values().forEach(snapshot.locks::add);
    holds.forEach(System.currentTimeMillis(), snapshot.holds::put);
    secrets.forEach(snapshot.secrets::put);
    bindings.forEach(snapshot.bindings::put);
    accounts.asMap().forEach((key, a) -> {
      synchronized (a) {
        a.forEachWindow((length, seen) -> snapshot.windows.add(new StateFile.Window(key, length, new LinkedHashMap<>(seen))));
      }
    });
    state.write(snapshot);
  }

  /** A lock, a secret or a binding changed: write the state out soon, on the maintenance executor. */
  private void persistSoon() {
    if (state == null || !writeQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      maintenance.execute(() -> {
        writeQueued.set(false);
        persist();
      });
    } catch (RejectedExecutionException e) {
      writeQueued.set(false);
    }
  }

  @Override
  public CompletionStage<RateGate.Entry> enter(String account, RateLimit limit, int permits, Instant now) {
    Lock l = locks.get(account);
    if (l != null && l.activeAt(now)) {
      return CompletableFuture.completedFuture(new RateGate.Entry.Locked(l));
    }
    return CompletableFuture.completedFuture(rates.tryEnter(account, limit, permits, now));
  }

  @Override
  public CompletionStage<Optional<Held>> held(String account, List<PatientWindow> limits, Set<String> named, Instant now) {
    LocalAccount a = accounts.getIfPresent(account);
    if (a == null) {
      return CompletableFuture.completedFuture(heldLocked(account, null, limits, named, now.toEpochMilli()));
    }
    synchronized (a) {
      return CompletableFuture.completedFuture(heldLocked(account, a, limits, named, now.toEpochMilli()));
    }
  }

  /** {@link #held}, under the account's monitor (none when the store has no windows of it). */
  private Optional<Held> heldLocked(String key, @Nullable LocalAccount a, List<PatientWindow> limits, Set<String> named,
      long nowMillis) {
    long until = holds.until(key, nowMillis);
    PatientWindow full = null;
    boolean counted = a != null && !named.isEmpty();
    if (a != null) {
      for (PatientWindow w : limits) {
        LinkedHashMap<String, Long> seen = a.window(w, nowMillis);
        if (seen.size() >= w.max()) {
          long leaves = LocalAccount.leavesAt(seen, seen.size() - w.max(), w.length().toMillis());
          until = Math.max(until, leaves);
          full = full == null ? w : full;
        }
        counted = counted && seen.keySet().containsAll(named);
      }
    }
    if (until <= nowMillis || counted) {
      return Optional.empty();
    }
    return Optional.of(new Held(Instant.ofEpochMilli(until), full));
  }

  @Override
  public CompletionStage<Void> hold(String account, Instant until, Instant now) {
    holds.hold(account, until.toEpochMilli(), now.toEpochMilli());
    persistSoon();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<Boolean> recordEvents(String watch, String account, int n, Duration window, int max, Instant now) {
    EventWatch events = watch.equals(NOT_FOUND) ? notFound : failures;
    return CompletableFuture.completedFuture(events.record(account, n, window, max, now));
  }

  /** The watch of "not found" answers (an id walk); every other name is the EPR-failure watch. */
  static final String NOT_FOUND = "not-found";

  @Override
  public CompletionStage<byte[]> sharedSecret(String name, byte[] proposed) {
    byte[] had = secrets.putIfAbsent(name, proposed.clone());
    if (had == null) {
      persistSoon();
    }
    return CompletableFuture.completedFuture((had == null ? proposed : had).clone());
  }

  /** Most keys {@link #seenOnce} keeps; beyond it (after the expired ones are dropped) keys are refused: fail closed. */
  static final int MAX_SEEN = 1_000_000;

  @Override
  public CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now) {
    requireNonNull(key, "key");
    long nowMillis = now.toEpochMilli();
    if (seen.size() >= MAX_SEEN) {
      seen.values().removeIf(until -> until <= nowMillis);
      if (seen.size() >= MAX_SEEN) {
        return CompletableFuture.completedFuture(false);
      }
    }
    long until = nowMillis + ttl.toMillis();
    boolean[] first = {false};
    seen.compute(key, (k, old) -> {
      if (old == null || old <= nowMillis) {
        first[0] = true;
        return until;
      }
      return old;
    });
    return CompletableFuture.completedFuture(first[0]);
  }

  @Override
  public CompletionStage<Boolean> bind(String key, String owner, Duration ttl, Instant now) {
    long nowMillis = now.toEpochMilli();
    boolean bound;
    try {
      bound = bindings.bind(key, owner, nowMillis, nowMillis + ttl.toMillis());
    } catch (IllegalStateException full) {
      return CompletableFuture.failedFuture(full);
    }
    if (bound) {
      persistSoon();
    }
    return CompletableFuture.completedFuture(bound);
  }

  @Override
  public CompletionStage<Optional<String>> ownerOf(String key, Instant now) {
    return CompletableFuture.completedFuture(bindings.ownerOf(key, now.toEpochMilli()));
  }

  @Override
  public CompletionStage<Optional<Lock>> lockOf(String account, Instant now) {
    Lock l = locks.get(account);
    if (l != null && !l.activeAt(now)) {
      locks.remove(account, l);
      l = null;
    }
    return CompletableFuture.completedFuture(Optional.ofNullable(l));
  }

  @Override
  public CompletionStage<Lock> lock(String account, String reason, Duration lockFor, Instant now) {
    Lock fresh = new Lock(account, reason, now, now.plus(lockFor));
    Lock result = locks.merge(account, fresh,
        (old, neu) -> old.activeAt(now) && !old.until().isBefore(neu.until()) ? old : neu);
    persistSoon();
    return CompletableFuture.completedFuture(result);
  }

  @Override
  public CompletionStage<Boolean> unlock(String account) {
    boolean had = locks.remove(account) != null;
    persistSoon();
    return CompletableFuture.completedFuture(had);
  }

  @Override
  public CompletionStage<List<Lock>> locks(Instant now) {
    locks.values().removeIf(l -> !l.activeAt(now));
    List<Lock> all = new ArrayList<>(locks.values());
    all.sort(Comparator.comparing(Lock::since));
    return CompletableFuture.completedFuture(all);
  }

  @Override
  public CompletionStage<List<WindowUsage>> usage(String account, List<PatientWindow> windows, Instant now) {
    LocalAccount a = accounts.getIfPresent(account);
    List<WindowUsage> out = new ArrayList<>();
    for (PatientWindow w : windows) {
      if (a == null) {
        out.add(new WindowUsage(w, 0));
      } else {
        synchronized (a) {
          out.add(new WindowUsage(w, a.window(w, now.toEpochMilli()).size()));
        }
      }
    }
    return CompletableFuture.completedFuture(out);
  }

  /** Writes the state out (with a state file) and forgets everything. */
  @Override
  public void close() {
    persist();
    accounts.invalidateAll();
  }

}
