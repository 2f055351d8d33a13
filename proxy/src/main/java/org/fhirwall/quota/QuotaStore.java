package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;

/**
 * Where everything that limits a principal lives: distinct-patient windows, locks, request rate and
 * concurrency, and the event watches (id walk, EPR failures). In this process
 * ({@link LocalQuotaStore}) or shared by every replica ({@link RedisQuotaStore}); one contract test
 * suite holds both to the same answers. Every method is non-blocking; a store that cannot answer
 * completes exceptionally, and callers treat that as a refusal (never as "unlimited"). Times are
 * the caller's {@code now}, so a store follows the clock it is given.
 */
public interface QuotaStore extends AutoCloseable {

  /** Charges a response's patients atomically: all counted, or none (see {@link ChargeResult}). */
  CompletionStage<ChargeResult> charge(ChargeRequest request);

  /** The account's lock in force at {@code now}, if any. */
  CompletionStage<Optional<Lock>> lockOf(String account, Instant now);

  /** Locks the account for {@code lockFor} from {@code now} (extending a shorter lock in force). */
  CompletionStage<Lock> lock(String account, String reason, Duration lockFor, Instant now);

  /** Lifts the account's lock; true when there was one. */
  CompletionStage<Boolean> unlock(String account);

  /** Every lock in force at {@code now}. */
  CompletionStage<List<Lock>> locks(Instant now);

  /** The account's current distinct-patient counts for these windows. */
  CompletionStage<List<WindowUsage>> usage(String account, List<PatientWindow> windows, Instant now);

  /**
   * Admits a request of an account that is not locked (else {@link RateGate.Entry.Locked}), worth
   * {@code permits} requests against its rate and one slot of its concurrency (see
   * {@link RateGate}), in one step; the ticket of an admitted request must be exited once it ends.
   */
  CompletionStage<RateGate.Entry> enter(String account, RateLimit limit, int permits, Instant now);

  /**
   * An admission ({@link #enter}) and whether the request may go to the EPR before it is known:
   * {@code forwardNow} only for a read the caller allowed to go ahead, and only when the store
   * foresees the admission (a store that answers at once never does; see the Redis store). The
   * caller must hold the EPR's answer until {@code entry} admits the request, and drop it when it
   * does not.
   */
  record Admission(CompletionStage<RateGate.Entry> entry, boolean forwardNow, @Nullable CompletionStage<Optional<Held>> held) {
    public Admission {
      requireNonNull(entry, "entry");
    }

    /** An admission that asked no hold check. */
    public Admission(CompletionStage<RateGate.Entry> entry, boolean forwardNow) {
      this(entry, forwardNow, null);
    }
  }

  /**
   * {@link #enter}, and whether a read ({@code mayGoAhead}: no side effect at the EPR) may be sent to
   * the EPR while the store admits it. By default never.
   */
  default Admission admit(String account, RateLimit limit, int permits, boolean mayGoAhead, Instant now) {
    return admit(account, limit, permits, mayGoAhead, null, now);
  }

  /**
   * What {@link #held} asks for a request of a role that refuses answers at its limit: the windows of its ceiling and
   * the patients it names.
   */
  record HoldCheck(List<PatientWindow> limits, Set<String> named) {
    public HoldCheck {
      limits = List.copyOf(limits);
      named = Set.copyOf(named);
    }
  }

  /**
   * {@link #admit(String, RateLimit, int, boolean, Instant)}, and, when {@code hold} is not null, whether the request
   * is held ({@link #held}; the admission's {@code held}), asked together: a store that talks to a server asks both
   * in one round trip. A request with a hold check is never sent ahead ({@code forwardNow}: the EPR must not be
   * asked for a held request). By default the two are asked apart.
   */
  default Admission admit(String account, RateLimit limit, int permits, boolean mayGoAhead, @Nullable HoldCheck hold,
      Instant now) {
    CompletionStage<Optional<Held>> held = hold == null ? null : held(account, hold.limits(), hold.named(), now);
    return new Admission(enter(account, limit, permits, now), false, held);
  }

