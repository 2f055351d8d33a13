package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * The Lua scripts of a {@link RedisQuotaStore} ({@code charge.lua}, {@code enter.lua},
 * {@code events.lua}, {@code lock.lua}, {@code bind.lua}, {@code hold.lua}), run by SHA and sent again when the server does not know
 * them; the charge script's arguments and reply, and the reading of script replies. Thread-safe.
 */
final class RedisScripts {
  record Script(String name, String body, String sha) {
    static Script load(String name) {
      try (InputStream in = RedisScripts.class.getResourceAsStream(name + ".lua")) {
        String body = new String(requireNonNull(in, name).readAllBytes(), StandardCharsets.UTF_8);
        return new Script(name, body, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
            .digest(body.getBytes(StandardCharsets.UTF_8))));
      } catch (IOException | NoSuchAlgorithmException e) {
        throw new IllegalStateException("script " + name + ".lua", e);
      }
    }
  }

  static final Script CHARGE = Script.load("charge");
  static final Script ENTER = Script.load("enter");
  static final Script EVENTS = Script.load("events");
  static final Script LOCK = Script.load("lock");
  static final Script BIND = Script.load("bind");
  static final Script HOLD = Script.load("hold");

  private final RedisClusterAsyncCommands<String, String> redis;
  private final RedisKeys keyspace;

  RedisScripts(RedisClusterAsyncCommands<String, String> redis, RedisKeys keyspace) {
    this.redis = requireNonNull(redis, "redis");
    this.keyspace = requireNonNull(keyspace, "keyspace");
  }

  CompletionStage<List<Object>> chargeScript(String account, Set<Duration> tracked, List<PatientWindow> limits,
      Set<String> patients, ChargeRequest.Unexplained unexplained, Instant now, boolean enforce) {
    return chargeScript(account, tracked, limits, patients, unexplained, now, enforce, null);
  }

  /** {@code hold}: the hold asked again in the same call ({@link ChargeRequest#hold}; null: not asked). */
  CompletionStage<List<Object>> chargeScript(String account, Set<Duration> tracked, List<PatientWindow> limits,
      Set<String> patients, ChargeRequest.Unexplained unexplained, Instant now, boolean enforce,
      QuotaStore.@Nullable HoldCheck hold) {
    List<Duration> lengths = new ArrayList<>(tracked);
    List<Duration> uLengths = new ArrayList<>(unexplained.tracked());
    String[] keys = new String[lengths.size() + uLengths.size() + (hold == null ? 0 : 1)];
    List<String> args = new ArrayList<>(8 + lengths.size() + uLengths.size() + 2 * limits.size()
        + 2 * unexplained.limits().size() + patients.size() + unexplained.patients().size());
    args.add(Long.toString(now.toEpochMilli()));
    args.add(enforce ? "1" : "0");
    args.add(Integer.toString(lengths.size()));
    args.add(Integer.toString(limits.size()));
    for (int i = 0; i < lengths.size(); i++) {
      keys[i] = keyspace.key(account, "w:" + lengths.get(i).toMillis());
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
      keys[lengths.size() + i] = keyspace.key(account, "u:" + uLengths.get(i).toMillis());
      args.add(Long.toString(uLengths.get(i).toMillis()));
    }
    for (PatientWindow w : unexplained.limits()) {
      args.add(Integer.toString(uLengths.indexOf(w.length()) + 1));
      args.add(Integer.toString(w.max()));
    }
    args.add(Integer.toString(patients.size()));
    args.addAll(patients);
    args.addAll(unexplained.patients());
    if (hold != null) {
      keys[keys.length - 1] = keyspace.key(account, "held");
      // beyond this many named patients, none is checked one by one: a held account's answer stays held
      Set<String> named = hold.named().size() <= RedisHolds.MAX_NAMED_CHECKED ? hold.named() : Set.of();
      args.addAll(named);
      args.add(Integer.toString(named.size()));
    }
    return run(CHARGE, ScriptOutputType.MULTI, keys, args.toArray(String[]::new));
  }

  static ChargeResult result(ChargeRequest request, List<Object> reply) {
    if (number(reply.get(0)) == 2) {
      int full = (int) number(reply.get(1));
      return new ChargeResult.Held(new QuotaStore.Held(Instant.ofEpochMilli(number(reply.get(2))),
          full == 0 ? null : request.limits().get(full - 1)), null);
    }
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

  <T> CompletionStage<T> run(Script script, ScriptOutputType type, String[] keys, String... args) {
    return redis.<T>evalsha(script.sha(), type, keys, args).toCompletableFuture().exceptionallyCompose(e -> {
      Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
      if (cause instanceof RedisNoScriptException) {
        return redis.<T>eval(script.body(), type, keys, args).toCompletableFuture();
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  /** Loads every script into the server, so that calls by SHA find them (completes when all are loaded). */
  CompletionStage<Void> load() {
    List<CompletableFuture<String>> loads = new ArrayList<>();
    for (Script s : List.of(CHARGE, ENTER, EVENTS, LOCK, BIND, HOLD)) {
      loads.add(redis.scriptLoad(s.body()).toCompletableFuture());
    }
    return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new));
  }

  static long number(Object o) {
    return o instanceof Long l ? l : Long.parseLong(text(o));
  }

  static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
  }
}
