package org.fhirwall.auth;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a locked user's sessions at the identity provider, so a stolen session dies at the source,
 * not only at fhirwall: Keycloak's admin REST API ({@code POST {admin}/users/{id}/logout}), called
 * with fhirwall's own service account (client credentials; its service account needs only the
 * {@code realm-management} role {@code manage-users}). The user is the token's {@code sub}, which
 * is Keycloak's user id. Asynchronous; the token of the service account is cached until shortly
 * before it expires.
 *
 * <p>A failed logout (no answer within {@link #TIMEOUT}, a 5xx, a refused service token: the IdP
 * slow, restarting or overloaded) is tried again, after waits that double from {@link
 * Backoff#first} up to {@link Backoff#max}, until the IdP confirms it or {@link Backoff#giveUpAfter}
 * has passed since the lock: a session left open at the source must not outlive a loaded IdP's
 * bad minute. An answer that can never change (another 4xx: the user is unknown) is not repeated.
 * Each failed try is logged; the last completes the stage exceptionally, for the caller to alert on
 * (the lock at fhirwall stands either way). Never throws.
 *
 * <p>Its calls have a thread and an HTTP client of their own ({@link #start}), so that nothing
 * else fhirwall does in the background (token checks, care lookups, alerts, the state file) can
 * hold up or crowd out the logout of a stolen session. Thread-safe.
 */
public final class SessionTermination implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SessionTermination.class);
  /** How long one call to the IdP may take (a loaded IdP answers late; a call given up is work it did for nothing). */
  static final Duration TIMEOUT = Duration.ofSeconds(30);
  /** Waits between tries: 2 s, 4 s, 8 s ... up to a minute each, for 15 minutes. */
  static final Backoff BACKOFF = new Backoff(Duration.ofSeconds(2), Duration.ofMinutes(1), Duration.ofMinutes(15));

  /**
   * When to try again.
   *
   * @param first the wait after the first failed try, doubled after each further one
   * @param max the longest wait
   * @param giveUpAfter no try starts later than this after the first
   */
  record Backoff(Duration first, Duration max, Duration giveUpAfter) {
    Backoff {
      requireNonNull(first, "first");
      requireNonNull(max, "max");
      requireNonNull(giveUpAfter, "giveUpAfter");
      if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
        throw new IllegalArgumentException("backoff: first " + first + ", max " + max + " (expected: 0 < first <= max)");
      }
    }

    /** The wait after {@code failed} failed tries (1 or more). */
    Duration after(int failed) {
      Duration wait = first;
      for (int i = 1; i < failed && wait.compareTo(max) < 0; i++) {
        wait = wait.multipliedBy(2);
      }
      return wait.compareTo(max) < 0 ? wait : max;
    }
  }

  /**
   * @param tokenEndpoint where fhirwall's service account gets its token
   * @param adminBase the realm's admin API, e.g. {@code https://sso/admin/realms/fhirwall}
   */
  public record Settings(URI tokenEndpoint, URI adminBase, String clientId, String clientSecret) {
    public Settings {
      requireNonNull(tokenEndpoint, "tokenEndpoint");
      requireNonNull(adminBase, "adminBase");
      requireNonNull(clientId, "clientId");
      requireNonNull(clientSecret, "clientSecret");
    }

    /** Keycloak's endpoints for the realm an issuer URL names ({@code https://sso/realms/NAME}). */
    public static Settings keycloak(String issuer, String clientId, String clientSecret) {
      String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
      int realms = base.lastIndexOf("/realms/");
      if (realms < 0) {
        throw new IllegalArgumentException("issuer: " + issuer + " (expected: a Keycloak realm URL, .../realms/NAME)");
      }
      return new Settings(URI.create(base + "/protocol/openid-connect/token"),
          URI.create(base.substring(0, realms) + "/admin" + base.substring(realms)), clientId, clientSecret);
    }

    @Override
    public String toString() {
      return "Settings[tokenEndpoint=" + tokenEndpoint + ", adminBase=" + adminBase + ", clientId=" + clientId + "]";
    }
  }

  private record Token(String value, Instant expires) {}

  private final Settings settings;
  private final HttpClient http;
  private final Executor calls;
  private final Clock clock;
  private final AtomicReference<@Nullable Token> token = new AtomicReference<>();
  private final Backoff backoff;
  private final Duration timeout;
  private final @Nullable ExecutorService owned;
  private final LongAdder ended = new LongAdder();
  private final LongAdder retried = new LongAdder();
  private final LongAdder failed = new LongAdder();

  /**
   * With a thread of its own (a bounded queue: a flood of locks beyond it fails those logouts,
   * which are alerted on) and an HTTP client on that thread. {@link #close} stops the thread.
   */
  public static SessionTermination start(Settings settings, Clock clock) {
    ThreadPoolExecutor thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), r -> {
      Thread t = new Thread(r, "fhirwall-idp-logout");
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.AbortPolicy());
    // HTTP/1.1: a connection per call in flight, never one multiplexed (h2c) connection whose stall holds every try
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
        .executor(thread).build();
    return new SessionTermination(settings, http, thread, clock, BACKOFF, TIMEOUT, thread);
  }

  SessionTermination(Settings settings, HttpClient http, Executor calls, Clock clock, Backoff backoff, Duration timeout) {
    this(settings, http, calls, clock, backoff, timeout, null);
  }

  private SessionTermination(Settings settings, HttpClient http, Executor calls, Clock clock, Backoff backoff, Duration timeout,
      @Nullable ExecutorService owned) {
    this.settings = requireNonNull(settings, "settings");
    this.http = requireNonNull(http, "http");
    this.calls = requireNonNull(calls, "calls");
    this.clock = requireNonNull(clock, "clock");
    this.backoff = requireNonNull(backoff, "backoff");
    this.timeout = requireNonNull(timeout, "timeout");
    this.owned = owned;
  }

  /**
   * Logs the user {@code subject} out of every session at the IdP, trying again as the class comment
   * says. Returns at once (the calls start on its own thread: the caller may be an event loop).
   */
  public CompletionStage<Void> endSessions(String subject) {
    Instant giveUp = clock.instant().plus(backoff.giveUpAfter());
    CompletableFuture<Void> done;
    try {
      done = CompletableFuture.supplyAsync(() -> attempt(subject, 1, giveUp), calls).thenCompose(s -> s);
    } catch (RuntimeException refused) { // its queue is full, or fhirwall is stopping
      done = CompletableFuture.failedFuture(refused);
    }
    return done.whenComplete((ok, e) -> (e == null ? ended : failed).increment());
  }

  /** Users whose sessions the IdP ended. */
  public long ended() {
    return ended.sum();
  }

  /** Tries that failed and were tried again. */
  public long retried() {
    return retried.sum();
  }

  /** Users whose sessions could not be ended (given up on, or the IdP's answer can never change). */
  public long failed() {
    return failed.sum();
  }

  private CompletionStage<Void> attempt(String subject, int tryNumber, Instant giveUp) {
    CompletionStage<Void> tried;
    try {
      tried = logout(subject);
    } catch (RuntimeException refused) { // the client or its thread refused the call at once
      tried = CompletableFuture.failedFuture(refused);
    }
    return tried.handle((ok, e) -> {
      if (e == null) {
        return CompletableFuture.<Void>completedFuture(null);
      }
      Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
      Duration wait = backoff.after(tryNumber);
      if (cause instanceof Final || clock.instant().plus(wait).isAfter(giveUp)) {
        return CompletableFuture.<Void>failedFuture(cause);
      }
      retried.increment();
      LOG.warn("ending the sessions of a locked user at the IdP failed (try {}): {}; trying again in {}", tryNumber, cause.toString(),
          wait);
      CompletableFuture<Void> next = new CompletableFuture<>();
      // The JDK's delayer hands the try to its thread; a refusal there (a full queue, a stop) ends the
      // stage instead of being lost in the delayer, where nobody would hear of the logout again.
      Executor handOff = task -> {
        try {
          calls.execute(task);
        } catch (RuntimeException refused) {
          next.completeExceptionally(refused);
        }
      };
      try {
        CompletableFuture.delayedExecutor(wait.toMillis(), TimeUnit.MILLISECONDS, handOff).execute(() -> {
          try {
            attempt(subject, tryNumber + 1, giveUp).whenComplete((v, x) -> {
              if (x == null) {
                next.complete(null);
              } else {
                next.completeExceptionally(x);
              }
            });
          } catch (RuntimeException unexpected) {
            next.completeExceptionally(unexpected);
          }
        });
      } catch (RuntimeException refused) {
        next.completeExceptionally(refused);
      }
      return next;
    }).thenCompose(s -> s);
  }

  /** An answer of the IdP that another try would not change. */
  private static final class Final extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    Final(String message) {
      super(message);
    }
  }

  private CompletionStage<Void> logout(String subject) {
    return token().thenCompose(t -> {
      URI logout = URI.create(settings.adminBase() + "/users/" + URLEncoder.encode(subject, UTF_8).replace("+", "%20") + "/logout");
      HttpRequest req = HttpRequest.newBuilder(logout).timeout(timeout).header("Authorization", "Bearer " + t)
          .POST(HttpRequest.BodyPublishers.noBody()).build();
      return http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).thenApplyAsync(r -> {
        if (r.statusCode() == 401 || r.statusCode() == 403) {
          token.set(null);
        }
        if (r.statusCode() / 100 != 2) {
          String message = "the IdP answered " + r.statusCode() + " to the logout of the user's sessions";
          boolean lasting = r.statusCode() / 100 == 4 && r.statusCode() != 401 && r.statusCode() != 403
              && r.statusCode() != 408 && r.statusCode() != 429;
          throw lasting ? new Final(message) : new IllegalStateException(message);
        }
        return null;
      }, calls);
    });
  }

  private CompletableFuture<String> token() {
    Token cached = token.get();
    if (cached != null && clock.instant().isBefore(cached.expires())) {
      return CompletableFuture.completedFuture(cached.value());
    }
    String basic = Base64.getEncoder().encodeToString((URLEncoder.encode(settings.clientId(), UTF_8) + ":"
        + URLEncoder.encode(settings.clientSecret(), UTF_8)).getBytes(UTF_8));
    HttpRequest req = HttpRequest.newBuilder(settings.tokenEndpoint()).timeout(timeout)
        .header("Content-Type", "application/x-www-form-urlencoded").header("Authorization", "Basic " + basic)
        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")).build();
    return http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).thenApplyAsync(r -> {
      if (r.statusCode() != 200) {
        throw new IllegalStateException("the IdP refused fhirwall's service account a token (" + r.statusCode() + ")");
      }
      try {
        JsonNode json = IdpHttp.STRICT_JSON.readValue(r.body());
        String value = json.path("access_token").asText("");
        if (value.isEmpty()) {
          throw new IllegalStateException("no access_token in the IdP's answer");
        }
        long lifetime = Math.max(0, json.path("expires_in").asLong(60) - 30);
        token.set(new Token(value, clock.instant().plusSeconds(lifetime)));
        return value;
      } catch (java.io.IOException e) {
        throw new IllegalStateException("unreadable token answer from the IdP", e);
      }
    }, calls);
  }

  /** Stops the thread of its own, if it has one (pending tries are dropped: fhirwall is stopping). */
  @Override
  public void close() {
    if (owned != null) {
      owned.shutdownNow();
    }
  }
}
