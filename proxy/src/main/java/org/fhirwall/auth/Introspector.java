package org.fhirwall.auth;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 7662 token introspection: asks the IdP whether a (locally verified) token is still active,
 * so a session ended at the IdP stops working within {@code cacheFor}. One call per token per
 * {@code cacheFor}, concurrent requests for the same token share it; results are kept under the
 * token's SHA-256, never the token. A failed call is not cached and fails the stage: the caller
 * refuses the token (fail closed). Thread-safe.
 */
final class Introspector {
  private static final Logger log = LoggerFactory.getLogger(Introspector.class);
  private static final long MAX_ENTRIES = 100_000;

  private final AuthSettings.Introspection settings;
  private final IdpHttp http;
  private final JwksSource discovery;
  private final Clock clock;
  private final String basicCredentials;
  private final AsyncCache<String, Answer> cache;

  /** What the IdP said; UNKNOWN (it could not be asked) is removed from the cache once seen. */
  private enum Answer {
    ACTIVE,
    INACTIVE,
    UNKNOWN
  }

  Introspector(AuthSettings.Introspection settings, IdpHttp http, JwksSource discovery, Executor background, Clock clock) {
    this.settings = requireNonNull(settings, "settings");
    this.http = requireNonNull(http, "http");
    this.discovery = requireNonNull(discovery, "discovery");
    this.clock = requireNonNull(clock, "clock");
    // RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined.
    this.basicCredentials = Base64.getEncoder().encodeToString(
        (form(settings.clientId()) + ":" + form(settings.clientSecret())).getBytes(StandardCharsets.UTF_8));
    Ticker ticker = () -> {
      Instant now = clock.instant();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    };
    this.cache = Caffeine.newBuilder()
        .expireAfterWrite(settings.cacheFor())
        .maximumSize(MAX_ENTRIES)
        .executor(background)
        .ticker(ticker)
        .buildAsync();
  }

  /**
   * Whether the IdP reports {@code token} active. Completes at once when a cached answer exists;
   * completes exceptionally when the IdP could not tell (unreachable, error status, unreadable).
   */
  CompletableFuture<Boolean> isActive(String token) {
    String key = PrincipalMapper.sha256(token);
    CompletableFuture<Answer> answer = cache.get(key, (k, executor) -> introspect(token));
    return answer.thenApply(a -> {
      if (a == Answer.UNKNOWN) {
        cache.asMap().remove(key, answer);
        throw new CompletionException(new IOException("the issuer could not tell whether the token is active"));
      }
      return a == Answer.ACTIVE;
    });
  }

  /** Never fails: a failure is {@link Answer#UNKNOWN}, so the cache holds no failed futures. */
  private CompletableFuture<Answer> introspect(String token) {
    return endpoint().thenCompose(uri -> http.postForm(uri, basicCredentials,
            "token=" + form(token) + "&token_type_hint=access_token"))
        .thenApply(response -> active(response) ? Answer.ACTIVE : Answer.INACTIVE)
        .exceptionally(e -> {
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          log.warn("Token introspection at {} failed: {}", settings.endpoint() != null ? settings.endpoint()
              : "the discovered endpoint", cause.toString());
          return Answer.UNKNOWN;
        });
  }

  private CompletableFuture<URI> endpoint() {
    URI configured = settings.endpoint();
    if (configured != null) {
      return CompletableFuture.completedFuture(configured);
    }
    URI discovered = discovery.discoveredIntrospectionEndpoint();
    if (discovered != null) {
      return CompletableFuture.completedFuture(discovered);
    }
    CompletableFuture<Void> refresh = discovery.refresh(clock.instant());
    if (refresh == null) {
      return CompletableFuture.failedFuture(new IOException("no introspection endpoint known yet"));
    }
    return refresh.thenApply(ignored -> {
      @Nullable URI found = discovery.discoveredIntrospectionEndpoint();
      if (found == null) {
        throw new CompletionException(new IOException("the discovery document names no introspection_endpoint"));
      }
      return found;
    });
  }

  private static boolean active(JsonNode response) {
    JsonNode active = response.get("active");
    if (active == null || !active.isBoolean()) {
      throw new CompletionException(new IOException("introspection response has no boolean \"active\""));
    }
    return active.booleanValue();
  }

  private static String form(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
