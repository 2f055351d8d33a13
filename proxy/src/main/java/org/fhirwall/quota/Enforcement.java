package org.fhirwall.quota;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jspecify.annotations.Nullable;
import org.slf4j.LoggerFactory;

/**
 * What the quota stage does for one request, in the order the sequencer asks: is the account
 * locked; may it send this many requests now; may this response's patients be charged (and what
 * happens at a limit); and the two signals that lock or alert on their own (an id walk, a
 * principal that makes the EPR fail); whose a bulk export's job and files are. Plain Java over
 * the {@link QuotaStore}: every answer is a value, a store failure completes exceptionally and
 * callers refuse (never "unlimited"). Thread-safe.
 */
public final class Enforcement {
  /** The watch of answers that found nothing (an id walk). */
  static final String NOT_FOUND = LocalQuotaStore.NOT_FOUND;
  /** The watch of EPR failures and timeouts caused by one principal. */
  static final String EPR_FAILURE = "epr-failure";

  private final QuotaStore store;
  private final int maxConcurrentShare;
  private final FailureRules failureRules;

  /**
   * When one principal's requests make the EPR fail: more than {@code max} failures or timeouts
   * within {@code window} throttle (lock) it for {@code throttleFor}, well before the EPR-wide
   * circuit breaker would open for everyone.
   */
  public record FailureRules(int max, Duration window, Duration throttleFor) {
    public static final FailureRules DEFAULT = new FailureRules(5, Duration.ofMinutes(1), Duration.ofMinutes(5));

    public FailureRules {
      if (max < 1) {
        throw new IllegalArgumentException("max: " + max + " (expected: >= 1)");
      }
      requireNonNull(window, "window");
      requireNonNull(throttleFor, "throttleFor");
    }
  }

  /**
   * The outcome of a charge: counted, or over a limit (and the lock that followed, if the role
   * locks). {@link #note()} is the store's remark for the audit record, if any (e.g. a replica
   * charging under its own share of the limits while the shared store is unreachable).
   */
  public sealed interface Charged {
    ChargeResult result();

    default @Nullable String note() {
      return result().note();
    }

    record Admitted(ChargeResult.Admitted result) implements Charged {}

    record OverLimit(ChargeResult.Refused result, @Nullable Lock lock) implements Charged {}

    /** The account is held ({@link ChargeRequest#hold}): the answer is not released, nothing was counted. */
    record Held(ChargeResult.Held result) implements Charged {}
  }

  /**
   * A signal that crossed its threshold: {@code detail} says what (patient-free), {@code lock} is
   * the lock it set, or null when it only alerts.
   */
  public record Signal(String kind, String detail, @Nullable Lock lock) {}

  /**
   * @param maxConcurrentShare the most requests one principal may have in flight whatever its
   *     role says: a share of the EPR's bulkhead, so that one principal can never take it all
   */
  public Enforcement(QuotaStore store, int maxConcurrentShare, FailureRules failureRules) {
    if (maxConcurrentShare < 1) {
      throw new IllegalArgumentException("maxConcurrentShare: " + maxConcurrentShare + " (expected: >= 1)");
    }
    this.store = requireNonNull(store, "store");
    this.maxConcurrentShare = maxConcurrentShare;
    this.failureRules = requireNonNull(failureRules, "failureRules");
  }

  public QuotaStore store() {
    return store;
  }

  /** The account's lock in force, if any. */
  public CompletionStage<Optional<Lock>> lockOf(String account, Instant now) {
    return store.lockOf(account, now);
  }

  /**
   * Admits a request of an account that is not locked, worth {@code permits} against the rate and one slot of the
   * concurrency (at most the principal's share of the EPR, whatever the role says), whether a read ({@code mayGoAhead})
   * may be sent to the EPR while the store admits it, and, for a role that refuses at its limit ({@code hold}), whether
   * the request must be refused before the EPR is asked, asked with it (see {@link QuotaStore#admit}).
   */
  public QuotaStore.Admission admit(String account, RateLimit limit, int permits, boolean mayGoAhead,
      QuotaStore.@Nullable HoldCheck hold, Instant now) {
    return store.admit(account, bounded(limit), permits, mayGoAhead, hold, now);
  }

  private RateLimit bounded(RateLimit limit) {
    return limit.concurrent() <= maxConcurrentShare ? limit : new RateLimit(limit.perSecond(), limit.burst(), maxConcurrentShare);
  }

