package org.fhirwall.care;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.AsyncCacheLoader;
import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.fhirwall.auth.Principal;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A principal's care relationships, learned from the EPR by fhirwall's own searches ({@link
 * RelationshipQueries}) and cached per principal: a principal's first request waits for its load
 * (bounded by {@code timeout}); afterwards its relationships are used for {@code ttl}, then
 * refreshed in the background while the ones known are still used (up to {@code max-age}), so a
 * request waits for the EPR at most once per {@code ttl} — and not at all while the principal keeps
 * working. A load that fails (EPR unreachable, an error status, an unreadable answer, the timeout)
 * gives {@link CareRelationships.Unknown}: every patient unexplained (fail closed), remembered for
 * {@code ttl} so a failing EPR is not asked on every request; a refresh that fails keeps the
 * relationships known until they are {@code max-age} old.
 *
 * <p>The practitioner is the configured mapping of the token's subject, else its {@code fhirUser}
 * claim; a principal with neither (and every service account) has no relationships. Thread-safe;
 * never blocks: the cache's work runs on {@code executor}.
 */
public final class RelationshipSource implements CareLookup {
  private static final Logger LOG = LoggerFactory.getLogger(RelationshipSource.class);

  private final RelationshipSettings settings;
  private final RelationshipQueries queries;
  private final Clock clock;
  private final AsyncLoadingCache<Key, CareRelationships> cache;
  private final AtomicLong loads = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();

  private record Key(String account, String practitioner) {}

  public RelationshipSource(RelationshipSettings settings, EprReader epr, Executor executor, Ticker ticker, Clock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.clock = requireNonNull(clock, "clock");
    this.queries = new RelationshipQueries(settings, requireNonNull(epr, "epr"), executor, clock);
    long ttl = settings.ttl().toNanos();
    long maxAge = settings.maxAge().toNanos();
    this.cache = Caffeine.newBuilder()
        .executor(requireNonNull(executor, "executor"))
        .ticker(requireNonNull(ticker, "ticker"))
        .maximumSize(settings.maxPrincipals())
        .refreshAfterWrite(settings.ttl())
        .expireAfter(new Expiry<Key, CareRelationships>() {
          @Override
          public long expireAfterCreate(Key key, CareRelationships value, long currentTime) {
            return value instanceof CareRelationships.Known ? maxAge : ttl;
          }

          @Override
          public long expireAfterUpdate(Key key, CareRelationships value, long currentTime, long currentDuration) {
            return expireAfterCreate(key, value, currentTime);
          }

          @Override
          public long expireAfterRead(Key key, CareRelationships value, long currentTime, long currentDuration) {
            return currentDuration;
          }
        })
        .buildAsync(new Loader());
  }

  /** Loads for a principal, and keeps what is known when a refresh fails (until it is max-age old). */
  private final class Loader implements AsyncCacheLoader<Key, CareRelationships> {
    @Override
    public CompletableFuture<CareRelationships> asyncLoad(Key key, Executor executor) {
      return load(key);
    }

    @Override
    public CompletableFuture<CareRelationships> asyncReload(Key key, CareRelationships old, Executor executor) {
      return load(key).thenApply(fresh -> {
        if (fresh instanceof CareRelationships.Unknown && old instanceof CareRelationships.Known k && fresh(k)) {
          return old;
        }
        return fresh;
      });
    }
  }

  private CompletableFuture<CareRelationships> load(Key key) {
    loads.incrementAndGet();
    return queries.load(key.practitioner())
        .orTimeout(settings.timeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .exceptionally(e -> {
          failures.incrementAndGet();
          Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
          String why = cause instanceof TimeoutException ? "the EPR did not answer within " + settings.timeout()
              : cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
          LOG.warn("care relationships of {} could not be learned: {}", key.practitioner(), why);
          return new CareRelationships.Unknown(why);
        });
  }

  private boolean fresh(CareRelationships.Known k) {
    return k.learnedAt().plus(settings.maxAge()).isAfter(clock.instant());
  }

  /**
   * The principal's relationships: from the cache, or (once per {@code ttl} at most) from the EPR.
   * Never completes exceptionally: whatever fails is {@link CareRelationships.Unknown}.
   */
  @Override
  public CompletionStage<CareRelationships> of(Principal principal) {
    String practitioner = practitionerOf(principal);
    if (practitioner == null) {
      return CompletableFuture.completedFuture(new CareRelationships.Unknown(
          principal.kind() == Principal.Kind.SERVICE ? "a service account has no care relationships"
              : "no practitioner for this principal (no fhirUser claim, no relationships.practitioners entry)"));
    }
    try {
      return cache.get(new Key(principal.accountKey(), practitioner)).handle((r, e) -> {
        if (e != null) {
          return new CareRelationships.Unknown(String.valueOf(e.getMessage()));
        }
        if (r instanceof CareRelationships.Known k && !fresh(k)) {
          return new CareRelationships.Unknown("the relationships known are older than max-age " + settings.maxAge());
        }
        return r;
      });
    } catch (RuntimeException e) {
      return CompletableFuture.completedFuture(new CareRelationships.Unknown(e.toString()));
    }
  }

  /** {@code Practitioner/id} (or {@code PractitionerRole/id}) behind a token, null when there is none. */
  @Nullable String practitionerOf(Principal p) {
    if (p.kind() != Principal.Kind.USER) {
      return null;
    }
    String mapped = settings.practitioners().get(p.subject());
    if (mapped != null) {
      return mapped;
    }
    if (!settings.useFhirUser() || p.fhirUser() == null) {
      return null;
    }
    return RelationshipQueries.relativeReference(p.fhirUser(), "Practitioner", "PractitionerRole");
  }

  /** Loads started so far (the first of each principal, each refresh). */
  public long loads() {
    return loads.get();
  }

  /** Loads that failed (every patient of the principal unexplained meanwhile). */
  public long failures() {
    return failures.get();
  }

  /** When the relationships given were learned, for tests and metrics: now, by this source's clock. */
  Instant now() {
    return clock.instant();
  }
}
