package org.fhirwall.quota;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys and arguments of one {@code enter.lua} call (their layout is the script's), and the
 * reading of its reply: an account's slots given back, re-disclosures, admissions and hold checks
 * ({@link RedisHolds.Check}), in one round trip. Not thread-safe: one per call.
 */
final class EnterScript {
  /** The keys and arguments of a call, ready to send. */
  record Call(String[] keys, String[] args) {}

  /** The account's own keys, first in every call (rate, tickets, lock, hold). */
  record AccountKeys(String rate, String inflight, String lock, String held) {}

  private final List<String> keys = new ArrayList<>();
  private final Map<String, Integer> keyIndex = new HashMap<>();
  private final List<String> args = new ArrayList<>();

  private EnterScript(AccountKeys k) {
    key(k.rate());
    key(k.inflight());
    key(k.lock());
    key(k.held());
  }

  /**
   * A call: {@code tickets} given back, {@code disclosed} (window key → its length in ms, and the
   * window's patients → epoch ms of their latest disclosure) recorded, {@code admits} admitted and
   * {@code checks} made, in that order.
   */
  static Call of(AccountKeys k, List<String> tickets, Map<String, Long> lengths, Map<String, Map<String, Long>> disclosed,
      List<RedisLanes.Admit> admits, List<RedisHolds.Check> checks) {
    EnterScript s = new EnterScript(k);
    s.args.add(Integer.toString(tickets.size()));
    s.args.addAll(tickets);
    s.args.add(Integer.toString(lengths.size()));
    lengths.forEach((window, length) -> {
      s.key(window);
      Map<String, Long> p = disclosed.get(window);
      s.args.add(Long.toString(length));
      s.args.add(Integer.toString(p.size()));
      p.forEach((patient, at) -> {
        s.args.add(Long.toString(at));
        s.args.add(patient);
      });
    });
    s.args.add(Integer.toString(admits.size()));
    for (RedisLanes.Admit a : admits) {
      s.args.add(Long.toString(a.nowMicros()));
      s.args.add(Long.toString(a.intervalMicros()));
      s.args.add(Integer.toString(a.burst()));
      s.args.add(Integer.toString(a.permits()));
      s.args.add(Integer.toString(a.concurrent()));
      s.args.add(a.ticket());
      s.args.add(Long.toString(a.leaseEndMillis()));
    }
    s.args.add(Integer.toString(checks.size()));
    for (RedisHolds.Check c : checks) {
      s.args.add(Long.toString(c.nowMillis()));
      s.args.add(Integer.toString(c.ceiling().size()));
      for (RedisHolds.Ceiling w : c.ceiling()) {
        s.args.add(Integer.toString(s.key(w.key())));
        s.args.add(Long.toString(w.lengthMillis()));
        s.args.add(Integer.toString(w.max()));
      }
      s.args.add(Integer.toString(c.named().size()));
      s.args.addAll(c.named());
    }
    return new Call(s.keys.toArray(String[]::new), s.args.toArray(String[]::new));
  }

  /** The index (from 1, as Lua counts) of {@code key} among the call's keys, added when new. */
  private int key(String key) {
    return keyIndex.computeIfAbsent(key, k -> {
      keys.add(k);
      return keys.size();
    });
  }

  /** Whether the reply says the account is locked (then nothing was admitted and no check made). */
  static boolean locked(List<?> reply) {
    return RedisScripts.number(reply.get(0)) == 1;
  }

  /** The outcome of the {@code j}-th admission (0 entered, -1 too many at once, > 0 over the rate: wait in us). */
  static long admission(List<?> reply, int j) {
    return RedisScripts.number(reply.get(4 + j));
  }

  /** The epoch ms until which the {@code q}-th check's request is held (0: it is not), in a reply to {@code admits} admissions. */
  static long heldUntil(List<?> reply, int admits, int q) {
    return RedisScripts.number(reply.get(4 + admits + 2 * q));
  }

  /** The index (from 1) of the first full window of the {@code q}-th check's ceiling, 0 when none is full. */
  static int full(List<?> reply, int admits, int q) {
    return (int) RedisScripts.number(reply.get(5 + admits + 2 * q));
  }
}