  /**
   * Charges a response's patients; over a limit with {@code lockFor} set, the account is locked
   * too (for {@code lockFor}, with {@code reason}); without, it is held until the response would
   * fit ({@link QuotaStore#hold}).
   */
  public CompletionStage<Charged> charge(ChargeRequest request, @Nullable Duration lockFor) {
    return store.charge(request).thenCompose(result -> {
      if (result instanceof ChargeResult.Admitted admitted) {
        return CompletableFuture.completedFuture(new Charged.Admitted(admitted));
      }
      if (result instanceof ChargeResult.Held held) {
        return CompletableFuture.completedFuture(new Charged.Held(held));
      }
      ChargeResult.Refused refused = (ChargeResult.Refused) result;
      if (lockFor == null) { // the account is held until the answer would fit: its next requests cannot ask again
        return store.hold(request.account(), request.now().plus(refused.retryAfter()), request.now()).handle((v, e) -> {
          if (e != null) {
            LoggerFactory.getLogger(Enforcement.class).warn("the hold of an account refused over a limit could not be "
                + "stored: {}", e.toString());
          }
          return new Charged.OverLimit(refused, null);
        });
      }
      return store.lock(request.account(), limitText(refused.breached()) + " reached", lockFor, request.now())
          .thenApply(lock -> new Charged.OverLimit(refused, lock));
    });
  }

  /**
   * How long a bulk export's job and files stay bound to the account that kicked it off, from each
   * time they are bound (the kick-off binds the job; each manifest relayed binds it and its files).
   */
  public static final Duration EXPORT_BINDING = Duration.ofHours(24);

  /** Whom each of {@code keys} is bound to ({@link QuotaStore#ownerOf}); fails when any lookup fails. */
  public CompletionStage<Map<String, Optional<String>>> owners(Collection<String> keys, Instant now) {
    Map<String, CompletableFuture<Optional<String>>> each = new LinkedHashMap<>();
    for (String k : keys) {
      each.put(k, store.ownerOf(k, now).toCompletableFuture());
    }
    return CompletableFuture.allOf(each.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
      Map<String, Optional<String>> owners = new LinkedHashMap<>();
      each.forEach((k, f) -> owners.put(k, f.join()));
      return owners;
    });
  }

  /**
   * Binds each of {@code keys} to {@code account} for {@link #EXPORT_BINDING}
   * ({@link QuotaStore#bind}); completes with the keys another account holds (left as they are),
   * none when all are the account's afterwards.
   */
  public CompletionStage<List<String>> bind(String account, Collection<String> keys, Instant now) {
    Map<String, CompletableFuture<Boolean>> each = new LinkedHashMap<>();
    for (String k : keys) {
      each.put(k, store.bind(k, account, EXPORT_BINDING, now).toCompletableFuture());
    }
    return CompletableFuture.allOf(each.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
      List<String> others = new ArrayList<>();
      each.forEach((k, f) -> {
        if (!f.join()) {
          others.add(k);
        }
      });
      return others;
    });
  }

  /** "the 1h limit of 60 distinct patients", "the 24h limit of 10 distinct patients outside the principal's care relationships" */
  public static String limitText(WindowUsage w) {
    PatientWindow pw = w.window();
    if (pw.unexplained()) {
      return "the " + PatientWindow.nameOf(pw.length()) + " limit of " + pw.max()
          + " distinct patients outside the principal's care relationships (unexplained)";
    }
    return "the " + pw.name() + " limit of " + pw.max() + " distinct patients";
  }

  /**
   * Records {@code n} answers that found nothing (a 404 read, bundle entries with 404); past the
   * role's threshold the signal fires: with {@code lockFor} set the account is locked.
   */
  public CompletionStage<Optional<Signal>> notFound(String account, int n, Duration window, int max,
      @Nullable Duration lockFor, Instant now) {
    return store.recordEvents(NOT_FOUND, account, n, window, max, now).thenCompose(crossed -> {
      if (!crossed) {
        return CompletableFuture.completedFuture(Optional.<Signal>empty());
      }
      return notFoundSignal(account, window, max, lockFor, now);
    });
  }

  private CompletionStage<Optional<Signal>> notFoundSignal(String account, Duration window, int max,
      @Nullable Duration lockFor, Instant now) {
    String detail = "more than " + max + " reads of records that do not exist within " + window + " (an id walk)";
    if (lockFor == null) {
      return CompletableFuture.completedFuture(Optional.of(new Signal("enumeration-suspected", detail, null)));
    }
    return store.lock(account, detail, lockFor, now).thenApply(l -> Optional.of(new Signal("enumeration-suspected", detail, l)));
  }

  /**
   * Records one EPR failure or timeout caused by a request of {@code account}; past the threshold
   * the account is throttled (locked for a short while) and the signal fires.
   */
  public CompletionStage<Optional<Signal>> upstreamFailed(String account, Instant now) {
    FailureRules r = failureRules;
    return store.recordEvents(EPR_FAILURE, account, 1, r.window(), r.max(), now).thenCompose(crossed -> {
      if (!crossed) {
        return CompletableFuture.completedFuture(Optional.<Signal>empty());
      }
      String detail = "more than " + r.max() + " of this principal's requests made the EPR fail or time out within "
          + r.window() + "; throttled for " + r.throttleFor();
      return store.lock(account, detail, r.throttleFor(), now)
          .thenApply(l -> Optional.of(new Signal("epr-failures", detail, l)));
    });
  }
}
