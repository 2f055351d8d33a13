package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
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
 * process's memory; with a state file, locks, open windows and shared secrets also survive a
 * restart ({@link StateFile}: a lock or a secret is written out at once, windows every few seconds
 * by {@link #persist()}, and everything on {@link #close()}).
 *
 * <p>Each account keeps, per window length, its patients in order of last disclosure; a window is
 * exact (sliding, per patient, millisecond precision). A charge holds the account's monitor for
 * the few microseconds it takes, so concurrent responses of one account are charged one after
 * the other and can never both slip under a limit. Accounts idle for longer than their longest
 * window hold nothing and expire from the cache. When {@code maxAccounts} accounts are active,
 * new accounts are refused (completed exceptionally) rather than evicting a live one, which would
 * forget patients: the store fails closed.
 *
 * <p>Thread-safe. Completes every stage before returning (no I/O), so callers stay on their thread.
 */
public final class LocalQuotaStore implements QuotaStore {

  private final Cache<String, Account> accounts;
  private final Map<String, Lock> locks = new ConcurrentHashMap<>();
  private final Map<String, byte[]> secrets = new ConcurrentHashMap<>();
  /** Keys presented once ({@link #seenOnce}), with when they may be presented again (epoch ms). */
  private final Map<String, Long> seen = new ConcurrentHashMap<>();
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
    if (maxAccounts < 1) {
      throw new IllegalArgumentException("maxAccounts: " + maxAccounts + " (expected: >= 1)");
    }
    this.maxAccounts = maxAccounts;
    this.maintenance = requireNonNull(maintenance, "maintenance");
    this.rates = new RateGate(maxAccounts);
    this.notFound = new EventWatch(maxAccounts);
    this.failures = new EventWatch(maxAccounts);
    this.state = state;
    this.accounts = Caffeine.newBuilder()
        .executor(Runnable::run) // upkeep in the caller (no I/O in it): no pool hand-off per charge
        .expireAfter(new Expiry<String, Account>() {
          @Override
          public long expireAfterCreate(String key, Account value, long currentTime) {
            return value.retentionNanos();
          }

          @Override
          public long expireAfterUpdate(String key, Account value, long currentTime, long currentDuration) {
            return value.retentionNanos();
          }

          @Override
          public long expireAfterRead(String key, Account value, long currentTime, long currentDuration) {
            return value.retentionNanos();
          }
        })
        .build();
    if (state != null) {
      state.read().restore(this);
    }
  }

  /** The patients of one account, per window length, oldest disclosure first. Guarded by its monitor. */
  private static final class Account {
    private final Map<Duration, LinkedHashMap<String, Long>> windows = new HashMap<>();
    private volatile long retentionNanos = Duration.ofHours(1).toNanos();

    long retentionNanos() {
      return retentionNanos;
    }

    LinkedHashMap<String, Long> window(PatientWindow w, long nowMillis) {
      return window(w.length(), nowMillis);
    }

    LinkedHashMap<String, Long> window(Duration length, long nowMillis) {
      LinkedHashMap<String, Long> seen = windows.computeIfAbsent(length, k -> new LinkedHashMap<>());
      long horizon = nowMillis - length.toMillis();
      Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator();
      while (it.hasNext()) {
        if (it.next().getValue() > horizon) {
          break;
        }
        it.remove();
      }
      long longest = windows.keySet().stream().max(Comparator.naturalOrder()).orElse(length).toNanos();
      if (longest > retentionNanos) {
        retentionNanos = longest;
      }
      return seen;
    }
  }

  @Override
  public CompletionStage<ChargeResult> charge(ChargeRequest request) {
    Account account;
    try {
      account = account(request.account());
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e);
    }
    long now = request.now().toEpochMilli();
    synchronized (account) {
      List<WindowUsage> before = new ArrayList<>(request.limits().size());
      WindowUsage breached = null;
      LinkedHashMap<String, Long> breachedSeen = null;
      int newInLongest = 0;
      for (PatientWindow w : request.limits()) {
        LinkedHashMap<String, Long> seen = account.window(w, now);
        int fresh = 0;
        for (String p : request.patients()) {
          if (!seen.containsKey(p)) {
            fresh++;
          }
        }
        WindowUsage after = new WindowUsage(w, seen.size() + fresh);
        before.add(after);
        newInLongest = Math.max(newInLongest, fresh);
        if (after.exceeded() && breached == null) {
          breached = after;
          breachedSeen = seen;
        }
      }
      if (breached != null && request.enforce()) {
        List<WindowUsage> current = new ArrayList<>();
        for (PatientWindow w : request.limits()) {
          current.add(new WindowUsage(w, account.window(w, now).size()));
        }
        return CompletableFuture.completedFuture(new ChargeResult.Refused(breached, current,
            retryAfter(breached, breachedSeen, request.patients(), now)));
      }
      for (Duration length : request.tracked()) {
        LinkedHashMap<String, Long> seen = account.window(length, now);
        for (String p : request.patients()) {
          seen.remove(p);
          seen.put(p, now);
        }
      }
      accounts.put(request.account(), account);
      return CompletableFuture.completedFuture(new ChargeResult.Admitted(before, newInLongest, breached));
    }
  }

  /**
   * When enough of the oldest patients (those not in this response) leave the window for the
   * response to fit; the whole window when it can never fit.
   */
  private static Duration retryAfter(WindowUsage breached, LinkedHashMap<String, Long> seen, Set<String> patients, long now) {
    int excess = breached.distinct() - breached.window().max();
    long lengthMillis = breached.window().length().toMillis();
    int fresh = breached.distinct() - seen.size();
    if (fresh > breached.window().max()) {
      return breached.window().length();
    }
    int dropped = 0;
    for (Map.Entry<String, Long> e : seen.entrySet()) {
      if (patients.contains(e.getKey())) {
        continue;
      }
      if (++dropped >= excess) {
        long wait = e.getValue() + lengthMillis - now;
        return Duration.ofMillis(Math.max(1000, wait));
      }
    }
    return breached.window().length();
  }

  private Account account(String key) {
    Account a = accounts.getIfPresent(key);
    if (a != null) {
      return a;
    }
    if (accounts.estimatedSize() >= maxAccounts) {
      accounts.cleanUp();
      if (accounts.estimatedSize() >= maxAccounts) {
        throw new IllegalStateException("quota store full: " + maxAccounts + " active accounts (quota.max-accounts)");
      }
    }
    return accounts.get(key, k -> new Account());
  }

  /** Records a disclosure read back from the state file: {@code patients} (id → epoch ms) under {@code length}. */
  void restoreWindow(String account, Duration length, Map<String, Long> patients) {
    Account a = account(account);
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

  void restoreSecret(String name, byte[] secret) {
    secrets.put(name, secret.clone());
  }

  /**
   * Writes locks, open windows and secrets to the state file (no-op without one). Blocking file
   * I/O: call it from a background thread, never an event loop.
   */
  public void persist() {
    if (state == null) {
      return;
    }
    StateFile.Snapshot snapshot = new StateFile.Snapshot();
    locks.values().forEach(snapshot.locks::add);
    secrets.forEach(snapshot.secrets::put);
    accounts.asMap().forEach((key, a) -> {
      synchronized (a) {
        a.windows.forEach((length, seen) -> {
          if (!seen.isEmpty()) {
            snapshot.windows.add(new StateFile.Window(key, length, new LinkedHashMap<>(seen)));
          }
        });
      }
    });
    state.write(snapshot);
  }

  /** A lock or a secret changed: write the state out soon, on the maintenance executor. */
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
    Account a = accounts.getIfPresent(account);
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
