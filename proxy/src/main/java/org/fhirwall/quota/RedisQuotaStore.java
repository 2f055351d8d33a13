package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.Range;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster store: everything that limits a principal kept in Redis (standalone, Sentinel or
 * Cluster; Redis 7 or Valkey), shared by every replica, through Lettuce's asynchronous API (no
 * call blocks; each has a timeout, after which it completes exceptionally like any other fault).
 *
 * <p>Keys, all under {@code prefix}; an account's keys share its hash slot through the hash tag
 * <code>{issuer|subject}</code> ({@code {}, {@code }} and {@code %} percent-escaped), so each script
 * touches one slot and works on Redis Cluster:
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
 *       ({@code lock.lua}), listed in the sorted set {@code locks} (account → until);
 *   <li>{@code secret:NAME} — shared secrets, created once ({@code SET NX}).
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
      return "Settings[url=" + RedisQuotaStore.redacted(url) + ", cluster=" + cluster + ", username=" + username + "]";
    }
  }

  private record Script(String name, String body, String sha) {
    static Script load(String name) {
      try (InputStream in = RedisQuotaStore.class.getResourceAsStream(name + ".lua")) {
        String body = new String(requireNonNull(in, name).readAllBytes(), StandardCharsets.UTF_8);
        return new Script(name, body, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
            .digest(body.getBytes(StandardCharsets.UTF_8))));
      } catch (IOException | NoSuchAlgorithmException e) {
        throw new IllegalStateException("script " + name + ".lua", e);
      }
    }
  }

  private static final Script CHARGE = Script.load("charge");
  private static final Script ENTER = Script.load("enter");
  private static final Script EVENTS = Script.load("events");
  private static final Script LOCK = Script.load("lock");

  /** A charge admitted by this replica, kept for {@code replay} to be written again after a reconnect. */
  private record Written(String account, Set<Duration> tracked, Set<String> patients, ChargeRequest.Unexplained unexplained,
      Instant at, long nanos) {}

  private record LockWritten(Lock lock, long nanos) {}

  private final AbstractRedisClient client;
  private final ClientResources resources;
  private final StatefulConnection<String, String> connection;
  private final RedisClusterAsyncCommands<String, String> redis;
  private final Settings settings;
  private final ArrayDeque<Written> written = new ArrayDeque<>();
  private final ArrayDeque<LockWritten> locksWritten = new ArrayDeque<>();
  private final AtomicBoolean replaying = new AtomicBoolean();
  private final AtomicBoolean replayAgain = new AtomicBoolean();

  private RedisQuotaStore(AbstractRedisClient client, ClientResources resources, StatefulConnection<String, String> connection,
      RedisClusterAsyncCommands<String, String> redis, Settings settings) {
    this.client = client;
    this.resources = resources;
    this.connection = connection;
    this.redis = redis;
    this.settings = settings;
  }

  /**
   * Connects (blocking the calling thread, never an event loop, for at most {@code startWait});
   * afterwards the connection is re-established on its own whenever it drops.
   *
   * @throws IllegalStateException when Redis could not be reached within {@code startWait}
   */
  public static RedisQuotaStore connect(Settings s, Duration startWait) throws InterruptedException {
    RedisURI uri = RedisURI.create(s.url());
    if (s.password() != null) {
      uri.setAuthentication(s.username() != null ? s.username() : "default", s.password().toCharArray());
    } else if (s.username() != null && !s.url().contains("@")) {
      throw new IllegalArgumentException("quota.redis.username without a password (expected: quota.redis.password-file)");
    }
    uri.setTimeout(s.timeout());
    ClientResources resources = ClientResources.builder()
        .ioThreadPoolSize(2)
        .computationThreadPoolSize(1)
        .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
        .build();
    SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
    if (s.caFile() != null) {
      ssl.trustManager(s.caFile().toFile());
    }
    SocketOptions socket = SocketOptions.builder().connectTimeout(s.timeout().multipliedBy(4)).keepAlive(true).build();
    long deadline = System.nanoTime() + startWait.toNanos();
    RuntimeException last = null;
    while (true) {
      AbstractRedisClient client = null;
      try {
        StatefulConnection<String, String> connection;
        RedisClusterAsyncCommands<String, String> commands;
        if (s.cluster()) {
          RedisClusterClient c = RedisClusterClient.create(resources, uri);
          client = c;
          // The cluster client connects to each node on first use: commands wait for that (bounded
          // by the timeout and the queue) instead of being rejected while a node's link comes up.
          c.setOptions(ClusterClientOptions.builder()
              .timeoutOptions(TimeoutOptions.enabled(s.timeout()))
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
              .requestQueueSize(100_000)
              .socketOptions(socket)
              .sslOptions(ssl.build())
              .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                  .enableAllAdaptiveRefreshTriggers()
                  .enablePeriodicRefresh(Duration.ofSeconds(30))
                  .build())
              .build());
          var cc = c.connect();
          connection = cc;
          commands = cc.async();
        } else {
          RedisClient c = RedisClient.create(resources, uri);
          client = c;
          c.setOptions(ClientOptions.builder()
              .timeoutOptions(TimeoutOptions.enabled(s.timeout()))
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
              .socketOptions(socket)
              .sslOptions(ssl.build())
              .build());
          var sc = c.connect();
          connection = sc;
          commands = sc.async();
        }
        RedisQuotaStore store = new RedisQuotaStore(client, resources, connection, commands, s);
        client.addListener(store.new Reconnects());
        LOG.info("quota store: Redis at {}{}", redacted(s.url()), s.cluster() ? " (cluster)" : "");
        return store;
      } catch (RuntimeException e) {
        last = e;
        if (client != null) {
          client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
        }
        if (System.nanoTime() > deadline) {
          resources.shutdown(0, 1, TimeUnit.SECONDS);
          throw new IllegalStateException("quota.redis.url " + redacted(s.url()) + ": Redis not reachable within "
              + startWait + " (" + e.getMessage() + ")", e);
        }
        LOG.warn("quota store: Redis at {} not reachable yet ({}); retrying", redacted(s.url()), e.getMessage());
        Thread.sleep(250);
      }
    }
  }

  /** Writes this replica's recent charges and locks again each time the connection comes back. */
  private final class Reconnects implements RedisConnectionStateListener {
    @Override
    public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
      // Nothing to write on the first connection; idempotent on every later one.
      replayAgain.set(true);
      if (replaying.compareAndSet(false, true)) {
        scheduleReplay(System.nanoTime() + settings.replay().toNanos());
      }
    }
  }

  /** The URL without its password, for logs and errors. */
  static String redacted(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }

  // --- keys ------------------------------------------------------------------------------------

  private String key(String account, String suffix) {
    StringBuilder b = new StringBuilder(settings.keyPrefix().length() + account.length() + suffix.length() + 8);
    b.append(settings.keyPrefix()).append('{');
    for (int i = 0; i < account.length(); i++) {
      char c = account.charAt(i);
      switch (c) {
        case '{' -> b.append("%7B");
        case '}' -> b.append("%7D");
        case '%' -> b.append("%25");
        default -> b.append(c);
      }
    }
    return b.append("}:").append(suffix).toString();
  }

  private String lockIndex() {
    return settings.keyPrefix() + "locks";
  }

  // --- windows ---------------------------------------------------------------------------------

  @Override
  public CompletionStage<ChargeResult> charge(ChargeRequest request) {
    return chargeScript(request.account(), request.tracked(), request.limits(), request.patients(), request.unexplained(),
        request.now(), request.enforce()).thenApply(reply -> {
          ChargeResult result = result(request, reply);
          if (result instanceof ChargeResult.Admitted && !request.patients().isEmpty()) {
            remember(new Written(request.account(), request.tracked(), request.patients(), recorded(request.unexplained()),
                request.now(), System.nanoTime()));
          }
          return result;
        });
  }

  /** What of an unexplained charge is written again by a replay: its windows and patients, no limit. */
  static ChargeRequest.Unexplained recorded(ChargeRequest.Unexplained u) {
    return u.limits().isEmpty() ? u : new ChargeRequest.Unexplained(List.of(), u.tracked(), u.patients(), false);
  }

  /** Records disclosures made elsewhere (a replay, a reconciliation): no limit, original times. */
  CompletionStage<Void> record(String account, Set<Duration> tracked, Set<String> patients,
      ChargeRequest.Unexplained unexplained, Instant at) {
    return chargeScript(account, tracked, List.of(), patients, recorded(unexplained), at, false).thenApply(r -> null);
  }

  private CompletionStage<List<Object>> chargeScript(String account, Set<Duration> tracked, List<PatientWindow> limits,
      Set<String> patients, ChargeRequest.Unexplained unexplained, Instant now, boolean enforce) {
    List<Duration> lengths = new ArrayList<>(tracked);
    List<Duration> uLengths = new ArrayList<>(unexplained.tracked());
    String[] keys = new String[lengths.size() + uLengths.size()];
    List<String> args = new ArrayList<>(8 + lengths.size() + uLengths.size() + 2 * limits.size()
        + 2 * unexplained.limits().size() + patients.size() + unexplained.patients().size());
    args.add(Long.toString(now.toEpochMilli()));
    args.add(enforce ? "1" : "0");
    args.add(Integer.toString(lengths.size()));
    args.add(Integer.toString(limits.size()));
    for (int i = 0; i < lengths.size(); i++) {
      keys[i] = key(account, "w:" + lengths.get(i).toMillis());
      args.add(Long.toString(lengths.get(i).toMillis()));
    }
    for (PatientWindow w : limits) {
      args.add(Integer.toString(lengths.indexOf(w.length()) + 1));
      args.add(Integer.toString(w.max()));
    }
    args.add(Integer.toString(uLengths.size()));
    args.add(Integer.toString(unexplained.limits().size()));
    args.add(unexplained.enforce() ? "1" : "0");
    for (int i = 0; i < uLengths.size(); i++) {
      keys[lengths.size() + i] = key(account, "u:" + uLengths.get(i).toMillis());
      args.add(Long.toString(uLengths.get(i).toMillis()));
    }
    for (PatientWindow w : unexplained.limits()) {
      args.add(Integer.toString(uLengths.indexOf(w.length()) + 1));
      args.add(Integer.toString(w.max()));
    }
    args.add(Integer.toString(patients.size()));
    args.addAll(patients);
    args.addAll(unexplained.patients());
    return run(CHARGE, ScriptOutputType.MULTI, keys, args.toArray(String[]::new));
  }

  private static ChargeResult result(ChargeRequest request, List<Object> reply) {
    boolean admitted = number(reply.get(0)) == 1;
    int breached = (int) number(reply.get(1));
    int first = admitted ? 3 : 4;
    List<PatientWindow> all = request.allLimits();
    List<WindowUsage> usage = new ArrayList<>(all.size());
    for (int j = 0; j < all.size(); j++) {
      usage.add(new WindowUsage(all.get(j), (int) number(reply.get(first + j))));
    }
    if (admitted) {
      return new ChargeResult.Admitted(usage, (int) number(reply.get(2)), breached == 0 ? null : usage.get(breached - 1));
    }
    WindowUsage breach = new WindowUsage(all.get(breached - 1), (int) number(reply.get(3)));
    return new ChargeResult.Refused(breach, usage, Duration.ofMillis(number(reply.get(2))));
  }

  @Override
  public CompletionStage<List<WindowUsage>> usage(String account, List<PatientWindow> windows, Instant now) {
    List<CompletableFuture<Long>> counts = new ArrayList<>();
    for (PatientWindow w : windows) {
      double horizon = now.toEpochMilli() - w.length().toMillis();
      counts.add(redis.zcount(key(account, "w:" + w.length().toMillis()),
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

  // --- rate and concurrency ----------------------------------------------------------------------

  @Override
  public CompletionStage<RateGate.Entry> enter(String account, RateLimit limit, int permits, Instant now) {
    RateGate.Entry.Refused beyond = RateGate.beyondBurst(limit, permits);
    if (beyond != null) {
      return CompletableFuture.completedFuture(beyond);
    }
    String ticket = Long.toHexString(ThreadLocalRandom.current().nextLong()) + Long.toHexString(System.nanoTime());
    String inflight = key(account, "inflight");
    return this.<List<Object>>run(ENTER, ScriptOutputType.MULTI, new String[] {key(account, "rate"), inflight, key(account, "lock")},
        Long.toString(RateGate.micros(now)), Long.toString(RateGate.intervalMicros(limit)), Integer.toString(limit.burst()),
        Integer.toString(permits), Integer.toString(limit.concurrent()), ticket,
        Long.toString(now.plus(settings.lease()).toEpochMilli()))
        .thenApply(reply -> {
          if (number(reply.get(0)) == 1) {
            return new RateGate.Entry.Entered(new RateGate.Ticket(() -> redis.zrem(inflight, ticket)
                .whenComplete((n, e) -> {
                  if (e != null) {
                    LOG.debug("concurrency slot not given back (its lease ends it): {}", e.toString());
                  }
                })));
          }
          long wait = number(reply.get(1));
          if (wait == -2) {
            return new RateGate.Entry.Locked(new Lock(account, text(reply.get(4)), Instant.ofEpochMilli(number(reply.get(2))),
                Instant.ofEpochMilli(number(reply.get(3)))));
          }
          return wait < 0 ? RateGate.concurrencyRefusal(limit) : RateGate.rateRefusal(limit, wait);
        });
  }

  // --- event watches ---------------------------------------------------------------------------

  @Override
  public CompletionStage<Boolean> recordEvents(String watch, String account, int n, Duration window, int max, Instant now) {
    if (n < 1) {
      return CompletableFuture.completedFuture(false);
    }
    return this.<Long>run(EVENTS, ScriptOutputType.INTEGER, new String[] {key(account, "ev:" + watch)},
        Long.toString(now.toEpochMilli()), Long.toString(window.toMillis()), Integer.toString(n), Integer.toString(max),
        Long.toHexString(ThreadLocalRandom.current().nextLong()) + Long.toHexString(System.nanoTime())).thenApply(r -> r == 1L);
  }

  // --- locks -----------------------------------------------------------------------------------

  @Override
  public CompletionStage<Optional<Lock>> lockOf(String account, Instant now) {
    return redis.hmget(key(account, "lock"), "since", "until", "reason").thenApply(values -> {
      Map<String, String> m = new java.util.HashMap<>();
      values.forEach(kv -> kv.ifHasValue(v -> m.put(kv.getKey(), v)));
      if (!m.containsKey("until")) {
        return Optional.<Lock>empty();
      }
      Lock l = new Lock(account, m.getOrDefault("reason", ""), Instant.ofEpochMilli(Long.parseLong(m.getOrDefault("since", "0"))),
          Instant.ofEpochMilli(Long.parseLong(m.get("until"))));
      return l.activeAt(now) ? Optional.of(l) : Optional.<Lock>empty();
    });
  }

  @Override
  public CompletionStage<Lock> lock(String account, String reason, Duration lockFor, Instant now) {
    Instant until = now.plus(lockFor);
    return writeLock(new Lock(account, reason, now, until), now).thenApply(l -> {
      synchronized (written) {
        locksWritten.addLast(new LockWritten(l, System.nanoTime()));
      }
      return l;
    });
  }

  private CompletionStage<Lock> writeLock(Lock lock, Instant now) {
    String account = lock.account();
    return this.<List<Object>>run(LOCK, ScriptOutputType.MULTI, new String[] {key(account, "lock")},
        Long.toString(now.toEpochMilli()), Long.toString(lock.since().toEpochMilli()), Long.toString(lock.until().toEpochMilli()),
        lock.reason(), account).thenCompose(r -> {
          Lock l = new Lock(account, text(r.get(2)), Instant.ofEpochMilli(Long.parseLong(text(r.get(0)))),
              Instant.ofEpochMilli(Long.parseLong(text(r.get(1)))));
          return redis.zadd(lockIndex(), io.lettuce.core.ZAddArgs.Builder.gt(), (double) l.until().toEpochMilli(), account)
              .thenApply(n -> l);
        });
  }

  @Override
  public CompletionStage<Boolean> unlock(String account) {
    synchronized (written) {
      locksWritten.removeIf(w -> w.lock().account().equals(account));
    }
    return redis.del(key(account, "lock")).thenCompose(n -> redis.zrem(lockIndex(), account).thenApply(x -> n > 0));
  }

  @Override
  public CompletionStage<List<Lock>> locks(Instant now) {
    double nowMs = now.toEpochMilli();
    return redis.zremrangebyscore(lockIndex(), Range.from(Range.Boundary.unbounded(), Range.Boundary.including(nowMs)))
        .thenCompose(x -> redis.zrangebyscore(lockIndex(), Range.from(Range.Boundary.excluding(nowMs), Range.Boundary.unbounded())))
        .thenCompose(accounts -> {
          List<CompletableFuture<Optional<Lock>>> each = new ArrayList<>();
          accounts.forEach(a -> each.add(lockOf(a, now).toCompletableFuture()));
          return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<Lock> out = new ArrayList<>();
            each.forEach(f -> f.join().ifPresent(out::add));
            out.sort(Comparator.comparing(Lock::since));
            return out;
          });
        });
  }

  // --- secrets ---------------------------------------------------------------------------------

  @Override
  public CompletionStage<byte[]> sharedSecret(String name, byte[] proposed) {
    String k = settings.keyPrefix() + "secret:" + name;
    return redis.set(k, Base64.getEncoder().encodeToString(proposed), SetArgs.Builder.nx())
        .thenCompose(ok -> redis.get(k))
        .thenApply(v -> Base64.getDecoder().decode(requireNonNull(v, "secret " + name + " vanished")));
  }

  @Override
  public CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now) {
    requireNonNull(key, "key");
    return redis.set(settings.keyPrefix() + "once:" + key, "1", SetArgs.Builder.nx().px(Math.max(1, ttl.toMillis())))
        .thenApply("OK"::equals);
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

  private void remember(Written w) {
    synchronized (written) {
      written.addLast(w);
      long horizon = w.nanos() - settings.replay().toNanos();
      while (!written.isEmpty() && written.peekFirst().nanos() < horizon) {
        written.pollFirst();
      }
      while (!locksWritten.isEmpty() && locksWritten.peekFirst().nanos() < horizon) {
        locksWritten.pollFirst();
      }
    }
  }

  /**
   * Writes this replica's charges and locks of the last {@code replay} again, shortly after a
   * (re)connection: a failover may have lost them. A connection just established may still refuse
   * commands, so a failed replay is tried again every 100 ms until {@code deadline}.
   */
  private void scheduleReplay(long deadline) {
    try {
      resources.eventExecutorGroup().schedule(() -> replayRecent(deadline), 100, TimeUnit.MILLISECONDS);
    } catch (RuntimeException shuttingDown) {
      replaying.set(false);
    }
  }

  private void replayRecent(long deadline) {
    replayAgain.set(false);
    List<Written> charges;
    List<LockWritten> locks;
    long horizon = System.nanoTime() - settings.replay().toNanos();
    synchronized (written) {
      charges = written.stream().filter(w -> w.nanos() >= horizon).toList();
      locks = locksWritten.stream().filter(w -> w.nanos() >= horizon).toList();
    }
    List<CompletableFuture<?>> writes = new ArrayList<>();
    charges.forEach(w -> writes.add(record(w.account(), w.tracked(), w.patients(), w.unexplained(), w.at())
        .toCompletableFuture()));
    Instant now = Instant.now();
    locks.forEach(w -> writes.add(writeLock(w.lock(), now).toCompletableFuture()));
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> {
      boolean retry = e != null || replayAgain.get();
      if (retry && System.nanoTime() < deadline) {
        scheduleReplay(deadline);
        return;
      }
      replaying.set(false);
      if (e != null) {
        LOG.warn("quota store: this replica's recent charges could not be written again after a reconnect: {}", e.toString());
      } else if (!writes.isEmpty()) {
        LOG.info("quota store: connection to Redis re-established; this replica's {} charge(s) and {} lock(s) of the last {} "
            + "written again", charges.size(), locks.size(), settings.replay());
      }
    });
  }

  /** Writes a lock set elsewhere (a reconciliation after the fallback). */
  CompletionStage<Lock> restoreLock(Lock lock, Instant now) {
    return writeLock(lock, now);
  }

  private <T> CompletionStage<T> run(Script script, ScriptOutputType type, String[] keys, String... args) {
    return redis.<T>evalsha(script.sha(), type, keys, args).toCompletableFuture().exceptionallyCompose(e -> {
      Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RedisNoScriptException) {
        return redis.<T>eval(script.body(), type, keys, args).toCompletableFuture();
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  private static long number(Object o) {
    return o instanceof Long l ? l : Long.parseLong(text(o));
  }

  private static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
  }

  @Override
  public void close() {
    connection.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }
}
