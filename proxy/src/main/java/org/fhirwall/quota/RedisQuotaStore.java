package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import io.lettuce.core.Range;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster store: everything that limits a principal kept in Redis (standalone, Sentinel or
 * Cluster; Redis 7 or Valkey), shared by every replica, through Lettuce's asynchronous API (no
 * call blocks; each has a timeout, after which it completes exceptionally like any other fault).
 *
 * <p>Keys, all under {@code prefix}, an account's in one hash slot (see {@link RedisKeys}), so each
 * script ({@link RedisScripts}) touches one slot and works on Redis Cluster:
 *
 * <ul>
 *   <li><code>{A}:w:MILLIS</code> — sorted set, patient → epoch ms of its last disclosure, one per
 *       window length; expires one window after its last write ({@code charge.lua}: check and
 *       charge in one round trip, exact at the limit however many replicas charge at once);
 *   <li><code>{A}:u:MILLIS</code> — the same for the patients disclosed outside the principal's care
 *       relationships (the unexplained budget), checked and charged by the same script call;
 *   <li><code>{A}:rate</code> and <code>{A}:inflight</code> — the GCRA arrival time and the
 *       requests in flight, scored by the end of their lease ({@code enter.lua}, which also
 *       refuses a locked account: one round trip before a request is forwarded);
 *   <li><code>{A}:ev:WATCH</code> — sorted set of events of a watch ({@code events.lua});
 *   <li><code>{A}:lock</code> — hash (since, until, reason), expiring at {@code until}
 *       ({@code lock.lua}), listed in the sorted set {@code locks} (account → until): see {@link RedisLocks};
 *   <li>{@code secret:NAME}, {@code once:KEY}, {@code owner:KEY} — shared secrets, a replay cache's
 *       keys and bindings (a bulk export's job and files to their account): see {@link RedisShared}.
 * </ul>
 *
 * <p>A failover can lose writes the old primary acknowledged but had not replicated. Every
 * replica therefore remembers its own admitted charges and locks of the last {@code replay} and
 * writes them again (idempotently: {@code ZADD GT} with their original times) whenever its
 * connection is re-established; see the README for what that bounds. Thread-safe.
 */
public final class RedisQuotaStore implements QuotaStore {
  private static final Logger LOG = LoggerFactory.getLogger(RedisQuotaStore.class);

  /**
   * How to reach Redis.
   *
   * @param url {@code redis://}, {@code rediss://} (TLS) or {@code redis-sentinel://} URL
   * @param cluster the URL is a seed node of a Redis Cluster
   * @param caFile PEM CA certificates that sign the server's (TLS), null for the JVM's trust store
   * @param timeout how long one call may take before it counts as a failure
   * @param lease how long a request's concurrency slot is held when its replica never gives it back
   * @param replay how long each replica remembers its own writes, to write them again after a reconnect
   */
  public record Settings(String url, boolean cluster, @Nullable String username, @Nullable String password,
      @Nullable Path caFile, Duration timeout, Duration lease, Duration replay, String keyPrefix) {
    public Settings {
      requireNonNull(url, "url");
      requireNonNull(timeout, "timeout");
      requireNonNull(lease, "lease");
      requireNonNull(replay, "replay");
      requireNonNull(keyPrefix, "keyPrefix");
    }

    @Override
    public String toString() {
      return "Settings[url=" + RedisConnection.redacted(url) + ", cluster=" + cluster + ", username=" + username + "]";
    }
  }

  private final RedisConnection connection;
  private final RedisClusterAsyncCommands<String, String> redis;
  private final RedisKeys keyspace;
  private final RedisScripts scripts;
  private final Settings settings;
  private final RedisReplay replay;
  private final RedisLanes lanes;
  private final KnownPatients known;
  private final RedisAdmissions admissions;
  private final Redisclosures redisclosures;
  private final RedisShared shared;
  private final RedisLocks locked;
  private final RedisHolds holds;

  private RedisQuotaStore(RedisConnection connection, Settings settings, Ticker ticker) {
    this.connection = connection;
    this.redis = connection.commands();
    this.settings = settings;
    this.keyspace = new RedisKeys(settings.keyPrefix());
    this.scripts = new RedisScripts(redis, keyspace);
    this.shared = new RedisShared(redis, scripts, settings.keyPrefix());
    this.locked = new RedisLocks(redis, scripts, keyspace);
    Function<String, EnterScript.AccountKeys> keysOf = a -> new EnterScript.AccountKeys(keyspace.key(a, "rate"),
        keyspace.key(a, "inflight"), keyspace.key(a, "lock"), keyspace.key(a, "held"));
    this.holds = new RedisHolds(this::scriptsHere, keyspace, keysOf);
    this.lanes = new RedisLanes(this::scriptsHere, keysOf, this::timersHere, LINGER);
    this.admissions = new RedisAdmissions(lanes, holds, new AdmissionForecast(Duration.ofSeconds(1), 100_000, ticker),
        settings.lease());
    this.known = new KnownPatients(knownMargin(settings.timeout()), 10_000, 4_096);
    Redisclosures.Scheduler later = (delay, task) -> timersHere().schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    this.redisclosures = new Redisclosures(REWRITE, later, this::disclose);
    this.replay = new RedisReplay(settings.replay(), later, new RedisReplay.Writer() {
      @Override
      public CompletionStage<?> charge(RedisReplay.Charge c) {
        return record(c.account(), c.tracked(), c.patients(), c.unexplained(), c.at());
      }

      @Override
      public CompletionStage<?> lock(Lock lock, Instant now) {
        return locked.write(lock, now);
      }
    });
  }

  /**
   * How long the new disclosure times of patients shown again are gathered before they are written
   * (well inside {@link #knownMargin}, so the patients stay in their windows meanwhile).
   */
  static final Duration REWRITE = Duration.ofMillis(250);

  /** Set once the store leaves the loops (shutdown): a write that fails from then on is not replayed, so it is logged. */
  private volatile boolean leaving;

  /** Connections served by fhirwall's event loops ({@link #serveOn}), each with its scripts; empty before. */
  private volatile List<LoopScripts> loops = List.of();

  private record LoopScripts(RedisConnection.LoopConnection connection, RedisScripts scripts) {}

  /** The scripts of the connection served by the calling thread's event loop, else of the main one. */
  private RedisScripts scriptsHere() {
    for (LoopScripts l : loops) {
      if (l.connection().thread().current().getAsBoolean()) {
        return l.scripts();
      }
    }
    return scripts;
  }

  /** The calling thread's event loop as a scheduler when it is one of fhirwall's, else the client's own threads. */
  private ScheduledExecutorService timersHere() {
    for (LoopScripts l : loops) {
      if (l.connection().thread().current().getAsBoolean()) {
        return l.connection().thread().timers();
      }
    }
    return connection.resources().eventExecutorGroup();
  }

  /**
   * Gives each of fhirwall's event loops a connection of its own, so that the calls a request
   * makes from its loop go out and come back on that loop (see {@link RedisConnection#openOn}).
   * Not for Redis Cluster (its calls keep the main connection). Blocks the calling thread (never an
   * event loop) while connecting; a loop whose connection cannot be opened keeps the main one.
   */
  @Override
  public void serveOn(List<ClientThread> threads) {
    if (settings.cluster()) {
      return;
    }
    List<LoopScripts> opened = new ArrayList<>();
    for (ClientThread thread : threads) {
      try {
        RedisConnection.LoopConnection c = RedisConnection.openOn(settings, thread, connection.resources());
        c.client().addListener(new Reconnects());
        opened.add(new LoopScripts(c, new RedisScripts(c.commands(), keyspace)));
      } catch (RuntimeException failed) {
        LOG.warn("quota store: no connection of its own for an event loop ({}); its calls use the main one", failed.toString());
      }
    }
    loops = List.copyOf(opened);
  }

  /** How long a slot given back or gathered re-disclosures wait for the account's next call before going alone. */
  static final Duration LINGER = Duration.ofMillis(2);

  /**
   * How much sooner than a window's end a replica stops trusting its memory that a patient is in
   * it: covers the replicas' clocks (kept within a few seconds of each other by NTP) and the time
   * a re-disclosure takes to reach Redis (at most a timeout or two).
   */
  static Duration knownMargin(Duration timeout) {
    Duration twice = timeout.multipliedBy(2);
    Duration clocks = Duration.ofSeconds(10);
    return clocks.plus(twice);
  }

  /**
   * Connects (blocking the calling thread, never an event loop, for at most {@code startWait});
   * afterwards the connection is re-established on its own whenever it drops.
   *
   * @throws IllegalStateException when Redis could not be reached within {@code startWait}
   */
  public static RedisQuotaStore connect(Settings s, Duration startWait) throws InterruptedException {
    return connect(s, startWait, Ticker.systemTicker());
  }

  /** {@link #connect(Settings, Duration)}, its {@link AdmissionForecast} timed by {@code ticker} (a test's own). */
  static RedisQuotaStore connect(Settings s, Duration startWait, Ticker ticker) throws InterruptedException {
    RedisConnection connection = RedisConnection.open(s, startWait);
    RedisQuotaStore store = new RedisQuotaStore(connection, s, ticker);
    try {
      store.scripts.load().toCompletableFuture().get(startWait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // Not fatal: a script the server does not know is sent whole on first use.
      LOG.warn("quota store: scripts not loaded into Redis ahead of use: {}", e.toString());
    }
    connection.client().addListener(store.new Reconnects());
    LOG.info("quota store: Redis at {}{}", RedisConnection.redacted(s.url()), s.cluster() ? " (cluster)" : "");
    return store;
  }

  /** Writes this replica's recent charges and locks again each time the connection comes back. */
  private final class Reconnects implements RedisConnectionStateListener {
    @Override
    public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
      // The server may be another one (a failover) or have restarted: it may have lost writes and
      // scripts. Forget what it was known to hold; load the scripts (so that calls keep their
      // order: a script sent whole after a refusal would overtake later calls).
      known.forgetAll();
      scripts.load();
      // Nothing to write on the first connection; idempotent on every later one.
      replay.reconnected();
    }
  }

  // --- windows ---------------------------------------------------------------------------------

  /**
   * Answers naming only patients this replica knows to be counted already ({@link KnownPatients})
   * are admitted at once, their new disclosure times gathered and written within {@link #REWRITE}
   * ({@link Redisclosures}); every other charge is checked and charged by Redis in one call, after
   * the account's gathered times (so that it sees them).
   */
  @Override
  public CompletionStage<ChargeResult> charge(ChargeRequest request) {
    // a hold asked again goes to Redis whatever the answer holds: from memory, an answer of counted patients
    // would be let through at a full window while one with a new patient was held, and tell so
    Optional<ChargeResult.Admitted> remembered = request.hold() == null ? known.admit(request) : Optional.empty();
    if (remembered.isPresent()) {
      redisclosures.add(request);
      return CompletableFuture.completedFuture(remembered.get());
    }
    redisclosures.flush(request.account());
    CompletableFuture<Object> reply = new CompletableFuture<>();
    lanes.now(request.account(), new RedisLanes.Own(here -> here.chargeScript(request.account(), request.tracked(),
        request.limits(), request.patients(), request.unexplained(), request.now(), request.enforce(), request.hold())
        .toCompletableFuture(), reply));
    return reply.thenApply(r -> {
      @SuppressWarnings("unchecked")
      ChargeResult result = RedisScripts.result(request, (List<Object>) r);
      if (result instanceof ChargeResult.Admitted admitted && !request.patients().isEmpty()) {
        replay.charged(new RedisReplay.Charge(request.account(), request.tracked(), request.patients(),
            recorded(request.unexplained()), request.now()));
        known.confirmed(request, admitted);
      }
      return result;
    });
  }

  /**
   * Writes the latest disclosure times of patients shown again (answers admitted from memory) into
   * every window they count in; when that fails, the principal's memory is forgotten and the times
   * are kept for the replay after the reconnection.
   */
  private void disclose(Redisclosures.Gathered g) {
    String account = g.account();
    Map<String, Long> windows = new LinkedHashMap<>();
    g.terms().tracked().forEach(d -> windows.put(keyspace.key(account, "w:" + d.toMillis()), d.toMillis()));
    Map<String, Long> unexplained = new LinkedHashMap<>();
    if (!g.unexplained().isEmpty()) {
      g.terms().unexplainedTracked().forEach(d -> unexplained.put(keyspace.key(account, "u:" + d.toMillis()), d.toMillis()));
    }
    long latest = g.patients().values().stream().mapToLong(Long::longValue).max().orElse(0);
    Consumer<Boolean> done = ok -> {
      if (ok) {
        known.written(account, g.terms(), g.patients(), g.unexplained());
        return;
      }
      known.forget(account);
      if (leaving) {
        LOG.warn("quota store: stopping; the new disclosure times of {} patient(s) shown again to a principal could not be "
            + "written to Redis (their earlier disclosure stands there: they may leave a window early on other replicas)",
            g.patients().size() + g.unexplained().size());
      }
      // written again after the reconnection, at the latest time (a patient's a little later than its own: never earlier)
      replay.charged(new RedisReplay.Charge(account, g.terms().tracked(), g.patients().keySet(), new ChargeRequest.Unexplained(
          List.of(), g.terms().unexplainedTracked(), g.unexplained().keySet(), false), Instant.ofEpochMilli(latest)));
    };
    if (unexplained.isEmpty()) {
      lanes.later(account, new RedisLanes.Disclose(windows, g.patients(), done));
      return;
    }
    lanes.later(account, new RedisLanes.Disclose(windows, g.patients(), ok -> {
      if (!ok) {
        done.accept(false);
      }
    }));
    lanes.later(account, new RedisLanes.Disclose(unexplained, g.unexplained(), done));
  }

  /** What of an unexplained charge is written again by a replay: its windows and patients, no limit. */
  static ChargeRequest.Unexplained recorded(ChargeRequest.Unexplained u) {
    return u.limits().isEmpty() ? u : new ChargeRequest.Unexplained(List.of(), u.tracked(), u.patients(), false);
  }

  /** Records disclosures made elsewhere (a replay, a reconciliation): no limit, original times. */
  CompletionStage<Void> record(String account, Set<Duration> tracked, Set<String> patients,
      ChargeRequest.Unexplained unexplained, Instant at) {
    return scripts.chargeScript(account, tracked, List.of(), patients, recorded(unexplained), at, false).thenApply(r -> null);
  }


  @Override
  public CompletionStage<List<WindowUsage>> usage(String account, List<PatientWindow> windows, Instant now) {
    List<CompletableFuture<Long>> counts = new ArrayList<>();
    for (PatientWindow w : windows) {
      double horizon = now.toEpochMilli() - w.length().toMillis();
      counts.add(redis.zcount(keyspace.key(account, "w:" + w.length().toMillis()),
          Range.from(Range.Boundary.excluding(horizon), Range.Boundary.unbounded())).toCompletableFuture());
    }
    return CompletableFuture.allOf(counts.toArray(CompletableFuture[]::new)).thenApply(v -> {
      List<WindowUsage> out = new ArrayList<>();
      for (int i = 0; i < windows.size(); i++) {
        out.add(new WindowUsage(windows.get(i), counts.get(i).join().intValue()));
      }
      return out;
    });
  }

  // --- rate and concurrency (see RedisAdmissions) ------------------------------------------------

  @Override
  public CompletionStage<RateGate.Entry> enter(String account, RateLimit limit, int permits, Instant now) {
    return admissions.enter(account, limit, permits, now);
  }

  /**
   * Lets a read go to the EPR while Redis admits it when this replica foresees the admission
   * ({@link AdmissionForecast}); a request with a hold check ({@code hold}) never goes ahead, and its check goes in
   * its admission's call.
   */
  @Override
  public Admission admit(String account, RateLimit limit, int permits, boolean mayGoAhead, @Nullable HoldCheck hold, Instant now) {
    return admissions.admit(account, limit, permits, mayGoAhead, hold, now);
  }

  // --- holds (at-limit: refuse; see RedisHolds) -------------------------------------------------

  @Override
  public CompletionStage<Optional<Held>> held(String account, List<PatientWindow> limits, Set<String> named, Instant now) {
    return holds.held(account, limits, named, now);
  }

  @Override
  public CompletionStage<Void> hold(String account, Instant until, Instant now) {
    return holds.hold(account, until, now);
  }

  // --- event watches ---------------------------------------------------------------------------

  @Override
  public CompletionStage<Boolean> recordEvents(String watch, String account, int n, Duration window, int max, Instant now) {
    if (n < 1) {
      return CompletableFuture.completedFuture(false);
    }
    return scripts.<Long>run(RedisScripts.EVENTS, ScriptOutputType.INTEGER, new String[] {keyspace.key(account, "ev:" + watch)},
        Long.toString(now.toEpochMilli()), Long.toString(window.toMillis()), Integer.toString(n), Integer.toString(max),
        Long.toHexString(ThreadLocalRandom.current().nextLong()) + Long.toHexString(System.nanoTime())).thenApply(r -> r == 1L);
  }

  // --- locks (see RedisLocks) -------------------------------------------------------------------

  @Override
  public CompletionStage<Optional<Lock>> lockOf(String account, Instant now) {
    return locked.lockOf(account, now);
  }

  @Override
  public CompletionStage<Lock> lock(String account, String reason, Duration lockFor, Instant now) {
    return locked.write(new Lock(account, reason, now, now.plus(lockFor)), now).thenApply(l -> {
      replay.locked(l);
      return l;
    });
  }

  @Override
  public CompletionStage<Boolean> unlock(String account) {
    replay.unlocked(account);
    return locked.unlock(account);
  }

  @Override
  public CompletionStage<List<Lock>> locks(Instant now) {
    return locked.all(now);
  }

  // --- secrets, once-keys, bindings (no account's: see RedisShared) ------------------------------

  @Override
  public CompletionStage<byte[]> sharedSecret(String name, byte[] proposed) {
    return shared.sharedSecret(name, proposed);
  }

  @Override
  public CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now) {
    return shared.seenOnce(key, ttl);
  }

  @Override
  public CompletionStage<Boolean> bind(String key, String owner, Duration ttl, Instant now) {
    return shared.bind(key, owner, ttl);
  }

  @Override
  public CompletionStage<Optional<String>> ownerOf(String key, Instant now) {
    return shared.ownerOf(key);
  }

  // --- health, replay --------------------------------------------------------------------------

  /** Completes normally when Redis answers a PING within the timeout. */
  @Override
  public CompletionStage<Void> probe() {
    return ping();
  }

  /** Completes normally when Redis answers a PING within the timeout. */
  CompletionStage<Void> ping() {
    return redis.ping().thenApply(p -> null);
  }

  /** Writes a lock set elsewhere (a reconciliation after the fallback). */
  CompletionStage<Lock> restoreLock(Lock lock, Instant now) {
    return locked.write(lock, now);
  }

  /**
   * Sends what still waits (for at most a timeout; what is queued from then on goes at once), then
   * closes the loops' own connections while their loops still run; later calls go through the main
   * connection. What could not be written in that time is logged as a warning.
   */
  @Override
  public void leaveLoops() {
    leaving = true;
    redisclosures.flushAll();
    RedisLanes.Left unwritten = lanes.drain(settings.timeout()).join();
    if (!unwritten.nothing()) {
      LOG.warn("quota store: stopping with {} call(s) to Redis unanswered and {} slot(s) given back or re-disclosure(s) not "
          + "sent after {}: slots wait for their leases to end; patients shown again may leave a window early on other replicas",
          unwritten.unanswered(), unwritten.unsent(), settings.timeout());
    }
    List<LoopScripts> left = loops;
    loops = List.of();
    left.forEach(l -> l.connection().close());
  }

  /**
   * Sends what still waits (slots given back, re-disclosures; for at most a timeout), then closes;
   * the loops' connections too when {@link #leaveLoops} was not called (their loops may be gone).
   */
  @Override
  public void close() {
    leaveLoops();
    connection.close();
  }
}