  /**
   * Why a request is refused before the EPR is asked ({@link #held}): until {@code until}, because
   * {@code full} is full, or (null) because an answer was refused over a limit ({@link #hold}).
   */
  record Held(Instant until, @Nullable PatientWindow full) {
    public Held {
      requireNonNull(until, "until");
    }
  }

  /**
   * Whether a request of a role that refuses answers at its limit ({@code at-limit.action: refuse})
   * must be refused before the EPR is asked: while one of {@code limits}' windows is full, or an
   * answer of the account was refused over a limit less than its retry time ago ({@link #hold}) —
   * unless the request names patients ({@code named}, charged with its answer whatever it is) and
   * every one of them is counted in each of {@code limits}' windows. Why: an answer refused over a
   * limit counts nothing, so at a full window 429 or 200 would tell, for free and without end,
   * whether an answer held a patient not yet counted. Empty when the request may go.
   */
  CompletionStage<Optional<Held>> held(String account, List<PatientWindow> limits, Set<String> named, Instant now);

  /**
   * Holds the account until {@code until} ({@link #held}; never shortening a hold in force): an
   * answer of its was refused over a limit, and its next requests could ask the same again.
   */
  CompletionStage<Void> hold(String account, Instant until, Instant now);

  /**
   * Records {@code n} events of one watch ({@code watch} names it: {@code not-found},
   * {@code epr-failure}) for the account; true when they make more than {@code max} within the
   * last {@code window} (the signal fires once per crossing, then counting starts over).
   */
  CompletionStage<Boolean> recordEvents(String watch, String account, int n, Duration window, int max, Instant now);

  /**
   * A secret every user of this store shares (e.g. the paging links' key): the one stored under
   * {@code name}, or {@code proposed} when there was none (stored from then on).
   */
  CompletionStage<byte[]> sharedSecret(String name, byte[] proposed);

  /**
   * Whether {@code key} is presented for the first time within {@code ttl}: true the first time,
   * false for every later presentation until it expires (a replay cache, e.g. of DPoP proof
   * {@code jti}s). Shared by every user of the store, so a value used on one replica is refused on
   * all of them; atomic (two replicas presenting the same key at once: exactly one gets true).
   *
   * @param now the local store's clock for the expiry; a cluster store expires the key by its own
   */
  CompletionStage<Boolean> seenOnce(String key, Duration ttl, Instant now);

  /**
   * Binds {@code key} to {@code owner} for {@code ttl} unless it is bound to someone else (e.g. a
   * bulk export's job and files to the account that kicked it off): true when {@code owner} holds
   * it afterwards (it was free, or already {@code owner}'s: then for {@code ttl} from now), false
   * when another owner does (that binding is left as it is). Never taken over before it expires.
   * Shared by every user of the store and atomic (two owners binding one key at once: exactly one
   * gets true); the key expires on its own.
   *
   * @param now the local store's clock for the expiry; a cluster store expires the key by its own
   */
  CompletionStage<Boolean> bind(String key, String owner, Duration ttl, Instant now);

  /** Whom {@code key} is bound to at {@code now} ({@link #bind}), if anyone. */
  CompletionStage<Optional<String>> ownerOf(String key, Instant now);

  /**
   * Completes normally while the store takes requests (the readiness probe's question); a store
   * that lives in this process always does. A store that keeps serving on a fallback of its own
   * while its shared part is down also does: it still enforces limits.
   */
  default CompletionStage<Void> probe() {
    return java.util.concurrent.CompletableFuture.completedFuture(null);
  }

  /**
   * Fhirwall's event loops, once they exist ({@link ClientThread}; the server builds them): a store
   * that talks to a server may give each its own connection, so that a request's calls stay on its
   * loop. Nothing by default.
   */
  default void serveOn(List<ClientThread> loops) {}

  /**
   * Fhirwall's event loops are about to stop (the server calls this after the last request ended,
   * before it stops them): the store writes what waits on them and closes their connections while
   * they still run, so each channel gives its buffers back; later calls use its own threads.
   * Nothing by default.
   */
  default void leaveLoops() {}

  @Override
  void close();
}
