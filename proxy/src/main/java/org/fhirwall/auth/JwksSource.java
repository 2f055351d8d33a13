package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.JWK;
import java.net.URI;
import java.net.URISyntaxException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The issuer's signing keys, fetched asynchronously (discovery document, then JWKS) and held as an
 * immutable snapshot that a refresh swaps in whole.
 *
 * <ul>
 *   <li>A lookup that the snapshot answers completes at once, on the caller's thread.
 *   <li>A lookup it cannot answer (unknown {@code kid}, no keys yet) starts a refresh, unless one is
 *       running (the lookup then waits for it) or one started less than
 *       {@code jwksRefreshMinInterval} ago (the lookup is answered from what is there): a flood of
 *       tokens with made-up {@code kid}s costs the IdP one fetch per interval.
 *   <li>Keys older than {@link #revalidateAfter()} are refetched in the background while still
 *       being used, so keys the IdP withdrew stop working within minutes.
 *   <li>When the IdP cannot be reached, the last keys keep working until they are
 *       {@code jwksMaxAge} old; after that lookups answer {@link Lookup.Unavailable} (503).
 * </ul>
 *
 * <p>Bookkeeping time comes from the injected clock. Thread-safe and lock-free: all state is in
 * atomic references to immutable values.
 */
final class JwksSource {
  private static final Logger log = LoggerFactory.getLogger(JwksSource.class);
  private static final int MAX_KEYS = 100;
  private static final Duration REVALIDATE_AFTER = Duration.ofMinutes(5);

  /** What a key lookup found. */
  sealed interface Lookup {
    /** Keys that fit the token's {@code kid} and {@code alg}; one of them must verify it. */
    record Found(List<VerificationKey> keys) implements Lookup {}

    /** The issuer's current keys include none for this token. */
    record Unknown() implements Lookup {}

    /** No current keys could be had: the token cannot be checked now. */
    record Unavailable(Duration retryAfter) implements Lookup {}
  }

  /** One fetched JWKS. */
  private record Keys(List<VerificationKey> keys, Instant fetchedAt) {}

  /** The latest refresh: when it started and when it is done (never fails). */
  private record Attempt(Instant startedAt, CompletableFuture<Void> done) {}

  private final AuthSettings settings;
  private final IdpHttp http;
  private final Clock clock;
  private final boolean needsDiscovery;
  private final AtomicReference<@Nullable Keys> keys = new AtomicReference<>();
  private final AtomicReference<@Nullable Attempt> attempt = new AtomicReference<>();
  private final AtomicReference<@Nullable URI> introspectionEndpoint = new AtomicReference<>();
  private volatile boolean lastAttemptFailed;
  private final java.util.concurrent.atomic.AtomicLong refreshes = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong failedRefreshes = new java.util.concurrent.atomic.AtomicLong();

  JwksSource(AuthSettings settings, IdpHttp http, Clock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.http = requireNonNull(http, "http");
    this.clock = requireNonNull(clock, "clock");
    AuthSettings.Introspection in = settings.introspection();
    this.needsDiscovery = settings.jwksUri() == null || (in != null && in.endpoint() == null);
  }

  /** How old keys may get before a lookup refetches them in the background. */
  Duration revalidateAfter() {
    Duration half = settings.jwksMaxAge().dividedBy(2);
    Duration soft = half.compareTo(REVALIDATE_AFTER) < 0 ? half : REVALIDATE_AFTER;
    return soft.compareTo(settings.jwksRefreshMinInterval()) > 0 ? soft : settings.jwksRefreshMinInterval();
  }

  /**
   * The keys that may have signed a token with this {@code kid} (null: any key) and {@code alg}.
   * Completes synchronously when the current keys answer; never completes exceptionally.
   */
  CompletableFuture<Lookup> find(@Nullable String kid, String alg) {
    Instant now = clock.instant();
    Keys current = fresh(now);
    if (current != null) {
      if (Duration.between(current.fetchedAt(), now).compareTo(revalidateAfter()) >= 0) {
        refresh(now);
      }
      List<VerificationKey> fit = select(current, kid, alg);
      if (!fit.isEmpty()) {
        return CompletableFuture.completedFuture(new Lookup.Found(fit));
      }
    }
    CompletableFuture<Void> running = refresh(now);
    if (running == null) {
      return CompletableFuture.completedFuture(answer(kid, alg, now));
    }
    return running.thenApply(ignored -> answer(kid, alg, clock.instant()));
  }

  /** Whether keys are cached that are young enough to use (for readiness checks). */
  boolean hasUsableKeys() {
    return fresh(clock.instant()) != null;
  }

  /**
   * Starts a refresh now unless one is running or started less than the minimum interval ago.
   *
   * @return a stage completing when the refresh (started now or running) ends, or null when
   *     rate-limited
   */
  @Nullable CompletableFuture<Void> refresh(Instant now) {
    while (true) {
      Attempt last = attempt.get();
      if (last != null && !last.done().isDone()) {
        return last.done();
      }
      if (last != null && now.isBefore(last.startedAt().plus(settings.jwksRefreshMinInterval()))) {
        return null;
      }
      Attempt mine = new Attempt(now, new CompletableFuture<>());
      if (attempt.compareAndSet(last, mine)) {
        fetch().whenComplete((fetched, error) -> {
          refreshes.incrementAndGet();
          if (error == null) {
            keys.set(fetched);
            lastAttemptFailed = false;
          } else {
            failedRefreshes.incrementAndGet();
            lastAttemptFailed = true;
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            log.warn("Could not refresh the signing keys of {}: {}", settings.issuer(), cause.toString());
          }
          mine.done().complete(null);
        });
        return mine.done();
      }
    }
  }

  /** Key fetches attempted so far. */
  long refreshes() {
    return refreshes.get();
  }

  /** Key fetches that failed so far. */
  long failedRefreshes() {
    return failedRefreshes.get();
  }

  /** The introspection endpoint named by the last discovery document, null when none was read. */
  @Nullable URI discoveredIntrospectionEndpoint() {
    return introspectionEndpoint.get();
  }

  /** How long until the next refresh may start (at least one second). */
  Duration retryAfter(Instant now) {
    Attempt last = attempt.get();
    if (last == null) {
      return Duration.ofSeconds(1);
    }
    Duration left = Duration.between(now, last.startedAt().plus(settings.jwksRefreshMinInterval()));
    return left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
  }

  private Lookup answer(@Nullable String kid, String alg, Instant now) {
    Keys current = fresh(now);
    if (current == null) {
      return new Lookup.Unavailable(retryAfter(now));
    }
    List<VerificationKey> fit = select(current, kid, alg);
    if (!fit.isEmpty()) {
      return new Lookup.Found(fit);
    }
    // The token may name a key the IdP just rotated in that we could not fetch: not its fault.
    return lastAttemptFailed ? new Lookup.Unavailable(retryAfter(now)) : new Lookup.Unknown();
  }

  private @Nullable Keys fresh(Instant now) {
    Keys current = keys.get();
    if (current == null || Duration.between(current.fetchedAt(), now).compareTo(settings.jwksMaxAge()) > 0) {
      return null;
    }
    return current;
  }

  private static List<VerificationKey> select(Keys keys, @Nullable String kid, String alg) {
    List<VerificationKey> fit = new ArrayList<>(1);
    for (VerificationKey k : keys.keys()) {
      if (k.supports(alg) && (kid == null || kid.equals(k.kid()))) {
        fit.add(k);
      }
    }
    return fit;
  }

  private CompletableFuture<Keys> fetch() {
    CompletableFuture<@Nullable URI> discoveredJwks;
    if (needsDiscovery) {
      discoveredJwks = http.getJson(settings.discoveryUrl()).thenApply(this::readDiscovery);
      if (settings.jwksUri() != null) {
        discoveredJwks = discoveredJwks.exceptionally(e -> {
          log.warn("Could not read the discovery document {}: {}", settings.discoveryUrl(), e.toString());
          return null;
        });
      }
    } else {
      discoveredJwks = CompletableFuture.completedFuture(null);
    }
    return discoveredJwks.thenCompose(discovered -> {
      URI configured = settings.jwksUri();
      URI jwksUri = configured != null ? configured : requireNonNull(discovered, "jwks_uri");
      return http.getJson(jwksUri).thenApply(jwks -> readJwks(jwksUri, jwks));
    });
  }

  /** Checks the discovery document names our issuer; remembers its introspection endpoint; returns its jwks_uri. */
  private @Nullable URI readDiscovery(JsonNode doc) {
    JsonNode issuer = doc.get("issuer");
    if (issuer == null || !issuer.isTextual() || !issuer.textValue().equals(settings.issuer())) {
      throw new CompletionException(new IllegalStateException("discovery document " + settings.discoveryUrl()
          + " names issuer " + issuer + " (expected: " + settings.issuer() + ")"));
    }
    URI introspection = optionalUrl(doc, "introspection_endpoint");
    if (introspection != null) {
      introspectionEndpoint.set(introspection);
    }
    URI jwks = optionalUrl(doc, "jwks_uri");
    if (jwks == null && settings.jwksUri() == null) {
      throw new CompletionException(new IllegalStateException("discovery document " + settings.discoveryUrl()
          + " has no jwks_uri"));
    }
    return jwks;
  }

  private @Nullable URI optionalUrl(JsonNode doc, String member) {
    JsonNode v = doc.get(member);
    if (v == null || v.isNull()) {
      return null;
    }
    try {
      URI uri = v.isTextual() ? new URI(v.textValue()) : null;
      if (uri != null && ("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    throw new CompletionException(new IllegalStateException("discovery document " + settings.discoveryUrl() + ": "
        + member + " is not an http(s) URL"));
  }

  private Keys readJwks(URI uri, JsonNode jwks) {
    JsonNode array = jwks.get("keys");
    if (array == null || !array.isArray()) {
      throw new CompletionException(new IllegalStateException(uri + ": no \"keys\" array"));
    }
    List<VerificationKey> usable = new ArrayList<>();
    for (JsonNode element : array) {
      if (usable.size() == MAX_KEYS) {
        log.warn("{} lists more than {} keys; the rest are ignored", uri, MAX_KEYS);
        break;
      }
      try {
        usable.add(VerificationKey.of(JWK.parse(element.toString()), settings.algorithms()));
      } catch (ParseException | IllegalArgumentException e) {
        log.debug("Key {} of {} not used: {}", element.path("kid").asText("(no kid)"), uri, e.getMessage());
      }
    }
    if (usable.isEmpty()) {
      throw new CompletionException(new IllegalStateException(uri + " has no usable signing key for "
          + settings.algorithms()));
    }
    return new Keys(List.copyOf(usable), clock.instant());
  }
}
