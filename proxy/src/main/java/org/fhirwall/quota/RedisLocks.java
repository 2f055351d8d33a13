package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;
import static org.fhirwall.quota.RedisScripts.text;

import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A {@link RedisQuotaStore}'s locks: <code>{A}:lock</code>, a hash (since, until, reason) expiring
 * at {@code until} ({@code lock.lua}: never shortening a lock in force), listed in the sorted set
 * {@code locks} (account → until). Thread-safe.
 */
final class RedisLocks {
  private final RedisClusterAsyncCommands<String, String> redis;
  private final RedisScripts scripts;
  private final RedisKeys keyspace;

  RedisLocks(RedisClusterAsyncCommands<String, String> redis, RedisScripts scripts, RedisKeys keyspace) {
    this.redis = requireNonNull(redis, "redis");
    this.scripts = requireNonNull(scripts, "scripts");
    this.keyspace = requireNonNull(keyspace, "keyspace");
  }

  CompletionStage<Optional<Lock>> lockOf(String account, Instant now) {
    return redis.hmget(keyspace.key(account, "lock"), "since", "until", "reason").thenApply(values -> {
      Map<String, String> m = new HashMap<>();
      values.forEach(kv -> kv.ifHasValue(v -> m.put(kv.getKey(), v)));
      if (!m.containsKey("until")) {
        return Optional.<Lock>empty();
      }
      Lock l = new Lock(account, m.getOrDefault("reason", ""), Instant.ofEpochMilli(Long.parseLong(m.getOrDefault("since", "0"))),
          Instant.ofEpochMilli(Long.parseLong(m.get("until"))));
      return l.activeAt(now) ? Optional.of(l) : Optional.<Lock>empty();
    });
  }

  /** Writes {@code lock} (a lock in force that ends later stays); completes with the lock in force afterwards. */
  CompletionStage<Lock> write(Lock lock, Instant now) {
    String account = lock.account();
    return scripts.<List<Object>>run(RedisScripts.LOCK, ScriptOutputType.MULTI, new String[] {keyspace.key(account, "lock")},
        Long.toString(now.toEpochMilli()), Long.toString(lock.since().toEpochMilli()), Long.toString(lock.until().toEpochMilli()),
        lock.reason(), account).thenCompose(r -> {
          Lock l = new Lock(account, text(r.get(2)), Instant.ofEpochMilli(Long.parseLong(text(r.get(0)))),
              Instant.ofEpochMilli(Long.parseLong(text(r.get(1)))));
          return redis.zadd(keyspace.lockIndex(), ZAddArgs.Builder.gt(), (double) l.until().toEpochMilli(), account)
              .thenApply(n -> l);
        });
  }

  /** Lifts the account's lock; true when there was one. */
  CompletionStage<Boolean> unlock(String account) {
    return redis.del(keyspace.key(account, "lock")).thenCompose(n -> redis.zrem(keyspace.lockIndex(), account).thenApply(x -> n > 0));
  }

  /** Every lock in force at {@code now}, oldest first. */
  CompletionStage<List<Lock>> all(Instant now) {
    double nowMs = now.toEpochMilli();
    return redis.zremrangebyscore(keyspace.lockIndex(), Range.from(Range.Boundary.unbounded(), Range.Boundary.including(nowMs)))
        .thenCompose(x -> redis.zrangebyscore(keyspace.lockIndex(), Range.from(Range.Boundary.excluding(nowMs), Range.Boundary.unbounded())))
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
}
