package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.jspecify.annotations.Nullable;

/**
 * A {@link RedisQuotaStore}'s admissions ({@link QuotaStore#enter}, {@link QuotaStore#admit}): each an
 * {@code enter.lua} call in the account's lane ({@link RedisLanes}), with the request's hold check when its role
 * refuses at its limit ({@link RedisHolds.Check}), and, for a read this replica foresees admitted
 * ({@link AdmissionForecast}), leave to go to the EPR meanwhile. Thread-safe.
 */
final class RedisAdmissions {
  private final RedisLanes lanes;
  private final RedisHolds holds;
  private final AdmissionForecast forecast;
  private final Duration lease;

  /** {@code lease}: how long a request's concurrency slot is held when its replica never gives it back. */
  RedisAdmissions(RedisLanes lanes, RedisHolds holds, AdmissionForecast forecast, Duration lease) {
    this.lanes = requireNonNull(lanes, "lanes");
    this.holds = requireNonNull(holds, "holds");
    this.forecast = requireNonNull(forecast, "forecast");
    this.lease = requireNonNull(lease, "lease");
  }

  /** {@link QuotaStore#enter}: an admission, its answer waited for. */
  CompletionStage<RateGate.Entry> enter(String account, RateLimit limit, int permits, Instant now) {
    return entered(account, limit, permits, null, now);
  }

  /** An admission asked of Redis: its ticket (its concurrency slot's) and the script's answer. */
  private record Asked(String ticket, CompletionStage<RedisLanes.Outcome> outcome) {}

  /** An admission, with its hold check when {@code check} is not null: one {@code enter.lua} call in the account's lane. */
  private Asked ask(String account, RateLimit limit, int permits, RedisHolds.@Nullable Check check, Instant now) {
    String ticket = Long.toHexString(ThreadLocalRandom.current().nextLong()) + Long.toHexString(System.nanoTime());
    CompletableFuture<RedisLanes.Outcome> outcome = new CompletableFuture<>();
    lanes.now(account, new RedisLanes.Admit(RateGate.micros(now), RateGate.intervalMicros(limit), limit.burst(), permits,
        limit.concurrent(), ticket, now.plus(lease).toEpochMilli(), check, outcome));
    return new Asked(ticket, outcome);
  }

  /** What the answer to an admission ({@code asked}, else asked now) means: entered, refused or locked. */
  private CompletionStage<RateGate.Entry> entered(String account, RateLimit limit, int permits, @Nullable Asked asked, Instant now) {
    RateGate.Entry.Refused beyond = RateGate.beyondBurst(limit, permits);
    if (beyond != null) {
      return CompletableFuture.completedFuture(beyond);
    }
    Asked a = asked != null ? asked : ask(account, limit, permits, null, now);
    return a.outcome().handle((o, failed) -> {
      if (failed != null || o.locked() || o.code() != 0) {
        forecast.refused(account);
      }
      if (failed != null) {
        throw failed instanceof CompletionException c ? c : new CompletionException(failed);
      }
      if (o.locked()) {
        return new RateGate.Entry.Locked(new Lock(account, o.reason(), Instant.ofEpochMilli(Long.parseLong(o.since())),
            Instant.ofEpochMilli(Long.parseLong(o.until()))));
      }
      if (o.code() == 0) {
        forecast.admitted(account);
        String ticket = a.ticket();
        return new RateGate.Entry.Entered(new RateGate.Ticket(() -> {
          forecast.ended(account);
          lanes.later(account, new RedisLanes.GiveBack(ticket));
        }));
      }
      return o.code() < 0 ? RateGate.concurrencyRefusal(limit) : RateGate.rateRefusal(limit, o.code());
    });
  }

  /**
   * Lets a read go to the EPR while Redis admits it when this replica foresees the admission
   * ({@link AdmissionForecast}): the round trip to Redis then overlaps the EPR's instead of coming
   * before it. The caller holds the EPR's answer until the admission, and drops it on a refusal.
   * A request with a hold check ({@code hold}: a role that refuses answers at its limit) is never sent ahead;
   * its check goes with its admission, in the same {@code enter.lua} call.
   */
  QuotaStore.Admission admit(String account, RateLimit limit, int permits, boolean mayGoAhead,
      QuotaStore.@Nullable HoldCheck hold, Instant now) {
    if (hold != null) {
      if (RateGate.beyondBurst(limit, permits) != null) { // refused without asking Redis; the check alone, as it was asked
        return new QuotaStore.Admission(enter(account, limit, permits, now), false,
            holds.held(account, hold.limits(), hold.named(), now));
      }
      Asked asked = ask(account, limit, permits, holds.check(account, hold.limits(), hold.named(), now), now);
      return new QuotaStore.Admission(entered(account, limit, permits, asked, now), false,
          asked.outcome().thenApply(o -> RedisHolds.held(o.heldUntil(), o.full(), hold.limits())));
    }
    boolean ahead = mayGoAhead && RateGate.beyondBurst(limit, permits) == null && forecast.reserve(account, limit.concurrent());
    CompletionStage<RateGate.Entry> entry = enter(account, limit, permits, now);
    if (!ahead) {
      return new QuotaStore.Admission(entry, false);
    }
    return new QuotaStore.Admission(entry.whenComplete((e, x) -> forecast.settled(account)), true);
  }
}
