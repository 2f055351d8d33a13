package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A {@link RedisQuotaStore}'s at-limit holds ({@link QuotaStore#held}, {@link QuotaStore#hold}): <code>{A}:held</code>,
 * the epoch ms until which an account is held after a response refused over a limit, expiring then ({@code hold.lua}:
 * never shortening a hold), and the hold check ({@link Check}), which reads it with the fullness of the request's windows
 * and whether the patients it names are counted, in the account's hash slot: made by {@code enter.lua}, with the
 * request's admission (one round trip for both, see {@link RedisQuotaStore#admit}) or alone ({@link #held}). Thread-safe.
 */
final class RedisHolds {
  /** Beyond this many named patients a request held by a full window is not checked one by one: it stays held. */
  static final int MAX_NAMED_CHECKED = 500;

  /** A window of a request's ceiling, as a hold check reads it. */
  record Ceiling(String key, long lengthMillis, int max) {}

  /**
   * What {@link QuotaStore#held} asks of Redis for one request: at {@code nowMillis}, its ceiling's windows, and the
   * patients it names (none when there are more than {@link #MAX_NAMED_CHECKED}: then a full window holds it).
   */
  record Check(long nowMillis, List<Ceiling> ceiling, List<String> named) {
    Check {
      ceiling = List.copyOf(ceiling);
      named = List.copyOf(named);
    }

    /** How many script arguments it takes. */
    int args() {
      return 3 + 3 * ceiling.size() + named.size();
    }
  }

  private final Supplier<RedisScripts> scripts;
  private final RedisKeys keyspace;
  private final Function<String, EnterScript.AccountKeys> keysOf;

  /** {@code scripts}: the calling thread's connection's (an event loop's own when the caller is one). */
  RedisHolds(Supplier<RedisScripts> scripts, RedisKeys keyspace, Function<String, EnterScript.AccountKeys> keysOf) {
    this.scripts = requireNonNull(scripts, "scripts");
    this.keyspace = requireNonNull(keyspace, "keyspace");
    this.keysOf = requireNonNull(keysOf, "keysOf");
  }

  /** The hold check of a request of {@code account} ({@link QuotaStore#held}'s arguments). */
  Check check(String account, List<PatientWindow> limits, Set<String> named, Instant now) {
    List<Ceiling> ceiling = new ArrayList<>(limits.size());
    for (PatientWindow w : limits) {
      ceiling.add(new Ceiling(keyspace.key(account, "w:" + w.length().toMillis()), w.length().toMillis(), w.max()));
    }
    return new Check(now.toEpochMilli(), ceiling, named.size() <= MAX_NAMED_CHECKED ? new ArrayList<>(named) : List.of());
  }

  /** What a check's answer says: held until {@code until} (0: not held), by the {@code full}-th of {@code limits} (0: none). */
  static Optional<QuotaStore.Held> held(long until, int full, List<PatientWindow> limits) {
    return until == 0 ? Optional.empty()
        : Optional.of(new QuotaStore.Held(Instant.ofEpochMilli(until), full == 0 ? null : limits.get(full - 1)));
  }

  /** A hold check alone: an {@code enter.lua} call that admits nothing. */
  CompletionStage<Optional<QuotaStore.Held>> held(String account, List<PatientWindow> limits, Set<String> named,
      Instant now) {
    EnterScript.Call call = EnterScript.of(keysOf.apply(account), List.of(), Map.of(), Map.of(), List.of(),
        List.of(check(account, limits, named, now)));
    return scripts.get().<List<Object>>run(RedisScripts.ENTER, ScriptOutputType.MULTI, call.keys(), call.args())
        .thenApply(reply -> held(EnterScript.heldUntil(reply, 0, 0), EnterScript.full(reply, 0, 0), limits));
  }

  CompletionStage<Void> hold(String account, Instant until, Instant now) {
    return scripts.get().<Long>run(RedisScripts.HOLD, ScriptOutputType.INTEGER, new String[] {keyspace.key(account, "held")},
        Long.toString(until.toEpochMilli()), Long.toString(now.toEpochMilli())).thenApply(r -> null);
  }
}
