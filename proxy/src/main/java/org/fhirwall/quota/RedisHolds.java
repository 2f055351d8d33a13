package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * A {@link RedisQuotaStore}'s at-limit holds ({@link QuotaStore#held}, {@link QuotaStore#hold}): <code>{A}:held</code>,
 * the epoch ms until which an account is held after a response refused over a limit, expiring then ({@code hold.lua}:
 * never shortening a hold), and {@code held.lua}, which reads it with the fullness of the request's windows and whether
 * the patients it names are counted, in one call in the account's hash slot. Thread-safe.
 */
final class RedisHolds {
  /** Beyond this many named patients a request held by a full window is not checked one by one: it stays held. */
  static final int MAX_NAMED_CHECKED = 500;

  private final Supplier<RedisScripts> scripts;
  private final RedisKeys keyspace;

  /** {@code scripts}: the calling thread's connection's (an event loop's own when the caller is one). */
  RedisHolds(Supplier<RedisScripts> scripts, RedisKeys keyspace) {
    this.scripts = requireNonNull(scripts, "scripts");
    this.keyspace = requireNonNull(keyspace, "keyspace");
  }

  CompletionStage<Optional<QuotaStore.Held>> held(String account, List<PatientWindow> limits, Set<String> named,
      Instant now) {
    String[] keys = new String[1 + limits.size()];
    List<String> args = new ArrayList<>(1 + 2 * limits.size() + named.size());
    keys[0] = keyspace.key(account, "held");
    args.add(Long.toString(now.toEpochMilli()));
    for (int i = 0; i < limits.size(); i++) {
      PatientWindow w = limits.get(i);
      keys[1 + i] = keyspace.key(account, "w:" + w.length().toMillis());
      args.add(Long.toString(w.length().toMillis()));
      args.add(Integer.toString(w.max()));
    }
    if (named.size() <= MAX_NAMED_CHECKED) {
      args.addAll(named);
    }
    return scripts.get().<List<Object>>run(RedisScripts.HELD, ScriptOutputType.MULTI, keys, args.toArray(String[]::new))
        .thenApply(reply -> {
          long until = RedisScripts.number(reply.get(0));
          int full = (int) RedisScripts.number(reply.get(1));
          return until == 0 ? Optional.<QuotaStore.Held>empty()
              : Optional.of(new QuotaStore.Held(Instant.ofEpochMilli(until), full == 0 ? null : limits.get(full - 1)));
        });
  }

  CompletionStage<Void> hold(String account, Instant until, Instant now) {
    return scripts.get().<Long>run(RedisScripts.HOLD, ScriptOutputType.INTEGER, new String[] {keyspace.key(account, "held")},
        Long.toString(until.toEpochMilli()), Long.toString(now.toEpochMilli())).thenApply(r -> null);
  }
}
