package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What a {@link RedisQuotaStore} keeps for every replica that belongs to no account, each one key
 * under {@code prefix} (one slot per call, also on Redis Cluster), one round trip per call:
 *
 * <ul>
 *   <li>{@code secret:NAME} — a shared secret, created once ({@code SET NX}), kept;
 *   <li>{@code once:KEY} — a key presented once (a replay cache), expiring after its ttl;
 *   <li>{@code owner:KEY} — the owner a key is bound to (a bulk export's job or file: the account
 *       that kicked it off), expiring after its ttl ({@code bind.lua}: never taken over before).
 * </ul>
 *
 * Thread-safe.
 */
final class RedisShared {
  private final RedisClusterAsyncCommands<String, String> redis;
  private final RedisScripts scripts;
  private final String prefix;

  RedisShared(RedisClusterAsyncCommands<String, String> redis, RedisScripts scripts, String prefix) {
    this.redis = requireNonNull(redis, "redis");
    this.scripts = requireNonNull(scripts, "scripts");
    this.prefix = requireNonNull(prefix, "prefix");
  }

  CompletionStage<byte[]> sharedSecret(String name, byte[] proposed) {
    String k = prefix + "secret:" + name;
    return redis.set(k, Base64.getEncoder().encodeToString(proposed), SetArgs.Builder.nx())
        .thenCompose(ok -> redis.get(k))
        .thenApply(v -> Base64.getDecoder().decode(requireNonNull(v, "secret " + name + " vanished")));
  }

  CompletionStage<Boolean> seenOnce(String key, Duration ttl) {
    requireNonNull(key, "key");
    return redis.set(prefix + "once:" + key, "1", SetArgs.Builder.nx().px(Math.max(1, ttl.toMillis())))
        .thenApply("OK"::equals);
  }

  CompletionStage<Boolean> bind(String key, String owner, Duration ttl) {
    requireNonNull(key, "key");
    requireNonNull(owner, "owner");
    return scripts.<Long>run(RedisScripts.BIND, ScriptOutputType.INTEGER, new String[] {prefix + "owner:" + key},
        owner, Long.toString(Math.max(1, ttl.toMillis()))).thenApply(r -> r == 1L);
  }

  CompletionStage<Optional<String>> ownerOf(String key) {
    requireNonNull(key, "key");
    return redis.get(prefix + "owner:" + key).thenApply(Optional::ofNullable);
  }
}
