package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each account's calls to Redis, in the order they were asked for, gathered into as few round
 * trips as the load allows (one {@code enter.lua} call carries every admission, with its hold check
 * for a role that refuses at its limit, slot given back and re-disclosure waiting for the account). Why: with one script call per request and per
 * answer, Redis's own CPU and the client's were worth more than the rest of a read.
 *
 * <ul>
 *   <li>An admission goes out at once when no call of the account is in flight; else it waits
 *       for that call's reply and goes with everything that arrived meanwhile (no timer: one
 *       connection at a time gets one call of the account, many at a time share it).
 *   <li>A slot given back or a re-disclosure has no one waiting for it: it waits for the next
 *       call of the account, at most {@code linger}, then goes on its own.
 *   <li>A charge (check and charge, {@code charge.lua}) is its own call, sent after everything
 *       asked before it, so it sees the re-disclosures recorded before it.
 * </ul>
 *
 * <p>Calls are handed to the connection under the account's lane, so Redis receives them in the
 * order they were decided; replies are heard outside the lane. {@link #drain} sends everything still waiting (at shutdown)
 * and, from then on, sends what a lane would have let linger at once: at shutdown the timers may be gone (an event
 * loop that stops cancels the tasks scheduled on it), and a lane waiting for one would never be sent. Thread-safe.
 */
final class RedisLanes {
  private static final Logger LOG = LoggerFactory.getLogger(RedisQuotaStore.class);
  /** At most this many script arguments in one call (Lua's stack bounds {@code unpack}). */
  static final int MAX_ARGS = 3000;

  /** Work for one account's lane. */
  sealed interface Work {}

  /**
   * A request to admit, and, for a role that refuses answers at its limit, whether it is held ({@code check}, else
   * null): {@code outcome} completes with the script's answer for it.
   */
  record Admit(long nowMicros, long intervalMicros, int burst, int permits, int concurrent, String ticket, long leaseEndMillis,
      RedisHolds.@Nullable Check check, CompletableFuture<Outcome> outcome) implements Work {}

  /** A concurrency slot given back. */
  record GiveBack(String ticket) implements Work {}

  /**
   * Patients disclosed again (patient → epoch ms of its latest disclosure), to record in each
   * window ({@code key} → its length in ms); {@code written} is told whether Redis has them.
   */
  record Disclose(Map<String, Long> windows, Map<String, Long> patients, Consumer<Boolean> written) implements Work {}

  /** A call of its own (a charge), sent in the account's order; its reply completes {@code result}. */
  record Own(Function<RedisScripts, CompletableFuture<?>> call, CompletableFuture<Object> result)
      implements Work {}

  /**
   * What the script says of one admission: locked (with the lock's fields), or a code (0, -1, wait); and of its hold
   * check, when it had one: held until {@code heldUntil} (epoch ms; 0: not held), by the {@code full}-th window of its
   * ceiling (0: none).
   */
  record Outcome(boolean locked, String since, String until, String reason, long code, long heldUntil, int full) {}

  /** What a {@link #drain} left when its time ran out: calls Redis had not answered, work not sent. */
  record Left(int unanswered, int unsent) {
    boolean nothing() {
      return unanswered == 0 && unsent == 0;
    }
  }

  private static final class Lane {
    final ArrayDeque<Work> waiting = new ArrayDeque<>();
    int inFlight;
    boolean timer;
    /** Whether work no one waits for (slots given back, re-disclosures) waits, and since when (its oldest). */
    boolean lingers;
    long lingeringSince;
  }

  private final ConcurrentHashMap<String, Lane> lanes = new ConcurrentHashMap<>();
  private final Supplier<RedisScripts> scripts;
  private final Function<String, EnterScript.AccountKeys> keysOf;
  private final Supplier<ScheduledExecutorService> timers;
  private final Duration linger;
  private final LongSupplier nanos;
  /** Set by {@link #drain}: nothing lingers from then on. */
  private volatile boolean draining;
  /** Drains waiting for every lane to be idle; completed by the change that makes them so. */
  private final List<CompletableFuture<Void>> idleWaiters = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * {@code scripts} and {@code timers} give the calling thread's connection and scheduler (an
   * event loop's own when the caller is one: its timer then wakes no other thread).
   */
  RedisLanes(Supplier<RedisScripts> scripts, Function<String, EnterScript.AccountKeys> keysOf, Supplier<ScheduledExecutorService> timers,
      Duration linger) {
    this(scripts, keysOf, timers, linger, System::nanoTime);
  }

  /** {@code nanos}: the clock a lingering slot's or re-disclosure's wait is measured by (a test's own). */
  RedisLanes(Supplier<RedisScripts> scripts, Function<String, EnterScript.AccountKeys> keysOf, Supplier<ScheduledExecutorService> timers,
      Duration linger, LongSupplier nanos) {
    this.scripts = requireNonNull(scripts, "scripts");
    this.keysOf = requireNonNull(keysOf, "keysOf");
    this.timers = requireNonNull(timers, "timers");
    this.linger = requireNonNull(linger, "linger");
    this.nanos = requireNonNull(nanos, "nanos");
  }

  /** A call handed to the connection, and what to do with its reply (outside the lane). */
  private record Sent(CompletableFuture<?> call, BiConsumer<Object, Throwable> onReply) {}

  /** What to do to a lane, under it; calls it sends go into {@code sent}. Returns the lane, or null to drop it. */
  private interface Change {
    @Nullable Lane apply(@Nullable Lane lane, List<Sent> sent);
  }

  /**
   * Changes the account's lane under its lock, then, outside it, hears the replies of the calls the
   * change sent (a reply can complete at once, and whoever waits on it may come back to the lane).
   */
  private void change(String account, Change c) {
    List<Sent> sent = new ArrayList<>(2);
    lanes.compute(account, (k, lane) -> c.apply(lane, sent));
    for (Sent s : sent) {
      s.call().whenComplete((v, e) -> {
        try {
          s.onReply().accept(v, e);
        } finally {
          replied(account, e);
        }
      });
    }
    if (draining && !idleWaiters.isEmpty()) {
      wakeDrainsWhenIdle();
    }
  }

  /** Queues work that someone waits for (an admission, a charge): it goes now, or with the reply in flight. */
  void now(String account, Work w) {
    change(account, (lane, sent) -> {
      Lane l = lane == null ? new Lane() : lane;
      l.waiting.add(w);
      if (l.inFlight == 0) {
        send(account, l, sent);
      }
      return l;
    });
  }

  /** Queues work no one waits for: it goes with the account's next call, or after {@code linger}. */
  void later(String account, Work w) {
    change(account, (lane, sent) -> {
      Lane l = lane == null ? new Lane() : lane;
      if (!l.lingers) {
        l.lingers = true;
        l.lingeringSince = nanos.getAsLong();
      }
      l.waiting.add(w);
      if (l.inFlight == 0) {
        linger(account, l, sent);
      }
      return l;
    });
  }

  /**
   * Lets what waits linger until the account's next call, or {@code linger} at most; called under the
   * lane. While draining it goes at once, even when a timer was set (it may never run).
   */
  private void linger(String account, Lane l, List<Sent> sent) {
    if (draining) {
      send(account, l, sent);
      return;
    }
    if (l.timer) {
      return; // when it runs, it waits on for what has not lingered its whole time yet
    }
    remind(account, l, sent, linger.toNanos());
  }

  /** Sets the lane's timer for {@code delayNanos} (what waits goes at once when no timer can be set); under the lane. */
  private void remind(String account, Lane l, List<Sent> sent, long delayNanos) {
    l.timer = true;
    try {
      timers.get().schedule(() -> lingered(account), delayNanos, TimeUnit.NANOSECONDS);
    } catch (RuntimeException shuttingDown) {
      l.timer = false;
      send(account, l, sent);
    }
  }

  /** Whether someone waits for what waits in the lane (an admission, a charge). */
  private static boolean urgent(Lane l) {
    for (Work w : l.waiting) {
      if (w instanceof Admit || w instanceof Own) {
        return true;
      }
    }
    return false;
  }

  private void lingered(String account) {
    change(account, (l, sent) -> {
      if (l == null) {
        return null;
      }
      l.timer = false;
      if (l.inFlight == 0 && !l.waiting.isEmpty()) {
        // A timer set for work that has gone since (with a call of the account) finds newer work: that
        // waits its own linger, for the account's next call, rather than going alone now.
        long left = linger.toNanos() - (nanos.getAsLong() - l.lingeringSince);
        if (left > 0 && !draining && !urgent(l)) {
          remind(account, l, sent, left);
        } else {
          send(account, l, sent);
        }
      }
      return idle(l) ? null : l;
    });
  }

  /**
   * A call of the account has its reply. When it failed (Redis down, or slower than the timeout),
   * what waits behind it fails too: no one waits longer than one call's timeout.
   */
  private void replied(String account, @Nullable Throwable failure) {
    List<Work> failed = new ArrayList<>();
    change(account, (l, sent) -> {
      if (l == null) {
        return null;
      }
      l.inFlight--;
      if (failure != null) {
        failed.addAll(l.waiting);
        l.waiting.clear();
        l.lingers = false;
      }
      if (l.inFlight == 0 && !l.waiting.isEmpty()) {
        // slots given back and re-disclosures made while the reply was heard wait for the next call
        if (urgent(l)) {
          send(account, l, sent);
        } else {
          linger(account, l, sent);
        }
      }
      return idle(l) ? null : l;
    });
    for (Work w : failed) {
      if (w instanceof Admit a) {
        a.outcome().completeExceptionally(failure);
      } else if (w instanceof Own o) {
        o.result().completeExceptionally(failure);
      } else if (w instanceof Disclose d) {
        d.written().accept(false);
      }
    }
  }

  private static boolean idle(Lane l) {
    return l.inFlight == 0 && l.waiting.isEmpty() && !l.timer;
  }

  /**
   * Sends everything still waiting, and from then on whatever is queued at once (nothing lingers);
   * completes when every lane is idle, with {@code Left(0, 0)}, or once {@code within} has passed,
   * with what was still unanswered or unsent then. Needs no timer of the lanes' (they may be gone):
   * the change that leaves the lanes idle completes it, and the deadline is the JDK's.
   */
  CompletableFuture<Left> drain(Duration within) {
    draining = true;
    CompletableFuture<Void> idle = new CompletableFuture<>();
    idleWaiters.add(idle);
    for (String account : List.copyOf(lanes.keySet())) {
      change(account, (l, sent) -> {
        if (l != null && l.inFlight == 0 && !l.waiting.isEmpty()) {
          send(account, l, sent);
        }
        return l;
      });
    }
    wakeDrainsWhenIdle();
    return idle.completeOnTimeout(null, within.toNanos(), TimeUnit.NANOSECONDS).thenApply(v -> {
      idleWaiters.remove(idle);
      return left();
    });
  }

  /** Completes the drains waiting when no lane has a call in flight or work waiting (each lane read under its lock). */
  private void wakeDrainsWhenIdle() {
    if (left().nothing()) {
      for (CompletableFuture<Void> w : idleWaiters) {
        w.complete(null);
      }
    }
  }

  /** The calls in flight and the work waiting in every lane, each lane read under its lock. */
  private Left left() {
    int[] counts = new int[2];
    for (String account : List.copyOf(lanes.keySet())) {
      lanes.computeIfPresent(account, (k, l) -> {
        counts[0] += l.inFlight;
        counts[1] += l.waiting.size();
        return l;
      });
    }
    return new Left(counts[0], counts[1]);
  }

  /** Hands the lane's waiting work to the connection, as calls in order; called under the lane. */
  private void send(String account, Lane l, List<Sent> sent) {
    RedisScripts here = scripts.get();
    // Admissions (and the slots given back before them, which they must see) go in one call, the
    // re-disclosures in the next: the admission's reply, which a request waits for, does not wait
    // for them. Without an admission, everything goes in one call.
    Batch urgent = new Batch();
    Batch lazy = new Batch();
    int before = sent.size();
    while (!l.waiting.isEmpty()) {
      Work w = l.waiting.poll();
      if (w instanceof Own own) {
        // What was asked before it goes first, then the charge, all on this connection now: nothing of the
        // account's is in flight (a lane sends only then), and Redis runs a connection's calls in order, so the
        // charge sees them all without waiting for their replies.
        flush(here, account, urgent, lazy, sent);
        CompletableFuture<Object> result = own.result();
        sent.add(new Sent(dispatch(() -> own.call().apply(here)), (v, e) -> {
          if (e != null) {
            result.completeExceptionally(e);
          } else {
            result.complete(v);
          }
        }));
        continue;
      }
      Batch b = w instanceof Disclose ? lazy : urgent;
      int size = argsOf(w);
      if (!b.work.isEmpty() && b.args + size > MAX_ARGS) {
        sent.add(enter(here, account, b.work));
        b.clear();
      }
      b.add(w, size);
    }
    flush(here, account, urgent, lazy, sent);
    l.inFlight += sent.size() - before;
    l.lingers = false; // everything waiting went
  }

  /**
   * Sends what the batches gathered: the admissions (with the slots given back before them) in one call, the
   * re-disclosures in the next, which the admissions' reply does not wait for; without an admission, all in one call.
   */
  private void flush(RedisScripts here, String account, Batch urgent, Batch lazy, List<Sent> sent) {
    if (!urgent.admits) {
      lazy.work.addAll(0, urgent.work);
      urgent.clear();
    }
    for (Batch b : List.of(urgent, lazy)) {
      if (!b.work.isEmpty()) {
        sent.add(enter(here, account, b.work));
        b.clear();
      }
    }
  }

  /** Work gathered for one {@code enter.lua} call. */
  private static final class Batch {
    List<Work> work = new ArrayList<>();
    int args;
    boolean admits;

    void add(Work w, int size) {
      work.add(w);
      args += size;
      admits |= w instanceof Admit;
    }

    void clear() {
      work = new ArrayList<>();
      args = 0;
      admits = false;
    }
  }

  /** A call handed to the client; one the client refuses at once is a failed call like any other. */
  private static CompletableFuture<?> dispatch(Supplier<CompletableFuture<?>> call) {
    try {
      return call.get();
    } catch (RuntimeException refused) {
      return CompletableFuture.failedFuture(refused);
    }
  }

  private static int argsOf(Work w) {
    if (w instanceof Admit a) {
      return 7 + (a.check() == null ? 0 : a.check().args());
    }
    if (w instanceof Disclose d) {
      return d.windows().size() * (2 + 2 * d.patients().size());
    }
    return 1;
  }

  /** One {@code enter.lua} call for a batch of admissions (with their hold checks), slots given back and re-disclosures. */
  private Sent enter(RedisScripts here, String account, List<Work> batch) {
    List<String> tickets = new ArrayList<>();
    Map<String, Long> lengths = new LinkedHashMap<>();
    // per window, each patient once, at its latest disclosure (many answers of a batch name the same)
    Map<String, Map<String, Long>> latest = new LinkedHashMap<>();
    List<Admit> admits = new ArrayList<>();
    List<RedisHolds.Check> checks = new ArrayList<>();
    List<Disclose> disclosures = new ArrayList<>();
    for (Work w : batch) {
      if (w instanceof GiveBack g) {
        tickets.add(g.ticket());
      } else if (w instanceof Admit a) {
        admits.add(a);
        if (a.check() != null) {
          checks.add(a.check());
        }
      } else if (w instanceof Disclose d) {
        disclosures.add(d);
        d.windows().forEach((key, length) -> {
          lengths.merge(key, length, Math::max);
          Map<String, Long> p = latest.computeIfAbsent(key, x -> new HashMap<>());
          d.patients().forEach((patient, at) -> p.merge(patient, at, Math::max));
        });
      } else {
        throw new IllegalStateException("a call of its own in a batch");
      }
    }
    EnterScript.Call call = EnterScript.of(keysOf.apply(account), tickets, lengths, latest, admits, checks);
    CompletableFuture<?> reply = dispatch(() -> here.<List<Object>>run(RedisScripts.ENTER, ScriptOutputType.MULTI, call.keys(),
        call.args()).toCompletableFuture());
    return new Sent(reply, (v, e) -> {
      if (e != null) {
        if (!tickets.isEmpty()) {
          LOG.debug("concurrency slots not given back (their leases end them): {}", e.toString());
        }
        disclosures.forEach(d -> d.written().accept(false));
        admits.forEach(a -> a.outcome().completeExceptionally(e));
        return;
      }
      List<?> r = (List<?>) v;
      disclosures.forEach(d -> d.written().accept(true));
      if (EnterScript.locked(r)) {
        Outcome locked = new Outcome(true, RedisScripts.text(r.get(1)), RedisScripts.text(r.get(2)), RedisScripts.text(r.get(3)), 0,
            0, 0);
        admits.forEach(a -> a.outcome().complete(locked));
        return;
      }
      int q = 0;
      for (int j = 0; j < admits.size(); j++) {
        long code = EnterScript.admission(r, j);
        if (admits.get(j).check() == null) {
          admits.get(j).outcome().complete(new Outcome(false, "", "", "", code, 0, 0));
        } else {
          admits.get(j).outcome().complete(new Outcome(false, "", "", "", code, EnterScript.heldUntil(r, admits.size(), q),
              EnterScript.full(r, admits.size(), q)));
          q++;
        }
      }
    });
  }
}
